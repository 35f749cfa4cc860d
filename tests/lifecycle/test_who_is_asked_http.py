"""Who a question makes the issue wait on, swept over HTTP against the fake GitHub."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import DAY, REPO, asked, bot_bodies, reasons, sweep, world


def test_a_question_to_a_teammate_does_not_wait_on_the_author(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """mia asks @bob (not alice, the author) to reproduce: alice is never pinged nor her issue
    closed; the audit says the question was to someone else."""
    st, ctx = world(fake_github, tmp_path)
    st.set_permission(REPO, "bob", "write")
    t0 = st.now() - 8 * DAY
    st.add_issue(REPO, "Crash on ARM", "Full log attached, v2.3.", user="alice", created_at=t0)
    st.add_comment(
        REPO,
        1,
        "@bob you have an ARM box, can you reproduce this?",
        user="mia",
        created_at=t0 + 0.1 * DAY,
    )
    sweep(ctx)
    st.advance(8 * DAY)
    sweep(ctx)
    assert st.issue(REPO, 1).state == "open" and bot_bodies(st, 1) == []
    assert "not waiting: mia asked @bob something, not the author" in reasons(ctx, 1)


def test_a_question_naming_the_author_among_others_waits_on_the_author(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 8 * DAY
    st.add_issue(REPO, "Crash", "It crashes.", user="alice", created_at=t0)
    body = "@bob @Alice which version do you both run? (`@carl` knows)"
    st.add_comment(REPO, 1, body, user="mia", created_at=t0 + 0.1 * DAY)
    sweep(ctx)
    (ping,) = bot_bodies(st, 1)
    assert ping.startswith("Hi @alice, this issue is waiting for your reply")


def test_a_maintainer_ping_names_whose_question_waits(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """dave (not the author) asks after the team's last word: the ping to mia says dave asked,
    not that the author answered."""
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 9 * DAY
    st.add_issue(REPO, "Crash", "It crashes.", user="alice", created_at=t0)
    st.add_comment(REPO, 1, "Fixed on main.", user="mia", created_at=t0 + 0.1 * DAY)
    st.add_comment(REPO, 1, "Is it in 2.4 too?", user="dave", created_at=t0 + DAY)
    sweep(ctx)
    (ping,) = bot_bodies(st, 1)
    assert ping.startswith("Hi @mia, dave asked something on ")
    assert "alice answered" not in ping


def test_a_deleted_author_is_not_pinged(fake_github: FakeGitHubServer, tmp_path: Path) -> None:
    """An issue whose author deleted their account (GitHub shows `ghost`): no "Hi @ghost", no
    close after a ping nobody could read."""
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY, user="ghost")
    sweep(ctx)
    st.advance(8 * DAY)
    sweep(ctx)
    assert bot_bodies(st, number) == [] and st.issue(REPO, number).state == "open"
    assert any("@ghost is a deleted account" in r for r in reasons(ctx, number))
