"""A run whose worker died on it too often is parked once: two recovery sweeps at once (two beats),
or a sweep and a copy of its message that claimed it, each found it, and each used to park it:
two dead letters, and `smolbot retry` queued it twice."""

from __future__ import annotations

import time
from pathlib import Path
from unittest import mock

from bot.coord import jobs
from bot.settings import load_settings


@jobs.register("park_once_noop")
def park_once_noop(rt, *, repo: str, number: int) -> None:  # type: ignore[no-untyped-def]
    return None


def _lapsed_runs(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A delivery and a job `running`, claimed as often as the lapse limit, their leases out."""
    from workers.celery_app import configure
    from workers.tasks import MAX_LAPSES, _wr

    settings = load_settings(env="test", data_dir=tmp_path, task_max_retries=2)
    configure(settings)
    store = _wr().rt.store
    limit = settings.task_max_retries + MAX_LAPSES
    long_ago = time.time() - settings.recovery_after_s - 60
    kwargs = {"repo": "o/r", "number": 1}
    store.record_delivery("poison", "issues", "{}", repo="o/r", number=1)
    jid = jobs.record(store, "park_once_noop", kwargs)
    assert jid
    for table, rid in (("deliveries", "poison"), ("jobs", jid)):
        store.db.execute(
            f"update {table} set status = 'running', attempts = ?, updated_at = ? where id = ?",
            [limit, long_ago, rid],
        )
    store.db.conn.commit()
    return settings, store, jid, kwargs


def _listings(store, settings):  # type: ignore[no-untyped-def]
    rows = store.stuck_rows("deliveries", settings.recovery_after_s, received_after_s=30.0)
    runs = jobs.stuck(store, settings.recovery_after_s, 30.0)
    return rows, runs


def test_two_sweeps_park_a_lapsed_run_once(tmp_path: Path) -> None:
    from workers.tasks import handle_delivery, recover_deliveries, replay_dead_letter, run_job

    settings, store, _, _ = _lapsed_runs(tmp_path)
    rows, runs = _listings(store, settings)
    recover_deliveries.run()  # sweep A
    # sweep B listed before A parked them (the same listing), and parks them in its turn
    with (
        mock.patch.object(type(store), "stuck_rows", lambda *a, **k: rows),
        mock.patch.object(jobs, "stuck", lambda *a, **k: runs),
    ):
        recover_deliveries.run()
    letters = store.dead_letters()
    assert sorted(d["task"] for d in letters) == ["smolbot.handle_delivery", "smolbot.run_job"]
    parked = [a for a in store.audit_rows() if a["outcome"] == "parked"]
    assert len(parked) == 2
    with (
        mock.patch.object(handle_delivery, "apply_async") as pub_d,
        mock.patch.object(run_job, "apply_async") as pub_j,
    ):
        for d in letters:  # what `smolbot retry` does with each
            replay_dead_letter(store, d)
            store.mark_replayed(d["id"])
    assert pub_d.call_count == 1 and pub_j.call_count == 1


def test_a_sweep_does_not_park_again_what_a_copy_claimed_and_parked(tmp_path: Path) -> None:
    """The sweep listed the lapsed runs; a copy of each message claimed and parked its run
    before the sweep came to park it."""
    from workers.tasks import handle_delivery, recover_deliveries, run_job

    settings, store, jid, kwargs = _lapsed_runs(tmp_path)
    rows, runs = _listings(store, settings)
    assert handle_delivery.run("poison") == "dead"
    assert run_job.run("park_once_noop", kwargs, job_id=jid) == "dead"
    with (
        mock.patch.object(type(store), "stuck_rows", lambda *a, **k: rows),
        mock.patch.object(jobs, "stuck", lambda *a, **k: runs),
    ):
        recover_deliveries.run()
    assert sorted(d["task"] for d in store.dead_letters()) == [
        "smolbot.handle_delivery",
        "smolbot.run_job",
    ]
    assert store.delivery("poison")["status"] == "dead"
    assert jobs.run(store, jid)["status"] == "dead"  # type: ignore[index]
