"""A daily sweep closes on the day the ping announced, not a day late: the ping is posted some
way into a run, so "7 days after the ping" falls just after the 7th daily run. A close (and the
ping that announces one) may come SWEEP_GRACE before the exact time, never sooner."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.core.lifecycle import SWEEP_GRACE
from bot.jobs.context import JobContext
from bot.sandbox.fake_github.server import FakeGitHubServer
from bot.sandbox.fake_github.state import FakeGitHub as FakeState
from tests.lifecycle.http_world import (
    CLOSE_OFF,
    CLOSE_ON,
    DAY,
    REPO,
    asked,
    bot_bodies,
    patch_host,
    reasons,
    sweep,
    world,
)

GRACE = SWEEP_GRACE.total_seconds()


def _busy_runs(st: FakeState, ctx: JobContext) -> list[float]:
    """Every run takes a minute before it posts (other issues went first); returns the runs'
    start times as they are taken."""
    starts: list[float] = []
    real_now = ctx.now

    def now() -> datetime:
        got = real_now()
        starts.append(got.timestamp())
        return got

    ctx.now = now

    def busy_run(name: str, host: Any) -> None:
        post = host.create_comment

        def create_comment(n: int, body: str) -> int:
            st.advance(60)
            return int(post(n, body))

        host.create_comment = create_comment

    patch_host(ctx, busy_run)
    return starts


def test_a_daily_sweep_closes_on_the_announced_day_not_a_day_late(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)
    starts = _busy_runs(st, ctx)
    sweep(ctx)  # day 0, 06:00: the ping, posted at 06:01
    assert len(bot_bodies(st, number)) == 1
    st.advance(starts[0] + 7 * DAY - st.now())  # day 7, 06:00: the 7th daily run
    sweep(ctx)
    closed_on = datetime.fromtimestamp(st.now(), UTC).date()
    assert st.issue(REPO, number).state == "closed", (closed_on, reasons(ctx, number)[-2:])


def test_the_ping_that_announces_the_close_is_not_a_day_late_either(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """Closing turned on after a ping that did not say so: a ping announcing the close comes
    on the 7th daily run after the first one."""
    st, ctx = world(fake_github, tmp_path, CLOSE_OFF)
    number = asked(st, st.now() - 8 * DAY)
    starts = _busy_runs(st, ctx)
    sweep(ctx)  # the ping, no close announced
    st.put_file(REPO, ".github/smolbot.yml", CLOSE_ON)
    st.advance(starts[0] + 7 * DAY - st.now())
    sweep(ctx)
    pings = bot_bodies(st, number)
    assert len(pings) == 2 and "I will close it" in pings[-1], reasons(ctx, number)[-2:]


def test_no_close_comes_sooner_than_the_grace_allows(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)  # the ping, at once
    pinged = st.now()
    st.advance(pinged + 7 * DAY - GRACE - 60 - st.now())  # a run a minute before the grace
    sweep(ctx)
    assert st.issue(REPO, number).state == "open", reasons(ctx, number)[-2:]
    st.advance(120)  # the grace reached: the close is due
    sweep(ctx)
    assert st.issue(REPO, number).state == "closed", reasons(ctx, number)[-2:]
    assert any("for 7 days after the ping" in r for r in reasons(ctx, number)), reasons(ctx, number)
