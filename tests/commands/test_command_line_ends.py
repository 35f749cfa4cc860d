"""A command is a line of its own as GitHub shows the comment: Markdown ends lines at \\n, \\r\\n
and \\r only. str.splitlines() also broke at U+2028, U+2029, U+0085 and form feeds, which
GitHub shows inside the line, so a pasted log line ran the command after it."""

from __future__ import annotations

import pytest

from bot.core.commands import parse_commands


@pytest.mark.parametrize("sep", ["\u2028", "\u2029", "\x85", "\x0c", "\x0b", "\x1e"])
def test_a_command_after_a_separator_markdown_does_not_break_at_is_none(sep: str) -> None:
    assert parse_commands(f"log line{sep}/smolbot ignore") == ([], [])


@pytest.mark.parametrize("sep", ["\n", "\r\n", "\r"])
def test_markdown_s_line_endings_start_a_command_line(sep: str) -> None:
    commands, rejected = parse_commands(f"Thanks!{sep}/smolbot ignore{sep}")
    assert [c.verb for c in commands] == ["ignore"] and rejected == []
