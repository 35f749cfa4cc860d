"""Turning model text into validated values: clean, repaired, or refused."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from bot.llm.parse import first_object, parse_answer


class Line(BaseModel):
    line: str
    score: int = 0


@pytest.mark.parametrize(
    ("text", "repaired", "line"),
    [
        ('{"line": "ok"}', False, "ok"),
        ('Sure! Here it is:\n```json\n{"line": "fenced"}\n```', True, "fenced"),
        ('The answer is {"line": "inside {braces}", "score": 2,} thanks', True, "inside {braces}"),
        ('{"line": "cut off', True, "cut off"),
        ("{'line': 'single'}".replace("'", '"') + " trailing", True, "single"),
    ],
)
def test_repairs(text: str, repaired: bool, line: str) -> None:
    p = parse_answer(text, Line)
    assert p.value is not None and p.value.line == line
    assert p.repaired is repaired


@pytest.mark.parametrize(
    "text",
    ["I think it is a bug!!", '{"score": 3}', '["line"]', '{"line": 5, "score": "x"}', ""],
)
def test_garbage_gives_no_value(text: str) -> None:
    p = parse_answer(text, Line)
    assert p.value is None
    assert p.error


def test_first_object_skips_braces_in_strings() -> None:
    assert first_object('x {"a": "}"} y') == '{"a": "}"}'
    assert first_object("no object") is None


@pytest.mark.parametrize(
    "text",
    [
        '{"line": "Thanks for the report! The settings page in dark mode shows dark grey',
        'Sure! {"line": "cut", "score": 1',
        '```json\n{"line": "fenced but cut"',
    ],
)
def test_a_cut_off_generation_is_not_repaired_into_an_answer(text: str) -> None:
    assert parse_answer(text, Line).value is not None  # what a repair would make of it
    p = parse_answer(text, Line, cut_off=True)
    assert p.value is None and p.error


def test_a_whole_answer_that_used_every_token_is_kept() -> None:
    p = parse_answer('{"line": "exactly at the limit"}', Line, cut_off=True)
    assert p.value is not None and not p.repaired


@pytest.mark.parametrize("cut_off", [False, True])
def test_an_answer_nested_past_the_parsers_depth_is_no_answer(cut_off: bool) -> None:
    """A model stuck repeating `[` (or talked into it): json.loads raised RecursionError, which
    left ask() and failed the job instead of its cautious path."""
    text = '{"line": ' + "[" * 5000 + "]" * 5000 + "}"
    parsed = parse_answer(text, Line, cut_off=cut_off)
    assert parsed.value is None and parsed.error.startswith("not JSON")
