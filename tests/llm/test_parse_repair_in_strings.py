"""The JSON repair fixes what is broken around the values, never the words inside them (a
first-response comment is posted as it parses), and an answer it had to fix says it was repaired
(its confidence is lowered for it)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from bot.jobs.triage import FirstResponse
from bot.llm.parse import parse_answer

TEXT = '{"comment": "Thanks! None of the related issues is the same.",}'


class Reply(BaseModel):
    comment: str
    sure: bool = False
    extra: str | None = None


def test_repair_keeps_the_words_of_string_values():
    parsed = parse_answer(TEXT, FirstResponse)
    assert parsed.value is not None
    assert parsed.value.comment == "Thanks! None of the related issues is the same."


def test_a_repaired_answer_says_so():
    parsed = parse_answer(TEXT, FirstResponse)
    assert parsed.repaired


@pytest.mark.parametrize(
    ("text", "comment", "sure", "extra"),
    [
        # Python literals outside strings are fixed, inside strings kept
        (
            '{"comment": "True, False or None?", "sure": True, "extra": None}',
            "True, False or None?",
            True,
            None,
        ),
        ('{"comment": "a \\"None\\" here", "sure": False,}', 'a "None" here', False, None),
        # a comma before a bracket inside a string is the writer's, not a trailing comma
        ('{"comment": "see (a, ) and [b, ]", "extra": "x",}', "see (a, ) and [b, ]", False, "x"),
        ('{"comment": "odd, }", "sure": True}', "odd, }", True, None),
    ],
)
def test_repairs_stay_outside_strings(text, comment, sure, extra):
    parsed = parse_answer(text, Reply)
    assert parsed.value is not None, parsed.error
    assert (parsed.value.comment, parsed.value.sure, parsed.value.extra) == (comment, sure, extra)
    assert parsed.repaired


def test_clean_json_is_not_repaired():
    parsed = parse_answer('{"comment": "None of these, ]", "sure": true}', Reply)
    assert parsed.value is not None and parsed.value.comment == "None of these, ]"
    assert not parsed.repaired
