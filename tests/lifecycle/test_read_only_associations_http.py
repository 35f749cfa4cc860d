"""Who is on the team when the association says MEMBER or COLLABORATOR, swept over HTTP against
the fake GitHub. GitHub gives COLLABORATOR to any outside collaborator and MEMBER to any member
of the owning organisation, whatever their permission on the repository: a read-only one's
question must not make the issue wait on its author (and close it), nor make the author team."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.sandbox.fake_github.server import FakeGitHubServer
from bot.sandbox.fake_github.state import FakeGitHub as FakeState
from tests.lifecycle.http_world import DAY, REPO, asked, bot_bodies, reasons, sweep, world

PERMISSION = f"/repos/{REPO}/collaborators/bob/permission"


def bob_is(st: FakeState, how: str, role: str) -> None:
    """bob, an outside collaborator (`collaborator`) or an org member (`member`) with `role`."""
    st.set_permission(REPO, "bob", role)
    if how == "member":
        st.repos[REPO].members.add("bob")


@pytest.mark.parametrize("how", ["collaborator", "member"])
def test_a_read_only_askers_question_neither_pings_nor_closes_the_author(
    fake_github: FakeGitHubServer, tmp_path: Path, how: str
) -> None:
    """bob can only read octo/api; his "Which version?" waited on alice as a maintainer's did:
    she was pinged, and her issue closed a week later on a non-maintainer's say."""
    st, ctx = world(fake_github, tmp_path)
    bob_is(st, how, "read")
    t0 = st.now() - 8 * DAY
    st.add_issue(REPO, "Crash", "It crashes.", user="alice", created_at=t0)
    st.add_comment(REPO, 1, "Which version?", user="bob", created_at=t0 + 0.1 * DAY)
    assert st.comments(REPO, 1)[0].json("", st.repos[REPO])["author_association"] == how.upper()
    sweep(ctx)
    st.advance(8 * DAY)
    sweep(ctx)
    assert st.issue(REPO, 1).state == "open" and bot_bodies(st, 1) == []
    assert any("nobody from the team has replied yet" in r for r in reasons(ctx, 1))
    assert len(st.requests("GET", PERMISSION)) == 1  # looked up once, then the store's roles


@pytest.mark.parametrize("how", ["collaborator", "member"])
def test_a_question_from_one_who_can_write_waits_on_the_author(
    fake_github: FakeGitHubServer, tmp_path: Path, how: str
) -> None:
    st, ctx = world(fake_github, tmp_path)
    bob_is(st, how, "write")
    t0 = st.now() - 8 * DAY
    st.add_issue(REPO, "Crash", "It crashes.", user="alice", created_at=t0)
    st.add_comment(REPO, 1, "Which version?", user="bob", created_at=t0 + 0.1 * DAY)
    sweep(ctx)
    (ping,) = bot_bodies(st, 1)
    assert ping.startswith("Hi @alice, this issue is waiting for your reply")


@pytest.mark.parametrize("how", ["collaborator", "member"])
def test_a_read_only_author_is_asked_as_anyone_outside_the_team(
    fake_github: FakeGitHubServer, tmp_path: Path, how: str
) -> None:
    """bob (read only) opened the issue and mia asked him something: as the team's own issue it
    waited on nobody, so bob was never pinged."""
    st, ctx = world(fake_github, tmp_path)
    bob_is(st, how, "read")
    asked(st, st.now() - 8 * DAY, user="bob")
    sweep(ctx)
    (ping,) = bot_bodies(st, 1)
    assert ping.startswith("Hi @bob, this issue is waiting for your reply")


def test_the_owner_is_never_looked_up(fake_github: FakeGitHubServer, tmp_path: Path) -> None:
    """OWNER is the one association that proves write access: no lookup for it."""
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 8 * DAY
    st.add_issue(REPO, "Crash", "It crashes.", user="alice", created_at=t0)
    st.add_comment(REPO, 1, "Which version?", user="octo", created_at=t0 + 0.1 * DAY)
    sweep(ctx)
    (ping,) = bot_bodies(st, 1)
    assert ping.startswith("Hi @alice, this issue is waiting for your reply")
    assert st.requests("GET", f"/repos/{REPO}/collaborators/octo/permission") == []
