"""A run whose worker died on it, and duplicates of a finished run's message (a Redis visibility
timeout, a lost ack), meet a busy issue lock: the run keeps its status, so a run that kills its
worker is still parked, and a finished one is never run again."""

from __future__ import annotations

import time
from pathlib import Path

from bot.coord import jobs
from bot.coord.locks import Locks, issue_key
from bot.settings import load_settings
from tests.broker.test_recovery import open_store_like

RUNS: list[int] = []


@jobs.register("test_lapsed_counted")
def counted(rt, *, repo: str, number: int) -> None:  # type: ignore[no-untyped-def]
    RUNS.append(number)  # a run that kills its worker does it here


def _runtime(tmp_path: Path):  # type: ignore[no-untyped-def]
    from workers.celery_app import configure
    from workers.tasks import _wr

    settings = load_settings(env="test", data_dir=tmp_path, task_max_retries=2)
    configure(settings)
    return settings, _wr().rt.store


def test_a_run_that_killed_its_worker_is_parked_though_its_copy_met_the_dead_lock(tmp_path):
    """Celery requeues a killed task's message; its copy meets the issue lock the dead worker
    still leases. It used to set the row `queued` (the sweep parks only `running` rows) and run
    the job again, killing the next worker, for ever."""
    from workers.tasks import MAX_LAPSES, recover_deliveries, run_job

    settings, store = _runtime(tmp_path)
    limit = settings.task_max_retries + MAX_LAPSES
    kwargs = {"repo": "o/r", "number": 3}
    jid = jobs.record(store, "test_lapsed_counted", kwargs)
    now = time.time()
    store.db.execute(
        "update jobs set status = 'running', attempts = ?, updated_at = ? where id = ?",
        [limit, now, jid],
    )
    store.db.conn.commit()
    dead_worker = Locks(open_store_like(store), lease_s=600)
    assert dead_worker.try_acquire(issue_key("o/r", 3))
    assert run_job.run("test_lapsed_counted", kwargs, job_id=jid) == "deferred"
    assert jobs.run(store, jid)["status"] == "running"  # type: ignore[index]
    # the dead worker's leases lapse; the sweep finds the run
    dead_worker._release(issue_key("o/r", 3))
    store.db.execute(
        "update jobs set updated_at = ? where id = ?", [now - settings.recovery_after_s - 1, jid]
    )
    store.db.conn.commit()
    recover_deliveries.run()
    assert jobs.run(store, jid)["status"] == "dead"  # type: ignore[index]
    assert run_job.run("test_lapsed_counted", kwargs, job_id=jid) == "already-final-or-running"
    assert RUNS.count(3) == 0


def test_a_copy_that_claims_a_lapsed_run_first_parks_it(tmp_path):
    """The sweep is not the only one to find a lapsed run: a deferred copy of its message may
    claim it first. Claimed past the limit, it is parked, not run."""
    from workers.tasks import MAX_LAPSES, handle_delivery, run_job

    settings, store = _runtime(tmp_path)
    limit = settings.task_max_retries + MAX_LAPSES
    long_ago = time.time() - settings.recovery_after_s - 1
    kwargs = {"repo": "o/r", "number": 4}
    jid = jobs.record(store, "test_lapsed_counted", kwargs)
    store.record_delivery("poison", "issues", "{}", repo="o/r", number=4)
    for table, rid in (("jobs", jid), ("deliveries", "poison")):
        store.db.execute(
            f"update {table} set status = 'running', attempts = ?, updated_at = ? where id = ?",
            [limit, long_ago, rid],
        )
    store.db.conn.commit()
    assert run_job.run("test_lapsed_counted", kwargs, job_id=jid) == "dead"
    assert handle_delivery.run("poison") == "dead"
    assert RUNS.count(4) == 0
    assert jobs.run(store, jid)["status"] == "dead"  # type: ignore[index]
    assert "never finished" in store.delivery("poison")["error"]
    assert {d["task"] for d in store.dead_letters()} == {
        "smolbot.run_job",
        "smolbot.handle_delivery",
    }


def test_one_run_short_of_the_limit_still_runs(tmp_path):
    from workers.tasks import MAX_LAPSES, run_job

    settings, store = _runtime(tmp_path)
    kwargs = {"repo": "o/r", "number": 5}
    jid = jobs.record(store, "test_lapsed_counted", kwargs)
    store.db.execute(
        "update jobs set status = 'running', attempts = ?, updated_at = ? where id = ?",
        [settings.task_max_retries + MAX_LAPSES - 1, time.time() - 10**4, jid],
    )
    store.db.conn.commit()
    assert run_job.run("test_lapsed_counted", kwargs, job_id=jid) == "done"
    assert RUNS.count(5) == 1


def test_a_duplicate_of_a_finished_run_s_message_does_not_run_it_again(tmp_path):
    from workers.tasks import run_job

    _, store = _runtime(tmp_path)
    kwargs = {"repo": "o/r", "number": 7}
    jid = jobs.record(store, "test_lapsed_counted", kwargs)
    assert run_job.run("test_lapsed_counted", kwargs, job_id=jid) == "done"
    other = Locks(open_store_like(store), lease_s=600)
    assert other.try_acquire(issue_key("o/r", 7))  # a delivery for the issue holds its lock
    assert run_job.run("test_lapsed_counted", kwargs, job_id=jid) == "already-final"
    assert jobs.run(store, jid)["status"] == "done"  # type: ignore[index]
    other._release(issue_key("o/r", 7))
    assert run_job.run("test_lapsed_counted", kwargs, job_id=jid) == "already-final-or-running"
    assert RUNS.count(7) == 1


def test_a_run_given_back_after_a_database_error_is_not_counted_as_lapsed(tmp_path):
    _, store = _runtime(tmp_path)
    jid = jobs.record(store, "test_lapsed_counted", {"repo": "o/r", "number": 8})
    for _ in range(3):
        assert store.claim("jobs", jid, 600)
        store.release("jobs", jid)
    row = jobs.run(store, jid)
    assert (row["status"], row["attempts"]) == ("queued", 0)  # type: ignore[index]
