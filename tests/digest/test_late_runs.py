"""A weekly slot late in the local week: an hourly run that comes late, past the week's end, still
posts that week's digest (as that week's), once; runs on time post once a week, at the first run
after the slot, in any time zone, across DST changes and the new year."""

from __future__ import annotations

import bisect
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.core.config import DigestConfig
from bot.core.digest import due, due_slot, week_id
from bot.github import GitHubApp
from bot.jobs.context import JobContext
from bot.jobs.digest import last_week_posted, run_due_digests
from bot.store import open_store
from tests.fake_github import FakeGitHubServer
from tests.fake_github.plugin import make_settings

SUNDAY_LATE = DigestConfig(weekday=6, hour=23, timezone="UTC")
ON_TIME = datetime(2026, 11, 29, 23, 5, tzinfo=UTC)  # Sunday of ISO week 48
LATE = datetime(2026, 11, 30, 0, 20, tzinfo=UTC)  # 75 minutes later: Monday of week 49


def test_a_late_run_in_the_next_week_still_posts_the_slot_s_week() -> None:
    assert due(ON_TIME, SUNDAY_LATE, "2026-w47")
    assert due(LATE, SUNDAY_LATE, "2026-w47")  # week 48's slot, not yet posted
    slot = due_slot(LATE, SUNDAY_LATE, "2026-w47")
    assert slot is not None and week_id(slot) == "2026-w48"
    assert slot == datetime(2026, 11, 29, 23, tzinfo=ZoneInfo("UTC"))
    assert not due(LATE, SUNDAY_LATE, "2026-w48")  # posted late: not again
    assert not due(LATE + timedelta(days=6), SUNDAY_LATE, "2026-w48")  # Sunday 00:20 of w49
    assert due(LATE + timedelta(days=6, hours=23), SUNDAY_LATE, "2026-w48")  # w49's slot
    # the first digest of a repository waits for this week's slot, as the dashboard says
    assert not due(LATE, SUNDAY_LATE) and due(ON_TIME, SUNDAY_LATE)


ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Sydney",
    "Pacific/Auckland",
]
START = datetime(2025, 12, 29, 0, 7, tzinfo=UTC)
HOURS = 24 * 375  # 2026 and the new year


def _slots(cfg: DigestConfig) -> list[datetime]:
    """Every slot's wall-clock time (naive, local) over the simulated year, found day by day."""
    out = []
    day = date(2025, 12, 20)
    while day < date(2027, 1, 20):
        if day.weekday() == cfg.weekday:
            out.append(datetime(day.year, day.month, day.day, cfg.hour))
        day += timedelta(days=1)
    return out


@pytest.mark.parametrize("tz", ZONES)
@given(
    weekday=st.integers(0, 6),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    outages=st.lists(st.tuples(st.integers(0, HOURS), st.integers(1, 200)), max_size=12),
)
@example(weekday=6, hour=23, minute=5, outages=[])  # on time, every hour
@example(weekday=6, hour=23, minute=5, outages=[(47 * 24 + 23, 2)])  # Sunday 23:05 of w48 lost
@settings(max_examples=10, deadline=None)
def test_hourly_runs_post_each_week_once_on_time_or_late(
    tz: str, weekday: int, hour: int, minute: int, outages: list[tuple[int, int]]
) -> None:
    """Hourly runs, some hours lost (a busy queue, a restart, days down): every week whose slot
    is followed by a run before the next slot is posted once, at the first such run, as its own
    week; no week twice, none older after a newer one."""
    cfg = DigestConfig(weekday=weekday, hour=hour, timezone=tz)
    zone = ZoneInfo(tz)
    down = {h for start, length in outages for h in range(start, start + length)}
    runs = [START + timedelta(hours=h, minutes=minute) for h in range(HOURS) if h not in down]
    posts: list[tuple[datetime, str]] = []
    last: str | None = None
    for now in runs:
        slot = due_slot(now, cfg, last)
        assert due(now, cfg, last) is (slot is not None)
        if slot is not None:
            last = week_id(slot, tz)
            posts.append((now, last))
    weeks = [w for _, w in posts]
    assert weeks == sorted(set(weeks))  # no week twice, never an older one after a newer one
    walls = _slots(cfg)
    first_after: dict[int, datetime] = {}  # slot index -> the first run between it and the next
    for now in runs:
        i = bisect.bisect_right(walls, now.astimezone(zone).replace(tzinfo=None)) - 1
        first_after.setdefault(i, now)
    expected = [
        (now, "{}-w{:02d}".format(*walls[i].isocalendar()[:2]))
        for i, now in sorted(first_after.items())
    ]
    if posts:  # from the first post on (the first waits for a slot in its own week), every one
        assert posts == expected[expected.index(posts[0]) :]


# --- the job, over HTTP -------------------------------------------------------------------------
INST, REPO = 7, "octo/late"
CONFIG = "digest:\n  weekday: 6\n  hour: 23\n  timezone: UTC\n  top: 3\n"


def test_the_job_run_late_posts_last_week_s_digest_as_last_week_s(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    gh = fake_github.state
    gh.advance(datetime(2026, 11, 22, 23, 5, tzinfo=UTC).timestamp() - gh.now())  # w47's slot
    gh.add_repo(REPO, INST)
    gh.put_file(REPO, ".github/smolbot.yml", CONFIG)
    gh.add_issue(REPO, "Export is slow", "Takes minutes.", created_at=gh.now() - 86400)
    settings = make_settings(fake_github, tmp_path)
    store = open_store(settings.db_path)
    store.upsert_installation(INST, "octo")
    store.add_repositories(INST, [{"full_name": REPO, "id": 1}])
    ticks: list[datetime] = []

    def clock() -> datetime:
        ticks.append(datetime.fromtimestamp(gh.now(), UTC))
        return ticks[-1]

    ctx = JobContext(settings, store, github=GitHubApp(settings, clock=gh.now), now=clock)
    (first,) = run_due_digests(ctx)
    assert first.digest.week == "2026-w47"
    gh.advance(LATE.timestamp() - gh.now())  # the Sunday 23:05 run of w48 never came
    (late,) = run_due_digests(ctx)
    assert late.created and late.digest.week == "2026-w48"
    assert "W48" in gh.issue(REPO, late.number).title
    assert last_week_posted(store, REPO) == "2026-w48"
    gh.advance(3600)
    assert run_due_digests(ctx) == []  # not twice
    # w49's slot: the job finds it due at 23:59:59 Sunday; the clock turns Monday while it works
    gh.advance(datetime(2026, 12, 6, 23, 59, 59, tzinfo=UTC).timestamp() - gh.now())
    ticks.clear()

    def racing() -> datetime:
        at = clock()
        if len(ticks) == 1:
            gh.advance(2)
        return at

    ctx = JobContext(settings, store, github=GitHubApp(settings, clock=gh.now), now=racing)
    (sunday,) = run_due_digests(ctx)
    assert ticks[-1].isocalendar()[1] == 50  # the job's later clock reads were on Monday
    assert sunday.digest.week == "2026-w49" and last_week_posted(store, REPO) == "2026-w49"
    assert [r["week"] for r in store.rows("select week from digests where repo = ?", [REPO])] == [
        "2026-w47",
        "2026-w48",
        "2026-w49",
    ]
    posts = gh.requests("POST", f"/repos/{REPO}/issues")  # and the notes on the ones closed
    assert len([p for p in posts if p.path == f"/repos/{REPO}/issues"]) == 3
