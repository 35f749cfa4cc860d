"""A close comes no sooner than the ping said: "If there is no answer within N days" is N whole
days after the ping, so the daily run that starts a minute before that time does not close, the
first run after it does (usually the next day's). The ping that announces a close may come
SWEEP_GRACE before its time, on its day: a ping early is no harm to anyone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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


def _to_hour(st: FakeState, hour: int) -> None:
    """Advance the fake's clock to the next `hour`:00 UTC."""
    now = datetime.fromtimestamp(st.now(), UTC)
    at = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if at <= now:
        at += timedelta(days=1)
    st.advance(at.timestamp() - st.now())


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


def _ping_at(st: FakeState, number: int) -> float:
    (ping,) = [c for c in st.comments(REPO, number) if c.user_type == "Bot"]
    return float(ping.created_at)


def test_the_daily_run_a_minute_short_of_the_days_does_not_close_the_next_one_does(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)
    starts = _busy_runs(st, ctx)
    sweep(ctx)  # day 0, 06:00: the ping, posted at 06:01
    pinged = _ping_at(st, number)
    st.advance(starts[0] + 7 * DAY - st.now())  # day 7, 06:00: a minute short of 7 days
    sweep(ctx)
    assert st.issue(REPO, number).state == "open", reasons(ctx, number)[-2:]
    due = datetime.fromtimestamp(pinged + 7 * DAY, UTC).strftime("%Y-%m-%d %H:%M")
    assert reasons(ctx, number)[-1].endswith(f"close due {due} UTC"), reasons(ctx, number)[-1]
    st.advance(DAY)  # day 8's run
    sweep(ctx)
    issue = st.issue(REPO, number)
    assert issue.state == "closed" and issue.closed_at is not None, reasons(ctx, number)[-2:]
    assert issue.closed_at - pinged >= 7 * DAY
    assert any("for 7 days after the ping" in r for r in reasons(ctx, number))


def test_a_ping_late_in_the_day_is_not_closed_half_a_day_early(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """Pinged at 18:00 UTC (a `smolbot sweep` by hand, a run resumed after a rate limit): the
    06:00 run 6.5 days later closed it, with a note saying nobody answered "for 7 days"."""
    st, ctx = world(fake_github, tmp_path)
    _to_hour(st, 18)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)  # the ping, "If there is no answer within 7 days, I will close it"
    pinged = _ping_at(st, number)
    st.advance(6 * DAY + 12 * 3600)  # 06:00 UTC on the 7th day
    sweep(ctx)
    assert st.issue(REPO, number).state == "open", reasons(ctx, number)[-2:]
    st.advance(pinged + 7 * DAY - 60 - st.now())  # a run a minute before the 7 days are over
    sweep(ctx)
    assert st.issue(REPO, number).state == "open", reasons(ctx, number)[-2:]
    st.advance(120)
    sweep(ctx)
    assert st.issue(REPO, number).state == "closed", reasons(ctx, number)[-2:]


def test_the_ping_that_announces_the_close_is_not_a_day_late(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """Closing turned on after a ping that did not say so: a ping announcing the close comes
    on the 7th daily run after the first one (SWEEP_GRACE): the close itself 7 days after it."""
    st, ctx = world(fake_github, tmp_path, CLOSE_OFF)
    number = asked(st, st.now() - 8 * DAY)
    starts = _busy_runs(st, ctx)
    sweep(ctx)  # the ping, no close announced
    st.put_file(REPO, ".github/smolbot.yml", CLOSE_ON)
    st.advance(starts[0] + 7 * DAY - st.now())
    sweep(ctx)
    pings = bot_bodies(st, number)
    assert len(pings) == 2 and "I will close it" in pings[-1], reasons(ctx, number)[-2:]


def test_a_one_day_close_comes_a_whole_day_after_the_ping(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """days_until_close: 1: a run 12 hours after the ping does not close, nor one a moment short
    of the day; the first run after it does."""
    one_day = "lifecycle:\n  days_until_ping: 7\n  days_until_close: 1\n  close: true\n"
    st, ctx = world(fake_github, tmp_path, one_day)
    _to_hour(st, 6)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)  # the ping, 06:00
    pinged = _ping_at(st, number)
    assert "within 1 days" in bot_bodies(st, number)[0]
    st.advance(12 * 3600)
    sweep(ctx)
    assert st.issue(REPO, number).state == "open", reasons(ctx, number)[-2:]
    st.advance(pinged + DAY - 1 - st.now())
    sweep(ctx)
    assert st.issue(REPO, number).state == "open", reasons(ctx, number)[-2:]
    st.advance(2)
    sweep(ctx)
    assert st.issue(REPO, number).state == "closed", reasons(ctx, number)[-2:]
