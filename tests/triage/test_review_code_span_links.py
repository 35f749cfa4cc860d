"""Links, e-mail addresses and #N inside code spans counted as invented, though GitHub links
nothing in a code span: "The `git@github.com` permission error" was refused as the link
mailto:git@github.com. They are read in the text less its code spans where the backticks' pairing
is sure (as mentions are); where it is not, the whole text still counts."""

from __future__ import annotations

import pytest

from bot.core.actions import Comment
from bot.core.checks import check_text
from bot.core.config import Kind
from bot.core.triage import IssueSnapshot, first_response_actions

ISSUE = IssueSnapshot(
    "o/r",
    7,
    "git push fails: git@github.com Permission denied",
    "ssh to git@github.com fails, see http://localhost:8080",
    "alice",
)


@pytest.mark.parametrize(
    "text",
    [
        "Thanks, @alice! The `git@github.com` permission error looks like a bug; a maintainer "
        "will look at it.",
        "Thanks! The error at `http://localhost:8080` looks like a bug; a maintainer will look.",
        "Thanks! The `www.example.com` lookup and ``#99 in `main` `` fail; a maintainer will look.",
        "Thanks! `o/r#5` and `GH-12` fail the same way; a maintainer will look.",
    ],
)
def test_a_link_or_reference_in_a_code_span_is_not_invented(text: str) -> None:
    assert check_text(text, allowed_numbers=(7,), allowed_people=("alice",)).ok
    actions = first_response_actions(
        text, issue=ISSUE, related=(), people=(), enabled=True, kind=Kind.BUG
    )
    assert [a for a in actions if isinstance(a, Comment)], actions


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        # outside the span: still a link
        ("Thanks! `ssh` to git@evil.example fails.", "invented link: mailto:git@evil.example"),
        # backticks across a blank line pair with nothing: the link is plain text, linked
        ("Thanks `for this.\n\nSee http://evil.example/x` now.", "invented link: http://"),
        # inside HTML the pairing is unsure
        ("Thanks <span>`http://evil.example/y`</span>.", "invented link: http://"),
        ("Thanks `a` and `b #99 here.", "invented issue number: #99"),  # one left unpaired
        ("Thanks <b>`x`</b> `#99`.", "invented issue number: #99"),
    ],
)
def test_where_the_pairing_is_unsure_or_outside_a_span_it_still_counts(
    text: str, problem: str
) -> None:
    problems = check_text(text).problems
    assert any(p.startswith(problem) for p in problems), problems
