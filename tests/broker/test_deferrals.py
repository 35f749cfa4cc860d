"""A job for a busy issue waits longer each time, as a delivery does."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

from bot.coord import jobs
from bot.settings import load_settings


@jobs.register("deferral_noop")
def deferral_noop(rt, *, repo: str, number: int) -> None:  # type: ignore[no-untyped-def]
    return None


def _other(store):  # type: ignore[no-untyped-def]
    """Another process's connection to the same store (a lock held elsewhere)."""
    from bot.store import open_store

    return open_store(store.db.conn.execute("pragma database_list").fetchone()[2])


def test_a_job_for_a_busy_issue_waits_longer_each_time(tmp_path: Path) -> None:
    """A summary holding an issue's lock for minutes used to make another job on that issue hold
    a model worker 2 s out of every 3-5 s, re-published at 1-3 s for ever."""
    from bot.coord.locks import Locks, issue_key
    from workers.celery_app import configure
    from workers.tasks import BUSY_MAX_S, _wr, run_job

    configure(load_settings(env="test", data_dir=tmp_path))
    store = _wr().rt.store
    kwargs = {"repo": "o/r", "number": 5}
    jid = jobs.record(store, "deferral_noop", kwargs)
    holder = Locks(_other(store), lease_s=600)
    countdowns: list[float] = []
    with (
        holder.hold(issue_key("o/r", 5), wait_s=1) as got,
        mock.patch("workers.tasks.LOCK_WAIT_S", 0.05),
        mock.patch.object(run_job, "apply_async") as pub,
    ):
        assert got
        args, kw, headers = ["deferral_noop", kwargs], {"job_id": jid}, {}
        for _ in range(8):  # each time, the message it re-published comes back
            run_job.push_request(**headers)  # a worker's request has the message's headers
            try:
                assert run_job.run(*args, **kw) == "deferred"
            finally:
                run_job.pop_request()
            sent = pub.call_args.kwargs
            countdowns.append(sent["countdown"])
            args, kw, headers = sent["args"], sent["kwargs"], sent["headers"]
    assert kw == {"job_id": jid} and headers == {"smolbot_waited": 8}
    assert countdowns[0] <= 3 and 6 < countdowns[3] <= 24 and 50 < countdowns[7] <= BUSY_MAX_S
    assert jobs.run(store, jid)["status"] == "queued"  # type: ignore[index]


def _old_run_job(self, job_name, kwargs, job_id=None):  # type: ignore[no-untyped-def]
    """run_job's parameters before a deferral counted its waits (a worker not yet upgraded)."""


def test_a_deferred_job_message_is_one_a_worker_not_yet_upgraded_can_run(tmp_path: Path) -> None:
    """The count of waits rode in the task's kwargs: a worker still on the code before it failed
    the message with TypeError (unexpected keyword argument 'waited') while a new one ran beside
    it (a rolling upgrade, or a rollback), and the job waited for the recovery sweep. The count is
    a message header now, which older code ignores."""
    import inspect

    from bot.coord.locks import Locks, issue_key
    from workers.celery_app import configure
    from workers.tasks import _wr, run_job

    configure(load_settings(env="test", data_dir=tmp_path))
    store = _wr().rt.store
    kwargs = {"repo": "o/r", "number": 6}
    jid = jobs.record(store, "deferral_noop", kwargs)
    with (
        Locks(_other(store), lease_s=600).hold(issue_key("o/r", 6), wait_s=1) as got,
        mock.patch("workers.tasks.LOCK_WAIT_S", 0.05),
        mock.patch.object(run_job, "apply_async") as pub,
    ):
        assert got
        # a message a worker of the code before this one re-published, its count in the kwargs
        assert run_job.run("deferral_noop", kwargs, job_id=jid, waited=3) == "deferred"
        sent = pub.call_args.kwargs
        inspect.signature(_old_run_job).bind("self", *sent["args"], **sent["kwargs"])
        assert sent["headers"] == {"smolbot_waited": 4}  # the count goes on, in the header
        # run eagerly (apply), the custom headers are the request's `headers`, not attributes
        run_job.push_request(headers={"smolbot_waited": 5})
        try:
            assert run_job.run(*sent["args"], **sent["kwargs"]) == "deferred"
        finally:
            run_job.pop_request()
        assert pub.call_args.kwargs["headers"] == {"smolbot_waited": 6}
