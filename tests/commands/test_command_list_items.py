"""A list item's text column is kept from its marker's line: a fence, <pre> or comment opened on
a line after it (its continuation lines) ends with the item too, as GitHub ends it, so a command
after the item runs. A paragraph GitHub shows as a setext heading, or a line inside a code span
that runs over lines, is no command."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.commands import Command, parse_commands
from bot.jobs.commands import handle_comment_event
from tests.commands.conftest import REPO, comment_payload

STEPS = (
    "Steps I tried:\n"
    "1. reinstall\n"
    "   ```\n"
    "   pip install -U app\n"
    "2. clear the cache\n"
    "\n"
    "/smolbot ignore\n"
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (STEPS, [Command("ignore")]),
        ("- a\n  ```\n  code\n/smolbot ignore", [Command("ignore")]),
        ("1. a\n\n   ~~~\n   code\n\n/smolbot ignore", [Command("ignore")]),
        ("- a\n  <pre>\n  code\n/smolbot ignore", [Command("ignore")]),
        ("- a\n  <!-- hint\n  more\n/smolbot ignore", [Command("ignore")]),
        # a thematic break ends the list (the fence after it is no item's), and is no paragraph
        ("- x\n---\n  ```\n```\n/smolbot summarize", [Command("summarize")]),
        ("- x\n* * *\n  ```\n```\n/smolbot summarize", [Command("summarize")]),
        ("- x\n---\n/smolbot summarize\n===", []),
        ("---\n/smolbot ignore", [Command("ignore")]),
        # nested: the inner item ends, the outer goes on, and its own fence with it
        ("- a\n  - b\n    ```\n    code\n  c\n/smolbot ignore", [Command("ignore")]),
        ("- a\n  - b\n  ```\n  /smolbot ignore\n  ```\n/smolbot summarize", [Command("summarize")]),
        # a lazy line of the item's paragraph keeps the item open: the fence is still in it
        ("1. a\nlazy\n   ```\n   code\n/smolbot ignore", [Command("ignore")]),
        # still code: the command inside the item's fence, or after a fence not in an item
        ("1. a\n   ```\n   /smolbot ignore\n   ```", []),
        ("1. a\n\n```\ncode\n/smolbot ignore", []),
    ],
)
def test_a_block_opened_on_a_list_item_s_continuation_line_ends_with_the_item(
    body: str, expected: list[Command]
) -> None:
    assert parse_commands(body, REPO)[0] == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/smolbot ignore\n===", []),
        ("/smolbot ignore\n---", []),
        ("Please\n/smolbot ignore\n=====  ", []),
        ("- a\n\n  /smolbot ignore\n  ---", []),
        # not an underline: a blank line between, or a lazy line less indented than the item
        ("/smolbot ignore\n\n---", [Command("ignore")]),
        ("- a\n\n  /smolbot ignore\n---", [Command("ignore")]),
        ("/smolbot ignore\n/smolbot summarize\n\n===", [Command("ignore"), Command("summarize")]),
    ],
)
def test_a_setext_heading_is_no_command(body: str, expected: list[Command]) -> None:
    assert parse_commands(body, REPO)[0] == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Try `\n/smolbot ignore\n` to stop it", []),
        ("Run ``\n/smolbot ignore\n`` here", []),
        ("- Try `\n  /smolbot ignore\n  ` here", []),
        # no span: the runs differ, a backslash makes the backtick text, or a blank line ends
        # the paragraph before the closing backtick
        ("Run ``\n/smolbot ignore\n` here", [Command("ignore")]),
        ("A \\`\n/smolbot ignore\n` here", [Command("ignore")]),
        ("Try `\n\n/smolbot ignore\n` here", [Command("ignore")]),
        ("`a` and `b`\n/smolbot ignore", [Command("ignore")]),
    ],
)
def test_a_code_span_over_lines_is_no_command(body: str, expected: list[Command]) -> None:
    assert parse_commands(body, REPO)[0] == expected


def test_the_command_after_a_list_item_s_code_block_runs(world: Any) -> None:
    state, ctx = world
    n = state.add_issue(REPO, "Crash").number
    handle_comment_event(ctx, "c1", comment_payload(n, STEPS, "maint", on=state))
    assert ctx.store.ignored_by(REPO, n) == "maint"
