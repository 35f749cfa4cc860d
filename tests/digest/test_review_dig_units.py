"""Table tests from the review of the digest: closed means closed now, reactions by kind (👎 and 😕
rank nothing, and the explanation says what was counted), the window's dates in the repository's
time zone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.config import DigestConfig
from bot.core.digest import assemble, local_day, render_markdown
from bot.core.ranking import Thread, interest, rank
from bot.github.convert import issue_data
from bot.jobs.digest import to_thread
from bot.ports import EventData

UNTIL = datetime(2026, 11, 23, 8, tzinfo=UTC)
SINCE = UNTIL - timedelta(days=7)


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def gh(number: int, state: str = "open", **reactions: int) -> dict[str, object]:
    return {
        "number": number, "title": f"issue {number}", "state": state,
        "user": {"login": "ann", "type": "User"}, "created_at": iso(SINCE - timedelta(days=30)),
        "updated_at": iso(UNTIL - timedelta(days=1)), "closed_at": None,
        "html_url": f"https://github.com/o/r/issues/{number}",
        "reactions": {"total_count": sum(reactions.values()), **reactions},
    }  # fmt: skip


def event(kind: str, days: float) -> EventData:
    return EventData(kind, "mia", iso(SINCE + timedelta(days=days)), "User")


@pytest.mark.parametrize(
    ("state", "events", "closed_at"),
    [
        ("open", [event("closed", 1), event("reopened", 2)], None),  # reopened: open now
        ("closed", [event("closed", 1), event("reopened", 2), event("closed", 3)], 3),
        ("closed", [event("closed", 1)], 1),
        ("open", [], None),
    ],
)
def test_closed_at_is_the_last_close_of_an_issue_closed_now(
    state: str, events: list[EventData], closed_at: float | None
) -> None:
    t = to_thread(issue_data("o/r", gh(1, state)), [], events, "smolbot[bot]")
    assert t.closed_at == (None if closed_at is None else SINCE + timedelta(days=closed_at))
    d = assemble("o/r", [t], SINCE, UNTIL, DigestConfig())
    assert d.counts["closed"] == (0 if closed_at is None else 1)


def test_the_adapter_keeps_the_reactions_by_kind() -> None:
    i = issue_data("o/r", gh(1, **{"+1": 3, "-1": 40, "confused": 2, "heart": 1}))
    assert i.reactions == 46
    assert i.reaction_counts == {"+1": 3, "-1": 40, "confused": 2, "heart": 1}
    assert issue_data("o/r", {"number": 2}).reaction_counts == {}


def thread(number: int, **kinds: int) -> Thread:
    i = issue_data("o/r", gh(number, **kinds))
    return to_thread(i, [], (), "smolbot[bot]")


@pytest.mark.parametrize(
    ("kinds", "counted", "said"),
    [
        ({"+1": 12}, 12, "12 👍"),
        ({"+1": 12, "heart": 3, "eyes": 1}, 16, "16 reactions (12 👍 3 ❤️ 1 👀)"),
        ({"+1": 12, "-1": 40, "confused": 3}, 12, "12 👍 (43 👎/😕 not counted)"),
        ({"-1": 40, "confused": 3}, 0, "0 reactions (43 👎/😕 not counted)"),
        ({}, 0, "0 reactions"),
    ],
)
def test_interest_counts_all_but_down_votes_and_confusion(
    kinds: dict[str, int], counted: int, said: str
) -> None:
    assert interest(thread(1, **kinds)) == (counted, said)


def test_a_host_that_gives_only_the_total_counts_the_total() -> None:
    t = Thread(1, "t", "open", "ann", SINCE, reactions=7)
    assert interest(t) == (7, "7 reactions")


def test_down_votes_do_not_lift_a_proposal_above_a_wanted_bug() -> None:
    proposal, bug = thread(2, **{"-1": 40, "confused": 3}), thread(3, **{"+1": 12})
    ranked = rank([proposal, bug], SINCE, UNTIL)
    assert [r.thread.number for r in ranked] == [3, 2]
    assert ranked[0].why[0] == "12 👍"
    assert not any("👎" in w or "reaction" in w for w in ranked[1].why)


@given(st.integers(0, 50), st.integers(0, 50), st.integers(1, 50))
def test_more_down_votes_never_raise_an_issue(up: int, down: int, more: int) -> None:
    base = thread(1, **{"+1": up, "-1": down})
    worse = replace(base, reaction_counts=(("+1", up), ("-1", down + more)))
    (a,), (b,) = rank([base], SINCE, UNTIL), rank([worse], SINCE, UNTIL)
    assert b.score == a.score


@pytest.mark.parametrize(
    ("tz", "since", "until"),
    [
        ("Asia/Tokyo", "2026-11-16", "2026-11-23"),  # 08:00 Monday there is 23:00 Sunday UTC
        ("UTC", "2026-11-15", "2026-11-22"),
        ("America/New_York", "2026-11-15", "2026-11-22"),  # 18:00 Sunday there
    ],
)
def test_the_window_s_dates_are_the_repository_s(tz: str, since: str, until: str) -> None:
    end = datetime(2026, 11, 22, 23, tzinfo=UTC)
    d = assemble("o/r", [], end - timedelta(days=7), end, DigestConfig(timezone=tz))
    assert render_markdown(d).splitlines()[2] == f"From {since} to {until}."
    assert d.timezone == tz


def test_a_stamp_without_an_offset_keeps_its_own_date() -> None:
    assert local_day("2026-11-22T23:00:00", "Asia/Tokyo") == "2026-11-22"
