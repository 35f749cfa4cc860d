"""The recovery sweep (real store, real embedded broker): lost work comes back; work that kills or
hangs its worker every time is parked as a dead letter instead of coming back for ever."""

from __future__ import annotations

import time
from pathlib import Path

from bot.coord import jobs
from bot.settings import load_settings


def test_the_sweep_requeues_lost_work_and_parks_work_that_never_finishes(tmp_path: Path) -> None:
    from workers.celery_app import configure
    from workers.tasks import _wr, recover_deliveries

    settings = load_settings(env="test", data_dir=tmp_path, task_max_retries=2)
    configure(settings)
    store = _wr().rt.store
    limit = settings.task_max_retries + 3  # its retries, then a worker lost on it three times
    long_ago = time.time() - settings.recovery_after_s - 60
    for did, attempts in (("lost", 1), ("poison", limit)):
        store.record_delivery(did, "issues", "{}", repo="o/r", number=1)
        store.db.execute(
            "update deliveries set status = 'running', attempts = ?, updated_at = ? where id = ?",
            [attempts, long_ago, did],
        )
    jid = jobs.record(store, "summarize", {"repo": "o/r", "number": 1})
    assert jid
    store.db.execute(
        "update jobs set status = 'running', attempts = ?, updated_at = ? where id = ?",
        [limit, long_ago, jid],
    )
    store.db.conn.commit()
    assert recover_deliveries.run() == 1
    assert store.delivery("lost")["status"] == "queued"
    assert store.delivery("poison")["status"] == "dead"
    assert "never finished" in store.delivery("poison")["error"]
    assert jobs.run(store, jid)["status"] == "dead"  # type: ignore[index]
    parked = {d["task"]: d for d in store.dead_letters()}
    assert set(parked) == {"smolbot.handle_delivery", "smolbot.run_job"}
    assert "`smolbot retry`" in parked["smolbot.run_job"]["error"]
    assert recover_deliveries.run() == 0  # parked stays parked; `lost` is not lost again yet


def test_a_replayed_run_starts_its_attempts_again(tmp_path: Path) -> None:
    """`smolbot retry` gives a parked run a fresh count: one worker lost on it after the replay
    re-queues it, instead of parking it again at once for the claims before it was parked."""
    from workers.celery_app import configure
    from workers.tasks import _wr, recover_deliveries, replay_dead_letter

    settings = load_settings(env="test", data_dir=tmp_path, task_max_retries=2)
    configure(settings)
    store = _wr().rt.store
    limit = settings.task_max_retries + 3
    long_ago = time.time() - settings.recovery_after_s - 60
    store.record_delivery("poison", "issues", "{}", repo="o/r", number=1)
    jid = jobs.record(store, "summarize", {"repo": "o/r", "number": 1})
    assert jid
    for table, rid in (("deliveries", "poison"), ("jobs", jid)):
        store.db.execute(
            f"update {table} set status = 'running', attempts = ?, updated_at = ? where id = ?",
            [limit, long_ago, rid],
        )
    store.db.conn.commit()
    recover_deliveries.run()
    dead = store.dead_letters()
    assert len(dead) == 2
    for d in dead:
        assert replay_dead_letter(store, d)
    rows = [store.delivery("poison"), jobs.run(store, jid)]
    assert [(r["status"], r["attempts"]) for r in rows] == [("queued", 0)] * 2  # type: ignore[index]
    for table, rid in (("deliveries", "poison"), ("jobs", jid)):  # claimed once, worker lost
        store.db.execute(
            f"update {table} set status = 'running', attempts = attempts + 1, updated_at = ?"
            " where id = ?",
            [long_ago, rid],
        )
    store.db.conn.commit()
    assert recover_deliveries.run() == 2
    assert store.delivery("poison")["status"] == "queued"
    assert jobs.run(store, jid)["status"] == "queued"  # type: ignore[index]


SEEN: dict[str, bool] = {}


@jobs.register("test_outlives_its_lease")
def outlives_its_lease(rt, *, repo: str, number: int, wait_s: float) -> None:  # type: ignore[no-untyped-def]
    """Works past its leases, then looks at them as another worker would."""
    from bot.coord.locks import Locks, issue_key
    from bot.store import open_store

    time.sleep(wait_s)
    other = open_store(rt.settings.effective_database_url)  # another worker's connection
    (jid,) = [r[0] for r in other.db.execute("select id from jobs where status = 'running'")]
    SEEN["row taken"] = other.claim("jobs", jid, rt.settings.recovery_after_s)
    SEEN["lock taken"] = Locks(other, rt.settings.recovery_after_s).try_acquire(
        issue_key(repo, number)
    )


def test_a_run_longer_than_its_lease_keeps_it(tmp_path: Path) -> None:
    """A lifecycle sweep of a large installation can work past recovery_after_s: nobody may take
    its row or its issue lock for a dead worker's meanwhile (they were taken, and it ran twice)."""
    from workers.celery_app import configure
    from workers.tasks import _wr, run_job

    settings = load_settings(env="test", data_dir=tmp_path, recovery_after_s=6)
    configure(settings)
    store = _wr().rt.store
    kwargs = {"repo": "o/r", "number": 1, "wait_s": 9.0}  # 1.5 leases; renewed every 2 s
    jid = jobs.record(store, "test_outlives_its_lease", kwargs)
    assert run_job.run("test_outlives_its_lease", kwargs, job_id=jid) == "done"
    assert SEEN == {"row taken": False, "lock taken": False}


HICCUPS: list[str] = []


@jobs.register("test_db_hiccup")
def db_hiccup(rt, *, repo: str, number: int) -> None:  # type: ignore[no-untyped-def]
    """The database goes away for a moment, once, in the middle of the run."""
    import sqlite3

    if not HICCUPS:
        HICCUPS.append("once")
        raise sqlite3.OperationalError("database is locked")


def test_a_database_hiccup_gives_the_run_back_for_its_retry(tmp_path: Path) -> None:
    """The retry of a run the database failed must find it claimable, not its own live lease
    (it was dropped then, and the run waited for the recovery sweep: 10 minutes)."""
    import sqlite3

    import pytest

    from workers.celery_app import configure
    from workers.tasks import _wr, run_job

    configure(load_settings(env="test", data_dir=tmp_path))
    store = _wr().rt.store
    kwargs = {"repo": "o/r", "number": 2}
    jid = jobs.record(store, "test_db_hiccup", kwargs)
    with pytest.raises(sqlite3.OperationalError):  # called directly, a retry raises its error
        run_job.run("test_db_hiccup", kwargs, job_id=jid)
    assert jobs.run(store, jid)["status"] == "queued"  # type: ignore[index]
    assert run_job.run("test_db_hiccup", kwargs, job_id=jid) == "done"


def test_a_delivery_for_a_busy_issue_waits_longer_each_time(tmp_path: Path) -> None:
    """A summary can hold an issue's lock for a minute: each delivery for that issue used to wait
    2 s on a fast worker every 1-3 s. The deferral now doubles, up to a minute."""
    from bot.coord.locks import Locks, issue_key
    from workers.celery_app import configure
    from workers.tasks import BUSY_MAX_S, _wr, handle_delivery

    configure(load_settings(env="test", data_dir=tmp_path))
    store = _wr().rt.store
    store.record_delivery("busy", "issues", "{}", repo="o/r", number=3)
    holder = Locks(open_store_like(store), lease_s=600)
    with holder.hold(issue_key("o/r", 3), wait_s=1) as got:
        assert got
        waits = []
        for waited in (0, 3, 9):
            assert handle_delivery.run("busy", waited=waited) == "deferred"
            waits.append(store.delivery("busy")["updated_at"] - time.time())  # its due time
    assert 0 < waits[0] <= 3.5 and 6 < waits[1] <= 24.5 and 50 < waits[2] <= BUSY_MAX_S
    assert store.delivery("busy")["status"] == "queued"


def open_store_like(store):  # type: ignore[no-untyped-def]
    """Another process's connection to the same store (a lock held elsewhere)."""
    from bot.store import open_store

    return open_store(store.db.conn.execute("pragma database_list").fetchone()[2])


def test_work_that_came_while_the_broker_was_down_is_published_within_a_minute(
    tmp_path: Path,
) -> None:
    """The webhook stored deliveries it could not publish (`received`); the sweep left them until
    they were recovery_after_s (10 minutes) old, and ran only every 5 minutes: they waited up to
    15 minutes after the broker came back. A job queued while the broker was down likewise."""
    from workers.celery_app import beat_schedule, configure
    from workers.tasks import UNPUBLISHED_S, _wr, recover_deliveries

    settings = load_settings(env="test", data_dir=tmp_path)
    assert settings.recovery_after_s == 600
    configure(settings)
    store = _wr().rt.store
    then = time.time() - UNPUBLISHED_S - 1
    store.record_delivery("unpublished", "issues", "{}", repo="o/r", number=1)
    store.record_delivery("just-now", "issues", "{}", repo="o/r", number=2)
    store.record_delivery("waiting", "issues", "{}", repo="o/r", number=3)
    jid = jobs.record(store, "summarize", {"repo": "o/r", "number": 1})
    store.db.execute("update deliveries set updated_at = ? where id = 'unpublished'", [then])
    store.db.execute(  # published, waiting its turn: not stuck before recovery_after_s
        "update deliveries set status = 'queued', updated_at = ? where id = 'waiting'", [then]
    )
    store.db.execute("update jobs set updated_at = ? where id = ?", [then, jid])
    store.db.conn.commit()
    assert recover_deliveries.run() == 2
    assert store.delivery("unpublished")["status"] == "queued"
    assert store.delivery("just-now")["status"] == "received"  # the web may be publishing it
    assert store.delivery("waiting")["updated_at"] == then
    assert jobs.run(store, jid)["status"] == "queued"  # type: ignore[index]
    every = beat_schedule(settings)["recover-deliveries"]["schedule"].total_seconds()
    assert every <= 60
