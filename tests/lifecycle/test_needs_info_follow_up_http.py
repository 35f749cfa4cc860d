"""needs-info set, the author answered, then a maintainer asked her a follow-up: the wait is on
the author again. The label stays, no "the author answered" removal is written, and the one
who asked is never pinged that the author answered; her answer to the follow-up ends it."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.fake_github.server import FakeGitHubServer
from bot.sandbox.fake_github.state import FakeGitHub as FakeState
from tests.lifecycle.http_world import DAY, REPO, awaiting_info, bot_bodies, reasons, sweep, world


def _answered_then_asked(st: FakeState, t0: float, follow_up: str) -> int:
    issue = awaiting_info(st, t0, by="smolbot[bot]")
    st.add_comment(REPO, issue.number, "Version 2.3.", user="alice", created_at=t0 + 0.5 * DAY)
    st.add_comment(REPO, issue.number, follow_up, user="mia", created_at=t0 + 1 * DAY)
    return issue.number


def test_a_follow_up_question_after_the_author_answered_keeps_needs_info(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    number = _answered_then_asked(st, st.now() - 2 * DAY, "Thanks. Which OS, though?")
    sweep(ctx)
    assert "needs-info" in st.issue(REPO, number).labels, reasons(ctx, number)
    assert not any("the author answered" in r for r in reasons(ctx, number)), reasons(ctx, number)
    assert any("waiting on author (alice)" in r for r in reasons(ctx, number)), reasons(ctx, number)


def test_a_follow_up_question_is_not_answered_by_pinging_its_asker(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """The follow-up asked 9 days ago (no sweep since): alice, who owes the answer, is pinged."""
    st, ctx = world(fake_github, tmp_path)
    number = _answered_then_asked(st, st.now() - 10 * DAY, "Thanks. Which OS, though?")
    sweep(ctx)
    pings = bot_bodies(st, number)
    assert not any(b.startswith("Hi @mia") for b in pings), pings
    assert len(pings) == 1 and pings[0].startswith("Hi @alice"), pings
    assert "Which OS" in pings[0], pings


def test_the_author_s_answer_to_the_follow_up_takes_the_label_off(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    number = _answered_then_asked(st, st.now() - 2 * DAY, "Thanks. Which OS, though?")
    sweep(ctx)
    st.advance(DAY)
    st.add_comment(REPO, number, "Linux.", user="alice")
    sweep(ctx)
    assert "needs-info" not in st.issue(REPO, number).labels, reasons(ctx, number)


def test_a_thank_you_after_the_answer_still_takes_the_label_off(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """The maintainer's last word asks nothing: the author has answered, as before."""
    st, ctx = world(fake_github, tmp_path)
    number = _answered_then_asked(st, st.now() - 2 * DAY, "Thanks, that helps.")
    sweep(ctx)
    assert "needs-info" not in st.issue(REPO, number).labels, reasons(ctx, number)
