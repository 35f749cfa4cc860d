"""Ranking: table tests for the signals and their explanations, property tests for the order."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.actions import Comment
from bot.core.duplicates import close_as_duplicate_actions
from bot.core.ranking import (
    Change,
    Note,
    Thread,
    duplicate_links,
    merged_weights,
    rank,
    waiting_state,
)

UNTIL = datetime(2026, 11, 23, 9, tzinfo=UTC)
SINCE = UNTIL - timedelta(days=7)


def ago(days: float) -> datetime:
    return UNTIL - timedelta(days=days)


def thread(number: int, **kw: object) -> Thread:
    base = Thread(
        number=number, title=f"issue {number}", state="open", author="ann", created_at=ago(20)
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_security_then_regression_then_the_rest() -> None:
    threads = [
        thread(1, reactions=40),
        thread(2, labels=("regression",)),
        thread(3, labels=("security",)),
    ]
    assert [r.thread.number for r in rank(threads, SINCE, UNTIL)] == [3, 2, 1]


def test_explanation_names_reactions_duplicates_and_waiting() -> None:
    talk = (Note("bob", ago(10)), Note("ann", ago(9)))  # the author answered 9 days ago
    original = thread(10, reactions=12, comments=talk, comment_count=2)
    dupes = [
        thread(
            11 + i,
            state="closed",
            author=f"u{i}",
            comments=(Note("m", ago(8), True, body="Duplicate of #10"),),
        )
        for i in range(3)
    ]
    (top,) = rank([original, *dupes], SINCE, UNTIL)
    assert top.duplicates == (11, 12, 13)
    assert top.why == (
        "12 reactions",
        "3 duplicates",
        "5 people",
        "waiting on a maintainer for 9 days",
    )


def test_weights_from_config_override_defaults_and_unknown_names_are_ignored() -> None:
    w = merged_weights({"reactions": 0, "nonsense": 5})
    assert w["reactions"] == 0 and "nonsense" not in w
    a, b = thread(1, reactions=50), thread(2, created_at=ago(1))
    assert [r.thread.number for r in rank([a, b], SINCE, UNTIL)] == [1, 2]
    quiet = {"reactions": 0, "waiting_days": 0}
    assert [r.thread.number for r in rank([a, b], SINCE, UNTIL, quiet)] == [2, 1]


def test_closed_issues_prs_and_digest_issues_are_not_ranked() -> None:
    threads = [
        thread(1, state="closed"),
        thread(2, is_pr=True),
        thread(3, labels=("digest",)),
        thread(4),
        thread(5, labels=("Digest",)),  # GitHub's labels match case aside
    ]
    assert [r.thread.number for r in rank(threads, SINCE, UNTIL)] == [4]


def test_waiting_states() -> None:
    assert waiting_state(thread(1)) is not None
    assert waiting_state(thread(1)).on == "maintainer"  # type: ignore[union-attr]
    asked = Note("mia", ago(3), maintainer=True, body="Which version?")
    answered = thread(2, comments=(asked,), comment_count=1)
    assert waiting_state(answered).on == "author"  # type: ignore[union-attr]
    replied = replace(answered, comments=(*(answered.comments or ()), Note("ann", ago(2))))
    w = waiting_state(replied)
    assert w is not None and (w.on, w.days(UNTIL)) == ("maintainer", 2)
    info = thread(
        3,
        labels=("needs-info",),
        events=(Change("labeled", "mia", ago(19), "needs-info"),),
    )
    w = waiting_state(info)
    assert w is not None and (w.on, w.days(UNTIL)) == ("author", 19)
    upper = replace(
        info, labels=("Needs-Info",), events=(Change("labeled", "mia", ago(19), "Needs-Info"),)
    )
    w = waiting_state(upper)
    assert w is not None and (w.on, w.days(UNTIL)) == ("author", 19)
    bot_only = thread(4, comments=(Note("smolbot[bot]", ago(1), bot=True),), comment_count=1)
    assert waiting_state(bot_only).on == "maintainer"  # type: ignore[union-attr]
    assert waiting_state(thread(5, comments=None, comment_count=3)) is None  # not fetched
    assert waiting_state(thread(6, author_maintainer=True)) is None
    assert waiting_state(thread(7, state="closed")) is None


def test_duplicate_links_ignore_self_references() -> None:
    said = "Duplicate of #5\nDuplicate of #2"
    t = thread(5, state="closed", comments=(Note("m", ago(1), True, body=said),))
    assert duplicate_links([t]) == {2: (5,)}


def _bot_closing(number: int, original: int) -> str:
    """The comment the bot posts for a maintainer's `/smolbot duplicate #original`."""
    (comment,) = [
        a for a in close_as_duplicate_actions(number, original, "mia") if a.kind == "comment"
    ]
    assert isinstance(comment, Comment)
    return comment.body


@pytest.mark.parametrize(
    ("state", "maintainer", "bot", "body", "counted"),
    [
        ("closed", True, False, "Duplicate of #1", True),
        ("closed", True, False, "Same root cause as the due date bug.\n\nDuplicate of #1", True),
        ("closed", False, True, _bot_closing(2, 1), True),
        ("open", True, False, "Not a duplicate of #1: a different stack trace.", False),
        ("closed", True, False, "Not a duplicate of #1: a different stack trace.", False),
        ("closed", True, False, "Looked like a duplicate of #1, but it is not.", False),
        ("open", True, False, "Duplicate of #1", False),  # reopened: no longer its duplicate
        ("closed", False, False, "Duplicate of #1", False),  # anyone may write it
    ],
)
def test_only_a_closed_issue_a_maintainer_or_the_bot_marked_counts_as_a_duplicate(
    state: str, maintainer: bool, bot: bool, body: str, counted: bool
) -> None:
    """The "duplicates" weight is per issue closed as the issue's duplicate: GitHub's
    "Duplicate of #N" line, or the bot's comment, by a maintainer or the bot."""
    original = thread(1)
    other = thread(
        2, state=state, author="bob", comments=(Note("mia", ago(1), maintainer, bot, body),)
    )
    (first,) = [r for r in rank([original, other], SINCE, UNTIL) if r.thread.number == 1]
    assert (first.duplicates, "1 duplicate" in first.why) == (
        ((2,), True) if counted else ((), False)
    )


# --- properties ------------------------------------------------------------------------------
notes = st.builds(
    Note,
    author=st.sampled_from(["ann", "bob", "mia", "smolbot[bot]"]),
    at=st.integers(0, 40).map(ago),
    maintainer=st.booleans(),
    bot=st.booleans(),
    body=st.sampled_from(["", "me too", "Duplicate of #1", "Duplicate of #3"]),
)
threads = st.lists(
    st.builds(
        Thread,
        number=st.integers(1, 60),
        title=st.just("t"),
        state=st.sampled_from(["open", "open", "closed"]),
        author=st.sampled_from(["ann", "bob", "zed"]),
        created_at=st.integers(0, 60).map(ago),
        labels=st.lists(
            st.sampled_from(["bug", "security", "regression", "needs-info"]), max_size=2
        ).map(tuple),
        reactions=st.integers(0, 30),
        is_pr=st.booleans(),
        comments=st.lists(notes, max_size=5).map(tuple),
    ),
    max_size=25,
    unique_by=lambda t: t.number,
)


@given(threads)
@settings(max_examples=150, deadline=None)
def test_order_is_by_score_then_number_and_only_open_issues(ts: list[Thread]) -> None:
    ranked = rank(ts, SINCE, UNTIL)
    keys = [(-r.score, r.thread.number) for r in ranked]
    assert keys == sorted(keys)
    assert {r.thread.number for r in ranked} == {
        t.number for t in ts if t.state == "open" and not t.is_pr
    }
    assert all(r.score >= 0 for r in ranked)


@given(threads, st.randoms(use_true_random=False))
@settings(max_examples=100, deadline=None)
def test_input_order_does_not_matter(ts: list[Thread], rnd: random.Random) -> None:
    shuffled = list(ts)
    rnd.shuffle(shuffled)
    assert rank(ts, SINCE, UNTIL) == rank(shuffled, SINCE, UNTIL)


@given(threads, st.integers(1, 20))
@settings(max_examples=100, deadline=None)
def test_more_reactions_never_lower_an_issue(ts: list[Thread], extra: int) -> None:
    open_ones = [t for t in ts if t.state == "open" and not t.is_pr]
    if not open_ones:
        return
    target = open_ones[0]
    before = {r.thread.number: r.score for r in rank(ts, SINCE, UNTIL)}[target.number]
    boosted = [replace(t, reactions=t.reactions + extra) if t is target else t for t in ts]
    after = {r.thread.number: r.score for r in rank(boosted, SINCE, UNTIL)}[target.number]
    assert after > before


@given(threads)
@settings(max_examples=100, deadline=None)
def test_security_issues_always_outrank_unlabeled_ones_without_huge_crowds(
    ts: list[Thread],
) -> None:
    ranked = rank(ts, SINCE, UNTIL)
    positions = {r.thread.number: i for i, r in enumerate(ranked)}
    for r in ranked:
        if r.thread.has_label("security"):
            for other in ranked:
                if not other.thread.labels and other.score < 100:
                    assert positions[r.thread.number] < positions[other.thread.number]


def test_an_unfetched_thread_with_needs_info_as_the_repository_spells_it_waits_on_its_author() -> (
    None
):
    """Triage adds the repository's own spelling of needs-info; the digest reads threads it did
    not fetch (comments=None) by their labels alone, and took `needs info` for no needs-info."""
    for spelling in ("needs info", "Status: Needs-Info"):
        w = waiting_state(thread(5, labels=(spelling,), comments=None, comment_count=4))
        assert w is not None and w.on == "author", spelling


def test_a_label_that_only_contains_the_word_is_not_a_regression_or_security_issue() -> None:
    from bot.core.ranking import rank

    at = datetime(2026, 12, 1, 12, tzinfo=UTC)
    labels = ("not-a-regression", "security-reviewed", "non-security", "regression-tests")
    t = Thread(1, "Docs typo", "open", "ann", at, labels=labels)
    (r,) = rank([t], at - timedelta(days=7), at)
    assert "regression" not in r.why and "security" not in r.why, r.why
    spelled = [("Security", "security"), ("type: regression", "regression"),
               ("kind/security", "security"), ("🔒 security", "security"),
               ("regression bug", "regression")]  # fmt: skip
    for label, word in spelled:
        assert Thread(2, "x", "open", "ann", at, labels=(label,)).has_label(word), label
