"""Model-queue jobs: summaries deferred from commands, the daily sweep and the weekly digests."""

from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.coord import jobs as registry
from bot.jobs.backfill import CURSORS, cursor, handle_installation_event
from bot.jobs.commands import handle_comment_event
from bot.jobs.context import JobContext
from bot.jobs.runtime import Runtime
from bot.samples import load_sample
from bot.sandbox.seed import seed_sample
from bot.settings import load_settings
from bot.store import open_store
from tests.fake_github.plugin import make_settings


class PinnedRuntime(Runtime):
    """The worker's Runtime with the clock at the sample's 'now' (a Monday, after the digest slot)."""

    def context(self) -> JobContext:
        ctx = super().context()
        now = datetime.fromisoformat(load_sample()["now"].replace("Z", "+00:00"))
        ctx.now = lambda: now
        return ctx


def runtime(fake_github: Any, tmp_path: Path) -> tuple[Runtime, dict[str, Any]]:
    sample = load_sample()
    seed_sample(fake_github.state, sample)
    settings = make_settings(fake_github, tmp_path, bot_login=sample["bot_login"])
    rt = PinnedRuntime(settings, open_store(settings.effective_database_url))
    rt.__dict__["models"] = None  # no local model: jobs take their model-free paths
    rt.store.upsert_installation(sample["installation"]["id"], "octo-org")
    rt.store.add_repositories(sample["installation"]["id"], [sample["repository"]])
    return rt, sample


def test_summarize_command_is_deferred_to_the_model_queue(fake_github: Any, tmp_path: Path) -> None:
    rt, sample = runtime(fake_github, tmp_path)
    deferred: list[tuple[str, dict[str, Any], str | None]] = []
    ctx = rt.context()
    ctx.defer = lambda name, kw, key: deferred.append((name, kw, key))
    issue = next(i for i in sample["issues"] if i["number"] == 210)
    payload = {
        "action": "created",
        "installation": sample["installation"],
        "repository": sample["repository"],
        "issue": issue,
        "comment": {"body": "/smolbot summarize", "user": {"login": "mona-lisa", "type": "User"}},
    }
    handle_comment_event(ctx, "d-sum", payload)
    assert deferred == [
        (
            "summarize",
            {
                "installation_id": sample["installation"]["id"],
                "repo": "octo-org/sample-app",
                "number": 210,
                "requested_by": "mona-lisa",
                "delivery_id": "d-sum",
            },
            "d-sum",
        )
    ]
    assert fake_github.state.writes() == []  # nothing posted by the fast path


def test_registered_jobs_exist() -> None:
    for name in (
        "summarize",
        "lifecycle_sweep",
        "weekly_digests",
        "tune_encoder",
        "resume_backfills",
        "backfill",
    ):
        assert registry.get_job(name).name == name


def test_an_installation_queues_one_backfill_job_per_repository_which_asks_for_a_tune(
    fake_github: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """The fast queue's delivery only queues the backfills; each runs as a model-queue job."""
    monkeypatch.setattr(registry, "_enqueuer", [])  # no broker: runs stay recorded, not started
    rt, sample = runtime(fake_github, tmp_path)
    name = sample["repository"]["full_name"]
    ctx = rt.context()  # its defer records the run in the store's job table
    rt.context = lambda: ctx  # type: ignore[method-assign]
    payload = {
        "action": "created",
        "installation": sample["installation"],
        "repositories": [{"full_name": name}],
    }
    handle_installation_event(ctx, "inst-1", payload)
    handle_installation_event(ctx, "inst-1", payload)  # the task queue's retry of that delivery
    inst = sample["installation"]["id"]
    kwargs = {"installation_id": inst, "repo": name, "delivery_id": "inst-1"}
    assert [(j["name"], j["kwargs"]) for j in registry.waiting(rt.store)] == [("backfill", kwargs)]
    assert rt.store.issues(name) == []  # nothing listed on the fast path
    assert [r["outcome"] for r in rt.store.audit_rows(name, limit=50)] == ["queued"]  # once
    doctor = _store_check(rt)
    assert re.search(
        f"backfill of {name} queued \\d+ s ago, not started: a model-queue worker", doctor
    )

    registry.get_job("backfill").fn(rt, **kwargs)
    issues = [i for i in sample["issues"] if "pull_request" not in i]
    assert len(rt.store.issues(name)) == len(issues)  # backfilled over HTTP
    tunes = [j["kwargs"] for j in registry.waiting(rt.store, "tune_encoder")]
    assert tunes == [{"reason": f"backfill of {name}"}]
    pages = len(fake_github.state.requests("GET", f"/repos/{name}/issues"))
    registry.get_job("backfill").fn(rt, **kwargs)  # the job run again (a retry after it finished)
    assert len(fake_github.state.requests("GET", f"/repos/{name}/issues")) == pages
    assert len(registry.waiting(rt.store)) == 2


def _store_check(rt: Runtime) -> str:
    from bot.cli.doctor import _store

    return _store(rt.settings)[1]


def test_a_queued_backfill_of_a_repository_removed_meanwhile_lists_nothing(
    fake_github: Any, tmp_path: Path
) -> None:
    rt, sample = runtime(fake_github, tmp_path)
    name = sample["repository"]["full_name"]
    rt.store.remove_repositories([name])  # installation_repositories.removed, before the job ran
    kwargs = {"installation_id": sample["installation"]["id"], "repo": name, "delivery_id": "i-2"}
    registry.get_job("backfill").fn(rt, **kwargs)
    assert fake_github.state.requests("GET", f"/repos/{name}/issues") == []
    rows = rt.store.audit_rows(name, limit=50)
    assert [(r["outcome"], r["reason"]) for r in rows] == [
        ("skipped", "the App is no longer installed on it")
    ]


def test_sweep_job_runs_once_per_run_id(fake_github: Any, tmp_path: Path) -> None:
    rt, sample = runtime(fake_github, tmp_path)
    job = registry.get_job("lifecycle_sweep")
    job.fn(rt, installation_id=sample["installation"]["id"], run_id="2026-11-23")
    rows = [r for r in rt.store.audit_rows(limit=1000) if r["task"].startswith("lifecycle")]
    assert rows, "the sweep audited nothing"
    writes = len(fake_github.state.writes())
    job.fn(rt, installation_id=sample["installation"]["id"], run_id="2026-11-23")  # a finished run
    assert len(fake_github.state.writes()) == writes


def test_digest_job_posts_one_issue_per_week(fake_github: Any, tmp_path: Path) -> None:
    rt, _ = runtime(fake_github, tmp_path)
    repo = fake_github.state.repos["octo-org/sample-app"]
    before = set(repo.issues)
    job = registry.get_job("weekly_digests")
    job.fn(rt, slot="a")
    job.fn(rt, slot="b")  # the same week again: edits, never a second issue
    new = [repo.issues[n] for n in set(repo.issues) - before]
    assert len(new) == 1 and "digest" in new[0].labels


def test_the_hourly_resume_job_finishes_a_stopped_backfill(
    fake_github: Any, tmp_path: Path
) -> None:
    rt, sample = runtime(fake_github, tmp_path)
    name = sample["repository"]["full_name"]
    row = {"repo": name, "status": "stopped", "page": 1, "delivery_id": "inst-9"}
    at = {"started_at": time.time() - 600, "updated_at": time.time() - 300}
    rt.store.db.table(CURSORS).upsert({**row, **at, "error": "Unavailable: 502"}, pk="repo")
    registry.get_job("resume_backfills").fn(rt, slot="2026-12-05T01")
    assert cursor(rt.store, name)["status"] == "done"  # type: ignore[index]
    issues = [i for i in sample["issues"] if "pull_request" not in i]
    assert len(rt.store.issues(name)) == len(issues)
    resumed = [r for r in rt.store.audit_rows(name, limit=500) if r["outcome"] == "resumed"]
    assert [r["delivery_id"] for r in resumed] == ["inst-9"]


def test_every_beat_entry_names_a_registered_task(tmp_path: Path) -> None:
    import workers.tasks  # noqa: F401  (registers the tasks on the app)
    from workers.celery_app import app, beat_schedule

    entries = beat_schedule(load_settings(env="test", data_dir=tmp_path))
    assert "resume-backfills" in entries
    assert {e["task"] for e in entries.values()} <= set(app.tasks)


def test_the_hourly_beat_task_records_a_resume_job_only_when_one_stopped(tmp_path: Path) -> None:
    from workers.celery_app import configure
    from workers.tasks import _wr, schedule_backfill_resumes

    configure(load_settings(env="test", data_dir=tmp_path))
    store = _wr().rt.store

    def resume_jobs() -> list[str]:
        return [r[0] for r in store.db.execute("select name from jobs").fetchall()]

    assert schedule_backfill_resumes.run() == "" and resume_jobs() == []
    at = {"started_at": time.time(), "updated_at": time.time()}
    store.db.table(CURSORS).upsert({"repo": "o/r", "status": "stopped", "page": 2, **at}, pk="repo")
    slot = schedule_backfill_resumes.run()
    assert slot and resume_jobs() == ["resume_backfills"]
    assert schedule_backfill_resumes.run() == slot and resume_jobs() == ["resume_backfills"]


def test_housekeeping_drops_old_payloads_and_cached_answers_only(tmp_path: Path) -> None:
    """Daily: finished deliveries older than retention_days lose their payload (the row stays:
    a redelivery of it is still known); dead ones keep theirs for `smolbot retry`; cached model
    answers past retention go. Nothing newer is touched."""
    import time

    from workers.celery_app import beat_schedule, configure
    from workers.tasks import _wr, housekeeping

    settings = load_settings(env="test", data_dir=tmp_path, retention_days=30)
    assert beat_schedule(settings)["housekeeping"]["task"] == "smolbot.housekeeping"
    configure(settings)
    store = _wr().rt.store
    old, new = time.time() - 31 * 86400, time.time() - 29 * 86400
    for did, status, at in (
        ("old-done", "done", old),
        ("old-dead", "dead", old),
        ("new", "done", new),
    ):
        store.record_delivery(did, "issues", '{"big": "payload"}', repo="o/r", number=1)
        store.db.execute(
            "update deliveries set status = ?, updated_at = ? where id = ?", [status, at, did]
        )
    for key, at in (("stale", old), ("fresh", new)):
        store.db.table("llm_cache").insert(
            {"key": key, "task": "t", "prompt_version": "1", "model": "m", "value": "{}",
             "confidence": 0.9, "created_at": at, "hits": 0}
        )  # fmt: skip
    store.db.conn.commit()
    assert housekeeping.run() == {"payloads": 1, "cached_answers": 1, "model_calls": 0}
    payloads = {r[0]: r[1] for r in store.db.execute("select id, payload from deliveries")}
    assert payloads == {
        "old-done": "",
        "old-dead": '{"big": "payload"}',
        "new": '{"big": "payload"}',
    }
    assert [r[0] for r in store.db.execute("select key from llm_cache")] == ["fresh"]
    assert not store.record_delivery("old-done", "issues", "{}")  # still known: not run twice
    assert housekeeping.run() == {"payloads": 0, "cached_answers": 0, "model_calls": 0}


def test_the_daily_sweeps_are_made_up_in_a_later_hour(tmp_path: Path) -> None:
    """Beat asked once, at sweep_hour_utc: a message it could not publish then (the broker
    away) meant no lifecycle sweep that day. Asked hourly, the day's runs are submitted from
    that hour on, once each."""
    from calendar import timegm

    from workers.celery_app import beat_schedule, configure
    from workers.tasks import _wr, schedule_sweeps

    settings = load_settings(env="test", data_dir=tmp_path, sweep_hour_utc=6)
    assert beat_schedule(settings)["lifecycle-sweeps"]["schedule"].hour == set(range(24))
    configure(settings)
    store = _wr().rt.store
    store.upsert_installation(7, "o")

    def runs() -> list[str]:
        return [r[0] for r in store.db.execute("select name from jobs order by name").fetchall()]

    day = timegm((2026, 12, 7, 0, 0, 0))
    assert schedule_sweeps.run(now=day + 5 * 3600) == 0 and runs() == []  # before the hour
    # 06:00's message lost: 07:00 submits the day's runs, 08:00 finds them recorded
    assert schedule_sweeps.run(now=day + 7 * 3600) == 1
    assert runs() == ["lifecycle_sweep", "tune_encoder"]
    schedule_sweeps.run(now=day + 8 * 3600)
    assert runs() == ["lifecycle_sweep", "tune_encoder"]
    schedule_sweeps.run(now=day + 86400 + 6 * 3600)  # the next day: its own runs
    assert runs().count("lifecycle_sweep") == 2
