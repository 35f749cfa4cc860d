"""An issue locked, put in a milestone or pinned after the ping that announced its close: the
README says such issues are never touched, and a locked issue's author (not a collaborator)
could not even answer. When the exemption ends, that ping closes nothing: a new ping announcing
the close comes first (at once when the old one is days_until_ping old), and the close only
days_until_close after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.sandbox.fake_github.server import FakeGitHubServer
from bot.sandbox.fake_github.state import FakeGitHub as FakeState
from tests.lifecycle.http_world import DAY, REPO, asked, bot_bodies, reasons, sweep, world


def _exempt(st: FakeState, number: int, how: str, on: bool) -> None:
    """mia locks/unlocks, puts in/takes out of a milestone, pins/unpins the issue."""
    issue = st.issue(REPO, number)
    if how == "locked":
        issue.locked = on
        st.add_event(REPO, number, "locked" if on else "unlocked", "mia")
    elif how == "milestone":
        issue.milestone = "v2.4" if on else None
        kind = "milestoned" if on else "demilestoned"
        st.add_event(REPO, number, kind, "mia", milestone={"title": "v2.4"})
    else:
        st.add_event(REPO, number, "pinned" if on else "unpinned", "mia")
    issue.updated_at = st.now()


@pytest.mark.parametrize("how", ["locked", "milestone", "pinned"])
def test_the_close_announced_before_an_exemption_needs_a_new_ping_after_it(
    fake_github: FakeGitHubServer, tmp_path: Path, how: str
) -> None:
    st, ctx = world(fake_github, tmp_path)  # days_until_ping 7, days_until_close 7, close: true
    n = asked(st, st.now() - 8 * DAY)
    sweep(ctx)  # the ping to alice, announcing the close in 7 days
    assert len(bot_bodies(st, n)) == 1 and "I will close it" in bot_bodies(st, n)[0]
    st.advance(DAY)
    _exempt(st, n, how, on=True)
    for _ in range(3):  # three weekly looks while it is exempt: nothing
        st.advance(7 * DAY)
        sweep(ctx)
    assert (st.issue(REPO, n).state, len(bot_bodies(st, n))) == ("open", 1)
    _exempt(st, n, how, on=False)
    st.advance(60)  # the next sweep, a minute later
    sweep(ctx)
    assert st.issue(REPO, n).state == "open", reasons(ctx, n)[-2:]
    pings = bot_bodies(st, n)
    assert len(pings) == 2 and "I will close it" in pings[-1], reasons(ctx, n)[-2:]
    assert (
        f"the issue was {'in a milestone' if how == 'milestone' else how} after the ping"
        in (reasons(ctx, n)[-1])
    )
    st.advance(6 * DAY)
    sweep(ctx)
    assert st.issue(REPO, n).state == "open", reasons(ctx, n)[-2:]
    st.advance(DAY + 60)  # 7 days after the new ping
    sweep(ctx)
    assert st.issue(REPO, n).state == "closed", reasons(ctx, n)[-2:]


def test_a_lock_lifted_the_next_day_pings_again_when_the_close_was_due(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """Locked for a day only: the ping closing nothing, a new one is due days_until_ping after
    it (not at once: never two pings within that time), and the close 7 days after that."""
    st, ctx = world(fake_github, tmp_path)
    n = asked(st, st.now() - 8 * DAY)
    sweep(ctx)
    st.advance(DAY)
    _exempt(st, n, "locked", on=True)
    st.advance(DAY)
    _exempt(st, n, "locked", on=False)
    st.advance(60)
    sweep(ctx)
    assert len(bot_bodies(st, n)) == 1, reasons(ctx, n)[-1]  # not twice within 7 days
    assert "a ping that does is due" in reasons(ctx, n)[-1], reasons(ctx, n)[-1]
    st.advance(5 * DAY + 60)  # 7 days after the first ping: its close was due now
    sweep(ctx)
    assert st.issue(REPO, n).state == "open" and len(bot_bodies(st, n)) == 2, reasons(ctx, n)[-1]
