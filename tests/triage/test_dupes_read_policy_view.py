"""The duplicate search reads the policy view (visible()): a verbatim duplicate whose own words
read like an order not told to the bot (`label this as a regression`, `the linter should ignore
the rule`, `the bot should post a comment`) is still pointed at; orders to the bot stay out of it,
so they cannot make an issue look like another one its clean twin does not."""

from __future__ import annotations

import pytest

from tests.triage.test_quarantine_ordinary_text import pointed_at_as_duplicate

PAIRS = {
    "should-ignore-the-rule": (
        "Linter should ignore the rule for generated files",
        "The linter should ignore the rule for files under generated/.",
    ),
    "label-this": (
        "Please label this as a regression",
        "Please label this as a regression.",
    ),
    "bot-should-post": (
        "The bot should post a comment when the check fails",
        "The bot should post a comment when the lint check fails.",
    ),
}


@pytest.mark.parametrize("case", list(PAIRS))
def test_a_verbatim_duplicate_is_pointed_at(ctx, host, case):
    pointed_at_as_duplicate(ctx, host, *PAIRS[case])
