"""A retitle after the ping to the author: the ping's marker holds the description's own hash
beside the title-and-description one, so a title change is told apart, and GitHub's `renamed`
event says who made it. The team's or a bot's clearer title neither holds the close nor is
blamed on the author; the author's (she may have put the answer there) holds it, and the ping
to the team names her."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.lifecycle import PING_MARK, description_hash
from bot.core.markers import markers_in
from bot.sandbox.fake_github.server import FakeGitHubServer
from bot.sandbox.fake_github.state import FakeGitHub as FakeState
from tests.lifecycle.http_world import DAY, REPO, asked, bot_bodies, reasons, sweep, world


def _retitle(st: FakeState, number: int, by: str) -> None:
    issue = st.issue(REPO, number)
    st.add_event(REPO, number, "renamed", by, rename={"from": issue.title, "to": "Crash on start"})
    issue.title, issue.updated_at = "Crash on start", st.now()


@pytest.mark.parametrize("by", ["mia", "dave", "renovate[bot]"])
def test_the_team_s_or_a_bot_s_retitle_neither_holds_the_close_nor_pings_the_team(
    fake_github: FakeGitHubServer, tmp_path: Path, by: str
) -> None:
    """mia asked the question; dave maintains the repository too but never commented (his role
    is looked up); a bot's retitle is no one's answer."""
    st, ctx = world(fake_github, tmp_path)
    st.set_permission(REPO, "dave", "maintain")
    n = asked(st, st.now() - 8 * DAY)
    sweep(ctx)  # the ping to alice, close announced in 7 days
    (ping,) = bot_bodies(st, n)
    mark = next(m for m in markers_in(ping) if m.startswith(PING_MARK))
    assert mark.endswith(f":body{description_hash('It crashes.')}"), mark
    st.advance(DAY)
    _retitle(st, n, by)
    st.advance(6 * DAY + 60)
    sweep(ctx)
    bodies = bot_bodies(st, n)
    assert st.issue(REPO, n).state == "closed", reasons(ctx, n)[-2:]
    assert not any("retitled" in b or "edited" in b for b in bodies), bodies


def test_the_author_s_retitle_holds_the_close_and_the_ping_names_her(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    n = asked(st, st.now() - 8 * DAY)
    sweep(ctx)
    st.advance(DAY)
    _retitle(st, n, "alice")
    st.advance(6 * DAY + 60)  # the close was due: held
    sweep(ctx)
    assert st.issue(REPO, n).state == "open", reasons(ctx, n)[-2:]
    st.advance(DAY)  # 7 days after her retitle: mia is asked to look
    sweep(ctx)
    pings = bot_bodies(st, n)
    assert len(pings) == 2 and pings[-1].startswith(
        "Hi @mia, alice retitled the issue after the reminder of"
    ), pings
    assert any("alice retitled the issue after the ping" in r for r in reasons(ctx, n))


def test_a_maintainer_retitle_after_the_author_s_leaves_the_close_as_announced(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """The last retitle counts: mia tidied alice's new title, having read it."""
    st, ctx = world(fake_github, tmp_path)
    n = asked(st, st.now() - 8 * DAY)
    sweep(ctx)
    st.advance(DAY)
    _retitle(st, n, "alice")
    st.advance(60)
    st.add_event(REPO, n, "renamed", "mia", rename={"from": "Crash on start", "to": "Crash"})
    st.issue(REPO, n).title = "Crash: on start"
    st.advance(6 * DAY)
    sweep(ctx)
    assert st.issue(REPO, n).state == "closed", reasons(ctx, n)[-2:]
