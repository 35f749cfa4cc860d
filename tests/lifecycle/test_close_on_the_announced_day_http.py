"""A daily sweep closes on the day the ping announced, not a day late: the ping is posted some
way into a run, so "7 days after the ping" falls just after the 7th daily run. A close (and the
ping that announces one) may come SWEEP_GRACE before the exact time, never sooner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bot.core.lifecycle as lifecycle
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


def _to_hour(st: FakeState, hour: int) -> None:
    """Advance the fake's clock to the next `hour`:00 UTC."""
    now = datetime.fromtimestamp(st.now(), UTC)
    at = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if at <= now:
        at += timedelta(days=1)
    st.advance(at.timestamp() - st.now())


def _day(st: FakeState) -> str:
    return datetime.fromtimestamp(st.now(), UTC).date().isoformat()


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
    # pinged in the evening: the grace then ends on the day the close is due (pinged before noon,
    # it ends the day before, when the day rule holds the close: the test failed before 12:00 UTC)
    _to_hour(st, 18)
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


def test_no_close_before_the_day_the_audit_said_the_close_is_due(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """The daily run pings at 06:00 on day 0; day 1's run audits "close due <day 7>". A run on
    day 6 at 18:30 (a `smolbot sweep` by hand, or a daily run the busy queue started late) closes
    it: a day before the date the audit gave, 6.5 days into the "within 7 days" the ping gave."""
    st, ctx = world(fake_github, tmp_path)
    _to_hour(st, 6)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)
    pinged = st.now()
    assert "within 7 days" in bot_bodies(st, number)[0]
    st.advance(DAY)
    sweep(ctx)
    due = [r for r in reasons(ctx, number) if "close due" in r][-1].split("close due ")[1]
    assert due.endswith(" UTC")  # the sweep's day, not the reader's
    due = due.removesuffix(" UTC")
    st.advance(pinged + 6.5 * DAY + 30 * 60 - st.now())
    sweep(ctx)
    state = st.issue(REPO, number).state
    assert state == "open" or _day(st) >= due, (state, _day(st), due, reasons(ctx, number)[-2:])


def test_a_decision_stored_before_the_grace_does_not_hold_the_close_a_day(
    fake_github: FakeGitHubServer, tmp_path: Path, monkeypatch: Any
) -> None:
    """Pinged and looked at again by the code before e547520 (no grace: its stored next_due is
    the exact ping + 7 days). After the upgrade the day-7 run, starting a minute before that
    time as the daily run does, is skipped as "unchanged": the close comes a day late again."""
    st, ctx = world(fake_github, tmp_path)
    monkeypatch.setattr(lifecycle, "SWEEP_GRACE", timedelta(0))  # the code before e547520
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)  # the ping
    pinged = st.now()
    st.advance(DAY)
    sweep(ctx)  # stores "close due", next_due = ping + 7 days
    monkeypatch.undo()  # upgraded
    st.advance(pinged + 7 * DAY - 60 - st.now())
    sweep(ctx)
    assert st.issue(REPO, number).state == "closed", reasons(ctx, number)[-2:]


def test_a_one_day_close_does_not_come_on_the_ping_s_own_day(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """days_until_close: 1 and a run 12 hours after the ping (18:00, the same day): "within 1
    days" is not over, the close is due the next day."""
    one_day = "lifecycle:\n  days_until_ping: 7\n  days_until_close: 1\n  close: true\n"
    st, ctx = world(fake_github, tmp_path, one_day)
    _to_hour(st, 6)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)  # the ping, 06:00
    assert "within 1 days" in bot_bodies(st, number)[0]
    st.advance(12 * 3600)
    sweep(ctx)
    assert st.issue(REPO, number).state == "open", reasons(ctx, number)[-2:]
    _to_hour(st, 6)
    sweep(ctx)
    assert st.issue(REPO, number).state == "closed", reasons(ctx, number)[-2:]
