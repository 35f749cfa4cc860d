"""Waiting-on and the lifecycle decision: table-driven cases, then properties over random histories."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.actions import Close, Comment, NoOp, RemoveLabel
from bot.core.config import LifecycleConfig, RepoConfig
from bot.core.lifecycle import (
    PING_MARK,
    PULL_REQUEST,
    Thread,
    asks_something,
    decide,
    exemption,
    waiting_on,
)
from bot.core.markers import with_marker
from bot.ports import CommentData, EventData, IssueData
from tests.lifecycle.fakes import BOT, comment, day, iso, issue

CFG = RepoConfig(lifecycle=LifecycleConfig(days_until_ping=7, days_until_close=7, close=True))


c = comment


MAINT = "MEMBER"


@pytest.mark.parametrize(
    ("labels", "comments", "events", "on", "who"),
    [
        ([], [], [], "maintainer", ()),
        ([], [c(1, "bob", "Which version?", 1, MAINT)], [], "author", ("alice",)),
        ([], [c(1, "bob", "Thanks, confirmed.", 1, MAINT)], [], "nobody", ()),
        (
            [],
            [c(1, "bob", "Which version?", 1, MAINT), c(2, "alice", "2.1", 2)],
            [],
            "maintainer",
            ("bob",),
        ),
        (["needs-info"], [], [], "author", ("alice",)),
        (["Needs-Info"], [], [], "author", ("alice",)),  # GitHub matches labels case aside
        (
            ["Needs-Info"],
            [c(1, "alice", "Here are logs", 3)],
            [EventData("labeled", BOT, iso(day(1)), "Bot", label="NEEDS-INFO")],
            "maintainer",
            (),
        ),
        (
            ["needs-info"],
            [c(1, "alice", "Here are logs", 3)],
            [EventData("labeled", BOT, iso(day(1)), "Bot", label="needs-info")],
            "maintainer",
            (),
        ),
        # a third party's +1 does not answer for the author
        (
            [],
            [c(1, "bob", "Which version?", 1, MAINT), c(2, "carol", "+1", 2)],
            [],
            "author",
            ("alice",),
        ),
        # the bot's own comments never count
        (
            [],
            [c(1, "bob", "Which version?", 1, MAINT), c(2, BOT, "ping?", 3, kind="Bot")],
            [],
            "author",
            ("alice",),
        ),
        # a question inside a quote is not a question
        ([], [c(1, "bob", "> why?\nFixed in main.", 1, MAINT)], [], "nobody", ()),
    ],
)
def test_waiting_on_table(labels, comments, events, on, who) -> None:
    t = Thread(issue(labels=labels), tuple(comments), tuple(events))
    w = waiting_on(t, BOT)
    assert (w.on, w.who) == (on, who)


def test_assignee_waits_when_author_answered() -> None:
    t = Thread(issue(assignees=["dave"]), (c(1, "alice", "more info", 1),))
    assert waiting_on(t, BOT).on == "assignee"
    assert waiting_on(t, BOT).who == ("dave",)


def test_needs_info_comes_off_when_the_author_answers() -> None:
    t = Thread(
        issue(labels=["needs-info"]),
        (c(1, "bob", "Logs please?", 1, MAINT), c(2, "alice", "here", 2)),
        (EventData("labeled", "bob", iso(day(1)), label="needs-info"),),
    )
    d = decide(t, CFG, day(2.5), BOT)
    assert RemoveLabel("needs-info", "the author answered") in d.actions


@pytest.mark.parametrize("spelling", ["needs info", "Needs Info", "status: needs-info"])
def test_needs_info_as_the_repository_spells_it(spelling: str) -> None:
    """Triage adds the repository's own spelling of needs-info (no twin label): the sweep, the
    digest and summaries read it, and the sweep removes that label when the author answers."""
    asked = Thread(issue(labels=[spelling]), ())
    assert waiting_on(asked, BOT).on == "author"
    t = Thread(
        issue(labels=[spelling]),
        (c(1, "bob", "Logs please?", 1, MAINT), c(2, "alice", "here", 2)),
        (EventData("labeled", "bob", iso(day(1)), label=spelling),),
    )
    assert RemoveLabel(spelling, "the author answered") in decide(t, CFG, day(2.5), BOT).actions


def test_a_renamed_needs_info_label_is_read_as_the_issue_carries_it() -> None:
    """The repository renamed `needs-info` to `status: needs-info`: GitHub keeps the old name in
    the past `labeled` event. The label the issue carries now is the one read and removed."""
    renamed = "status: needs-info"
    old = (EventData("labeled", "bob", iso(day(1)), label="needs-info"),)
    asked = Thread(issue(labels=[renamed]), (c(1, "bob", "Please attach the log.", 1, MAINT),), old)
    assert waiting_on(asked, BOT).on == "author"
    t = Thread(
        issue(labels=[renamed]),
        (c(1, "bob", "Please attach the log.", 1, MAINT), c(2, "alice", "here", 2)),
        old,
    )
    assert RemoveLabel(renamed, "the author answered") in decide(t, CFG, day(2.5), BOT).actions


def test_clock_is_reset_by_human_label_change_not_by_the_bot() -> None:
    asked = (c(1, "bob", "Version?", 1, MAINT),)
    by_bot = Thread(issue(), asked, (EventData("labeled", BOT, iso(day(5)), "Bot", label="x"),))
    by_human = Thread(issue(), asked, (EventData("labeled", "bob", iso(day(5)), label="x"),))
    assert isinstance(decide(by_bot, CFG, day(8.5), BOT).actions[0], Comment)
    assert isinstance(decide(by_human, CFG, day(8.5), BOT).actions[0], NoOp)


def test_ping_then_close_then_reopen_restarts() -> None:
    asked = [c(1, "bob", "Can you share a repro?", 1, MAINT)]
    d = decide(Thread(issue(), tuple(asked)), CFG, day(8.1), BOT)
    ping = d.actions[0]
    assert isinstance(ping, Comment) and "@alice" in ping.body and "repro" in ping.body
    assert ping.body.count("@") == 1  # exactly the person it waits on
    pinged = [*asked, c(2, BOT, with_marker(ping.body, ping.marker), 8.1, kind="Bot")]
    assert isinstance(decide(Thread(issue(), tuple(pinged)), CFG, day(12), BOT).actions[0], NoOp)
    closing = decide(Thread(issue(), tuple(pinged)), CFG, day(15.2), BOT).actions
    assert [type(a) for a in closing] == [Comment, Close]
    off = RepoConfig(lifecycle=LifecycleConfig(days_until_ping=7, days_until_close=7, close=False))
    would = decide(Thread(issue(), tuple(pinged)), off, day(15.2), BOT).actions
    assert isinstance(would[0], NoOp) and would[0].reason.startswith("would close")
    reopened = Thread(issue(), tuple(pinged), (EventData("reopened", "alice", iso(day(16))),))
    assert isinstance(decide(reopened, CFG, day(17), BOT).actions[0], NoOp)


def test_waiting_on_maintainer_pings_the_maintainer_and_never_closes() -> None:
    t = Thread(issue(), (c(1, "bob", "Version?", 1, MAINT), c(2, "alice", "2.1", 2)))
    d = decide(t, CFG, day(9.5), BOT)
    assert isinstance(d.actions[0], Comment) and "@bob" in d.actions[0].body
    first = d.actions[0]
    t2 = replace(
        t, comments=(*t.comments, c(3, BOT, with_marker(first.body, first.marker), 9.5, kind="Bot"))
    )
    later = decide(t2, CFG, day(60), BOT).actions
    assert all(not isinstance(a, Close | Comment) for a in later)


@pytest.mark.parametrize(
    ("kw", "why"),
    [
        ({"labels": ["pinned"]}, "exempt: label pinned"),
        ({"labels": ["Help-Wanted"]}, "exempt: label help wanted"),  # case and separators aside
        ({"labels": ["good_first_issue"]}, "exempt: label good first issue"),
        ({"assignees": ["x"]}, "exempt: assigned"),
        ({"milestone": "v2"}, "exempt: has a milestone"),
        ({"locked": True}, "exempt: locked"),
        ({"draft": True, "is_pull_request": True}, PULL_REQUEST),
        ({"is_pull_request": True}, PULL_REQUEST),
    ],
)
def test_exemptions(kw: dict[str, object], why: str) -> None:
    assert exemption(issue(**kw), CFG) == why


def test_start_date_and_only_labels() -> None:
    late = RepoConfig(lifecycle=LifecycleConfig(start_date=day(3).date()))
    assert (exemption(issue(), late) or "").startswith("exempt: opened before")
    only = RepoConfig(lifecycle=LifecycleConfig(only_labels=("question",)))
    assert exemption(issue(), only) is not None
    assert exemption(issue(labels=["question"]), only) is None
    info = RepoConfig(lifecycle=LifecycleConfig(only_labels=("needs-info",)))
    assert exemption(issue(labels=["Needs-Info"]), info) is None  # the same label, as exempt's
    assert exemption(issue(labels=["needs"]), info) is not None


# -- properties over random histories -----------------------------------------------------
PEOPLE = st.sampled_from([("alice", "NONE"), ("bob", MAINT), ("carol", "NONE"), (BOT, "BOT")])
STEP = st.tuples(
    st.sampled_from(["comment", "question", "label", "unlabel", "reopen", "wait"]),
    PEOPLE,
    st.floats(min_value=0.1, max_value=12),
)
ISSUES = st.builds(
    issue,
    labels=st.lists(
        st.sampled_from(["needs-info", "pinned", "bug", "security"]), max_size=2, unique=True
    ),
    assignees=st.lists(st.sampled_from(["dave"]), max_size=1),
    milestone=st.sampled_from([None, None, "v1"]),
    locked=st.booleans(),
)


def _apply(t: Thread, step: tuple[str, tuple[str, str], float], at: datetime, n: int) -> Thread:
    kind, (who, assoc), _ = step
    is_bot = who == BOT
    if kind in ("comment", "question"):
        body = "Could you try again?" if kind == "question" else "Some update."
        cm = CommentData(n, who, body, iso(at), "Bot" if is_bot else "User", "", assoc)
        return replace(t, comments=(*t.comments, cm))
    if kind in ("label", "unlabel", "reopen"):
        ev = {"label": "labeled", "unlabel": "unlabeled", "reopen": "reopened"}[kind]
        e = EventData(ev, who, iso(at), "Bot" if is_bot else "User", label="needs-info")
        return replace(t, events=(*t.events, e))
    return t


def _perform(t: Thread, actions: list, at: datetime, n: int) -> Thread:
    for a in actions:
        if isinstance(a, Comment):
            cm = CommentData(n, BOT, with_marker(a.body, a.marker), iso(at), "Bot")
            t = replace(t, comments=(*t.comments, cm))
        if isinstance(a, Close):
            t = replace(t, issue=replace(t.issue, state="closed"))
        if isinstance(a, RemoveLabel):
            labels = [x for x in t.issue.labels if x != a.label]
            t = replace(t, issue=replace(t.issue, labels=labels))
    return t


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ISSUES, st.lists(STEP, max_size=12), st.integers(min_value=1, max_value=10), st.booleans())
def test_properties_over_daily_sweeps(start: IssueData, steps, days: int, close_on: bool) -> None:
    cfg = RepoConfig(
        lifecycle=LifecycleConfig(days_until_ping=days, days_until_close=days, close=close_on)
    )
    t, now, n = Thread(start), day(0), 100
    exempt = exemption(start, cfg) is not None
    pings: list[datetime] = []
    for step in [*steps, ("wait", ("alice", "NONE"), 40.0)]:
        end = now + timedelta(days=step[2])
        t = _apply(t, step, now, n := n + 1)
        while now < end and t.issue.state == "open":  # one sweep a day
            d = decide(t, cfg, now, BOT)
            acts = [a for a in d.actions if not isinstance(a, NoOp)]
            if exempt:
                assert acts == []
            if any(isinstance(a, Close) for a in acts):
                assert d.waiting is not None and d.waiting.on == "author"
                assert close_on
            pings += [
                now for a in acts if isinstance(a, Comment) and a.marker.startswith(PING_MARK)
            ]
            t = _perform(t, acts, now, n := n + 1)
            now += timedelta(days=1)
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert all(g >= timedelta(days=days) for g in gaps)


def test_closing_is_opt_in_even_when_a_config_file_exists() -> None:
    from bot.core.config import parse_config
    from bot.core.lifecycle import closing_enabled

    assert not closing_enabled(parse_config("lifecycle:\n  days_until_ping: 7\n"))
    assert not closing_enabled(RepoConfig())
    assert closing_enabled(parse_config("lifecycle:\n  close: true\n"))


@pytest.mark.parametrize(
    ("body", "asks"),
    [
        ("Could you attach the traceback?", True),
        ("Root cause: https://docs.python.org/3/search.html?q=fork", False),  # a link's query
        ("Fixed in `x?y`; see\n```\nwhat?\n```", False),
        ("> did it work?\nIt did.", False),
        ("Noted. <!-- why? -->", False),
        ("See https://x.org/a?b=1 - does that help?", True),
    ],
)
def test_what_counts_as_asking(body: str, asks: bool) -> None:
    assert asks_something(body) is asks
