"""`/smolbot` command comments and bots' comments answer nobody: waiting-on is the same with or
without them, in the lifecycle, the summaries and the digest's ranking alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core import summary as S
from bot.core.lifecycle import (
    Thread,
    Waiting,
    only_commands,
    parse_time,
    waiting_on,
    without_commands,
)
from bot.core.ranking import Change, Note, waiting_state
from bot.core.ranking import Thread as RankedThread
from bot.ports import CommentData, EventData, IssueData
from tests.lifecycle.fakes import BOT, comment, day, iso
from tests.lifecycle.fakes import issue as fake_issue

MAINT = "MEMBER"


def issue(**kw: object) -> IssueData:
    return fake_issue(
        **{"title": "Dates are one day off", "body": "Every due date shows one day early.", **kw}
    )


c = comment


def test_command_lines_are_recognized() -> None:
    assert only_commands("/smolbot summarize")
    assert only_commands("/smolbot summarize\n\n/smolbot retriage\n")
    assert only_commands("  /SMOLBOT summarize")
    assert not only_commands("")  # no body is no command
    assert not only_commands("Any news?\n/smolbot summarize")
    assert not only_commands("    /smolbot summarize")  # indented four: a code example
    assert not only_commands("/smolbotty is a word")
    assert without_commands("Any news?\n/smolbot summarize") == "Any news?"
    assert without_commands(" no commands here \r\n") == "no commands here"


def test_a_summary_request_after_a_users_question_still_waits_on_the_team() -> None:
    """Issue #210 in the demo: a user asks for news, a maintainer asks the bot for a summary."""
    asked = (
        c(1, "bob", "The fix is in review.", 1, MAINT),
        c(2, "carol", "Any news on the release date?", 2),
    )
    before = waiting_on(Thread(issue(), asked), BOT)
    assert (before.on, before.who, before.since) == ("maintainer", ("bob",), day(2))
    summoned = (*asked, c(3, "mona", "/smolbot summarize", 3, "OWNER"))
    summary = c(4, BOT, "### Thread summary\n\nWhat is it about?", 3.1, kind="Bot")
    for comments in (summoned, (*summoned, summary)):
        assert waiting_on(Thread(issue(), comments), BOT) == before


def test_a_question_from_outside_the_team_after_its_last_word_waits_on_the_team() -> None:
    said = c(1, "bob", "Fixed in main.", 1, MAINT)
    assert waiting_on(Thread(issue(), (said,)), BOT).on == "nobody"
    plus_one = c(2, "carol", "+1, same here.", 2)
    assert waiting_on(Thread(issue(), (said, plus_one)), BOT).on == "nobody"
    asked = c(3, "carol", "When is the release?", 3)
    w = waiting_on(Thread(issue(assignees=["dave"]), (said, plus_one, asked)), BOT)
    assert (w.on, w.who, w.since) == ("assignee", ("dave",), day(3))
    # the team opened it and spoke last: a user's question still goes to the team
    team_issue = issue(author_association="OWNER")
    w = waiting_on(Thread(team_issue, (c(1, "carol", "Is this planned?", 1),)), BOT)
    assert (w.on, w.since) == ("maintainer", day(1))
    # when the team asked the author something, a third party's reply (a question too) moves
    # it to the team: the details may be there; a bare +1 does not
    q = c(1, "bob", "Which version?", 1, MAINT)
    assert waiting_on(Thread(issue(), (q, asked)), BOT).on == "maintainer"
    assert waiting_on(Thread(issue(), (q, c(2, "carol", "+1", 2))), BOT).on == "author"


def test_summary_entries_leave_out_comments_that_only_talk_to_the_bot() -> None:
    comments = (
        c(1, "carol", "Any news?", 1),
        c(2, "mona", "/smolbot summarize", 2, "OWNER"),
        c(3, "bob", "Working on it.\n/smolbot retriage", 3, MAINT),
        c(4, BOT, "### Thread summary", 4, kind="Bot"),
    )
    items = S.entries(Thread(issue(), comments), BOT)
    assert [(e.author, e.text) for e in items[1:]] == [
        ("carol", "Any news?"),
        ("bob", "Working on it."),
    ]
    assert S.extractive(items).state == ["Working on it. [2]"]


# -- properties: random threads, with and without comments that answer nobody -------------
WHO = st.sampled_from([("alice", "NONE"), ("bob", MAINT), ("mona", "OWNER"), ("carol", "NONE")])
BODY = st.sampled_from(["Some update.", "Could you try again?", "+1", "Which version? `a?b`"])
SAY = st.tuples(WHO, BODY, st.floats(min_value=0.01, max_value=5))
NOISE = st.tuples(
    st.sampled_from(
        [
            (("mona", "OWNER"), "/smolbot summarize", "User"),
            (("bob", MAINT), "/smolbot retriage\n/smolbot summarize", "User"),
            (("carol", "NONE"), "/smolbot summarize", "User"),  # no right to: still no reply
            ((BOT, "NONE"), "### Thread summary\n\nAny question?", "Bot"),
            (("dependabot[bot]", "NONE"), "Bump x? Yes.", "Bot"),
        ]
    ),
    st.floats(min_value=0.0, max_value=30),
)
ISSUES = st.builds(
    issue,
    labels=st.lists(st.sampled_from(["needs-info", "bug"]), max_size=2, unique=True),
    assignees=st.lists(st.sampled_from(["dave"]), max_size=1),
    author_association=st.sampled_from(["NONE", "NONE", "MEMBER"]),
)


def _thread(start: IssueData, says: list, label_at: float | None) -> Thread:
    at, comments = 0.0, []
    for n, ((who, assoc), body, gap) in enumerate(says, 1):
        at += gap
        comments.append(c(n, who, body, at, assoc))
    events = (
        (EventData("labeled", "bob", iso(day(label_at)), label="needs-info"),)
        if label_at is not None
        else ()
    )
    return Thread(start, tuple(comments), events)


def _with_noise(t: Thread, noise: list) -> Thread:
    extra = tuple(
        c(1000 + n, who, body, at, assoc, kind)
        for n, (((who, assoc), body, kind), at) in enumerate(noise)
    )
    return replace(t, comments=(*t.comments, *extra))


def _ranked(t: Thread) -> RankedThread:
    """The thread as the digest job builds it (bot.jobs.digest.to_thread)."""
    notes = tuple(
        Note(
            x.author,
            _at(x),
            x.author_association in ("OWNER", "MEMBER", "COLLABORATOR"),
            x.author_type == "Bot" or x.author == BOT,
            x.body,
        )
        for x in sorted(t.comments, key=lambda x: (x.created_at, x.id))
    )
    changes = tuple(Change(e.kind, e.actor, _at(e), e.label) for e in t.events)
    return RankedThread(
        number=t.issue.number,
        title=t.issue.title,
        state=t.issue.state,
        author=t.issue.author,
        created_at=_at(t.issue),
        labels=tuple(t.issue.labels),
        comment_count=len(notes),
        author_maintainer=t.issue.author_association in ("OWNER", "MEMBER", "COLLABORATOR"),
        assignees=tuple(t.issue.assignees),
        comments=notes,
        events=changes,
    )


def _at(x: IssueData | CommentData | EventData) -> datetime:
    return parse_time(x.created_at)


def _digest_view(w: Waiting) -> tuple[str, datetime] | None:
    return None if w.on == "nobody" else ("author" if w.on == "author" else "maintainer", w.since)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ISSUES,
    st.lists(SAY, max_size=8),
    st.lists(NOISE, max_size=4),
    st.one_of(st.none(), st.floats(min_value=0, max_value=20)),
)
def test_noise_changes_nothing_and_the_digest_agrees(start, says, noise, label_at) -> None:
    t = _thread(start, says, label_at)
    w = waiting_on(t, BOT)
    noisy = _with_noise(t, noise)
    assert waiting_on(noisy, BOT) == w
    for view in (t, noisy):  # the digest's ranking says what the summary's line says
        r = waiting_state(_ranked(view))
        assert (None if r is None else (r.on, r.since)) == _digest_view(w)
    assert [e.text for e in S.entries(noisy, BOT)] == [e.text for e in S.entries(t, BOT)]


def test_the_digest_counts_days_from_the_same_clock() -> None:
    t = _thread(issue(), [(("bob", MAINT), "Fixed.", 1.0), (("carol", "NONE"), "When?", 1.0)], None)
    r = waiting_state(_ranked(t))
    assert r is not None and (r.on, r.days(day(2) + timedelta(days=3))) == ("maintainer", 3)
