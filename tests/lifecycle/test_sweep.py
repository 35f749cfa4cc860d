"""The sweep job over the in-memory fake: pings, closes, caps, store skips, resumes after rate limits."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.jobs.context import JobContext
from bot.jobs.lifecycle import sweep_installation
from bot.ports import RateLimited
from bot.settings import Settings, load_settings
from bot.store import Store, open_store
from tests.lifecycle.fakes import BOT, FakeGitHub, FakeRepo, Limiter, day

CLOSE_ON = "lifecycle:\n  days_until_ping: 7\n  days_until_close: 7\n  close: true\n"


class Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


def world(clock: Clock, limiter: Limiter | None = None, repos: int = 2) -> FakeGitHub:
    """Each repo: #1 asked by a maintainer, #2 author answered, #3 pinned, #4 fresh question."""
    gh = FakeGitHub(clock, limiter)
    for r in range(repos):
        repo = gh.add_repo(f"o/r{r}")
        repo.files[".github/smolbot.yml"] = CLOSE_ON
        repo.add_issue(1, "alice", day(0))
        repo.say(1, "bob", "Which version are you on?", day(1), "MEMBER")
        repo.add_issue(2, "carl", day(0))
        repo.say(2, "bob", "Logs?", day(1), "MEMBER")
        repo.say(2, "carl", "Attached.", day(1.2))
        repo.add_issue(3, "dana", day(0), labels=["pinned"])
        repo.add_issue(4, "erin", day(0))
        repo.say(4, "bob", "Can you retry on main?", day(6), "MEMBER")
    return gh


def ctx_for(gh: FakeGitHub, clock: Clock, tmp: Path, name: str = "s.db") -> JobContext:
    s: Settings = load_settings(data_dir=tmp, env="test")
    store: Store = open_store(tmp / name)
    return JobContext(settings=s, store=store, github=gh, models=None, now=clock)


def bot_comments(repo: FakeRepo, n: int) -> list[str]:
    return [c.body for c in repo.comment_list[n] if c.author == BOT]


def test_a_week_of_sweeps(tmp_path: Path) -> None:
    clock = Clock(day(8.5))
    gh = world(clock)
    ctx = ctx_for(gh, clock, tmp_path)
    res = sweep_installation(ctx, 1)
    r0 = gh.repos["o/r0"]
    assert res.status == "done"
    assert len(bot_comments(r0, 1)) == 1 and "@alice" in bot_comments(r0, 1)[0]
    assert len(bot_comments(r0, 2)) == 1 and "@bob" in bot_comments(r0, 2)[0]
    assert bot_comments(r0, 3) == [] and bot_comments(r0, 4) == []
    for d in (9.5, 10.5, 14.5):
        clock.t = day(d)
        sweep_installation(ctx, 1)
    assert len(bot_comments(r0, 1)) == 1  # never twice inside the window
    clock.t = day(16)
    sweep_installation(ctx, 1)
    assert r0.issues[1].state == "closed" and ("close", 1, "not_planned") in r0.writes
    assert r0.issues[2].state == "open"  # waiting on a maintainer: never closed
    rows = ctx.store.audit_rows("o/r0", 3)
    assert rows and all(r["reason"] == "exempt: label pinned" for r in rows)


def test_without_close_opt_in_it_only_says_would_close(tmp_path: Path) -> None:
    clock = Clock(day(15.5))
    gh = world(clock, repos=1)
    gh.repos["o/r0"].files.clear()  # no config file: defaults (14 + 14 days), close stays off
    ctx = ctx_for(gh, clock, tmp_path)
    sweep_installation(ctx, 1)
    clock.t = day(30)
    sweep_installation(ctx, 1)
    assert gh.repos["o/r0"].issues[1].state == "open"
    reasons = [r["reason"] for r in ctx.store.audit_rows("o/r0", 1)]
    assert any(r.startswith("would close") for r in reasons)


def test_unchanged_issues_cost_no_reads_and_a_lost_db_never_pings_twice(tmp_path: Path) -> None:
    clock = Clock(day(8.5))
    gh = world(clock, repos=1)
    r0 = gh.repos["o/r0"]
    ctx = ctx_for(gh, clock, tmp_path)
    sweep_installation(ctx, 1)
    first = r0.calls["comments"]
    clock.t = day(9.5)
    sweep_installation(ctx, 1)
    assert r0.calls["comments"] - first == 2  # only the two issues the bot just commented on
    clock.t = day(10.5)
    before = r0.calls["comments"]
    sweep_installation(ctx, 1)
    assert r0.calls["comments"] == before  # nothing changed, nothing due
    lost = ctx_for(gh, clock, tmp_path, "fresh.db")  # the database is gone
    sweep_installation(lost, 1)
    assert len(bot_comments(r0, 1)) == 1 and len(bot_comments(r0, 2)) == 1


def test_needs_info_comes_off_in_a_sweep(tmp_path: Path) -> None:
    clock = Clock(day(3))
    gh = world(clock, repos=1)
    r0 = gh.repos["o/r0"]
    r0.add_issue(5, "finn", day(0), labels=["needs-info"])
    r0.event(5, "labeled", BOT, day(0), actor_type="Bot", label="needs-info")
    r0.say(5, "finn", "Here is the trace.", day(2))
    sweep_installation(ctx_for(gh, clock, tmp_path), 1)
    assert "needs-info" not in r0.issues[5].labels


def test_a_new_needs_info_label_name_is_read_on_issues_decided_before(tmp_path: Path) -> None:
    """The repository names its own needs-info label in the config after the sweep decided an
    issue carrying it waits on nobody (a request without "?"): the stored decision does not hold
    under the new name, so the author is pinged when due, not skipped as unchanged forever."""
    clock = Clock(day(2))
    gh = world(clock, repos=1)
    r0 = gh.repos["o/r0"]
    r0.add_issue(5, "finn", day(0), labels=["waiting for reporter"])
    r0.say(5, "bob", "Please attach the full log.", day(1), "MEMBER")
    ctx = ctx_for(gh, clock, tmp_path)
    sweep_installation(ctx, 1)
    assert bot_comments(r0, 5) == []
    r0.files[".github/smolbot.yml"] = (
        CLOSE_ON + "triage:\n  needs_info_label: waiting for reporter\n"
    )
    clock.t = day(8.5)
    sweep_installation(ctx, 1)
    (ping,) = bot_comments(r0, 5)
    assert "@finn" in ping


def test_operation_caps_are_audited(tmp_path: Path) -> None:
    clock = Clock(day(8.5))
    gh = world(clock, repos=3)
    ctx = ctx_for(gh, clock, tmp_path)
    res = sweep_installation(ctx, 1, max_operations=2)
    posted = sum(len(bot_comments(r, n)) for r in gh.repos.values() for n in (1, 2))
    assert posted == 2 and res.operations == 2
    capped = [r for r in ctx.store.audit_rows(limit=500) if r["action"] == "cap"]
    assert len(capped) == 7 and "per installation" in capped[0]["reason"]  # not read at all
    clock.t = day(9)
    sweep_installation(ctx, 1, max_operations=100)  # the next run does what the cap held back
    posted = sum(len(bot_comments(r, n)) for r in gh.repos.values() for n in (1, 2))
    assert posted == 6


def test_rate_limit_pauses_and_resumes_where_it_stopped(tmp_path: Path) -> None:
    clock = Clock(day(8.5))
    # in o/r0, after its config (.yml, .yaml), bob's role and some issues' reads
    limiter = Limiter(fail_at=11)
    gh = world(clock, limiter)
    ctx = ctx_for(gh, clock, tmp_path)
    with pytest.raises(RateLimited) as err:
        sweep_installation(ctx, 1)
    assert err.value.retry_after_s == 60
    row = next(ctx.store.rows("select * from sweeps"))
    assert row["status"] == "paused" and row["repo"] == "o/r0"
    res = sweep_installation(ctx, 1)
    assert res.status == "done" and json.loads(row["counts"])["issues"] < res.counts["issues"]
    assert sweep_installation(ctx, 1).counts == res.counts  # a finished run is not redone


def _final_state(gh: FakeGitHub) -> dict[str, object]:
    return {
        name: sorted(
            (n, i.state, tuple(i.labels), tuple(bot_comments(r, n))) for n, i in r.issues.items()
        )
        for name, r in gh.repos.items()
    }


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.integers(min_value=1, max_value=40), st.sampled_from([8.5, 16.0]))
def test_interrupted_sweep_plus_rerun_equals_one_sweep(
    tmp_path: Path, fail_at: int, when: float
) -> None:
    one_clock, two_clock = Clock(day(when)), Clock(day(when))
    straight = world(one_clock)
    sweep_installation(ctx_for(straight, one_clock, tmp_path, f"a{fail_at}{when}.db"), 1)
    broken = world(two_clock, Limiter(fail_at))
    ctx = ctx_for(broken, two_clock, tmp_path, f"b{fail_at}{when}.db")
    try:
        sweep_installation(ctx, 1)
    except RateLimited:
        two_clock.t += timedelta(minutes=5)
        sweep_installation(ctx, 1)
    assert _final_state(broken) == _final_state(straight)


def test_a_maintainer_with_hidden_membership_is_found_by_permission(tmp_path: Path) -> None:
    clock = Clock(day(8.5))
    gh = world(clock, repos=1)
    r0 = gh.repos["o/r0"]
    r0.perms["mia"] = "maintain"
    r0.add_issue(6, "gus", day(0))
    r0.say(6, "mia", "Does it happen on Linux too?", day(1))  # association NONE
    ctx = ctx_for(gh, clock, tmp_path)
    sweep_installation(ctx, 1)
    (ping,) = bot_comments(r0, 6)
    assert "@gus" in ping and "@mia" not in ping
    asked = r0.calls["permission"]
    clock.t = day(9.5)
    sweep_installation(ctx, 1)
    assert r0.calls["permission"] == asked  # roles are remembered between runs


def test_long_threads_get_one_summary_during_the_sweep(tmp_path: Path) -> None:
    from bot.core.markers import markers_in
    from tests.lifecycle.fakes import ScriptedModels

    clock = Clock(day(8.5))
    gh = world(clock, repos=1)
    r0 = gh.repos["o/r0"]
    r0.files[".github/smolbot.yml"] = CLOSE_ON + "summaries:\n  auto_after_comments: 2\n"
    ctx = ctx_for(gh, clock, tmp_path)
    ctx.models = ScriptedModels()  # gives no valid answer: the extractive summary is posted
    sweep_installation(ctx, 1)
    summaries = [b for b in bot_comments(r0, 2) if "summary" in markers_in(b)]
    assert len(summaries) == 1 and "extractive" in summaries[0]
    assert bot_comments(r0, 1) and not any("summary" in markers_in(b) for b in bot_comments(r0, 1))
    writes = len(r0.writes)
    clock.t = day(9.5)
    sweep_installation(ctx, 1)
    assert len(r0.writes) == writes  # unchanged thread: no edit, no second summary
