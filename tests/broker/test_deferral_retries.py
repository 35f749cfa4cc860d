"""A deferral (an installation paused, an issue busy) re-publishes the message with the retries
it had spent, so the retry budget still ends a run ("gave up after N retries"), not the lapse
counter ("a worker died or hung on it", which none did)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest

from bot.coord import jobs
from bot.settings import load_settings


@jobs.register("retries_noop")
def retries_noop(rt, *, repo: str, number: int) -> None:  # type: ignore[no-untyped-def]
    return None


def _other(store):  # type: ignore[no-untyped-def]
    """Another process's connection to the same store (a lock held elsewhere)."""
    from bot.store import open_store

    return open_store(store.db.conn.execute("pragma database_list").fetchone()[2])


def _msg(retries: int) -> SimpleNamespace:
    """A task as one message runs it: its retry count, and what retry() would raise."""
    from celery.exceptions import Retry

    def retry(countdown: float, exc: Exception, **_: object) -> Exception:
        return Retry(exc=exc, when=countdown)

    return SimpleNamespace(request=SimpleNamespace(retries=retries), retry=retry)


def test_a_deferred_delivery_keeps_the_retries_spent(tmp_path: Path) -> None:
    """A delivery on its last retry that finds its installation paused is deferred; the message
    it re-publishes used to start at retries 0, so every deferral refilled the budget."""
    from celery.exceptions import Retry

    from bot.ports import RateLimited
    from workers.celery_app import configure
    from workers.tasks import _handle, _wr, handle_delivery

    configure(load_settings(env="test", data_dir=tmp_path, task_max_retries=2))
    wr = _wr()
    store = wr.rt.store
    store.record_delivery("d", "issues", "{}", repo="o/r", number=1, installation_id=7)
    store.db.execute("update deliveries set attempts = 2, status = 'queued' where id = 'd'")
    store.db.conn.commit()
    wr.pacer.pause(7, 30)  # another delivery met GitHub's secondary limit meanwhile
    with mock.patch.object(handle_delivery, "apply_async") as pub:
        assert _handle(_msg(retries=2), wr, "d") == "deferred"
    sent = pub.call_args.kwargs
    assert sent.get("retries") == 2
    store.db.execute("delete from coord_pacing")  # the pause ended
    store.db.conn.commit()
    with mock.patch.object(wr.rt, "dispatch", side_effect=RateLimited(60.0, "rate limited")):
        try:
            outcome = _handle(_msg(retries=sent["retries"]), wr, "d", **sent["kwargs"])
        except Retry:
            outcome = "retrying"
    assert outcome == "dead"
    assert store.delivery("d")["error"].startswith("gave up after 2 retries")


def test_a_deferred_job_keeps_the_retries_spent(tmp_path: Path) -> None:
    from bot.coord.locks import Locks, issue_key
    from workers.celery_app import configure
    from workers.tasks import _wr, run_job

    configure(load_settings(env="test", data_dir=tmp_path))
    store = _wr().rt.store
    kwargs = {"repo": "o/r", "number": 6}
    jid = jobs.record(store, "retries_noop", kwargs)
    holder = Locks(_other(store), lease_s=600)
    with (
        holder.hold(issue_key("o/r", 6), wait_s=1) as got,
        mock.patch("workers.tasks.LOCK_WAIT_S", 0.05),
        mock.patch.object(run_job, "apply_async") as pub,
    ):
        assert got
        run_job.push_request(retries=3)
        try:
            assert run_job.run("retries_noop", kwargs, job_id=jid) == "deferred"
        finally:
            run_job.pop_request()
    assert pub.call_args.kwargs.get("retries") == 3


def test_a_store_outage_spends_none_of_the_retries_github_s_faults_count(tmp_path: Path) -> None:
    """The store away for a few minutes: each try is published again with the retries it had,
    the outage counted in a header of its own (the wait grows with it). task.retry() spent one
    retry a try, so after the outage the first GitHub 5xx made a dead letter at once."""
    import sqlite3

    from celery import Signature
    from celery.exceptions import Retry

    from workers.celery_app import configure
    from workers.tasks import OUTAGES_HEADER, _wr, handle_delivery

    configure(load_settings(env="test", data_dir=tmp_path, task_max_retries=8))
    wr = _wr()
    away = sqlite3.OperationalError("database is locked")
    sent: list[dict[str, object]] = []
    with (
        mock.patch.object(wr.rt.store, "delivery", side_effect=away),
        mock.patch.object(Signature, "apply_async", lambda sig: sent.append(dict(sig.options))),
    ):
        for outages in range(3):
            handle_delivery.push_request(
                retries=2, headers={OUTAGES_HEADER: outages}, called_directly=False
            )
            try:
                with pytest.raises(Retry) as again:
                    handle_delivery.run("d")
            finally:
                handle_delivery.pop_request()
            assert 2**outages * 0.5 <= again.value.when <= 2**outages
    assert [s["retries"] for s in sent] == [2, 2, 2]
    assert [s["headers"][OUTAGES_HEADER] for s in sent] == [1, 2, 3]  # type: ignore[index]


def test_a_store_outage_while_a_job_takes_its_lock_is_retried(tmp_path: Path) -> None:
    """The lock's take (a store write) met "database is locked": the error left the task and the
    message was acked, so the job waited in the store for the recovery sweep. It is retried as
    any store outage is."""
    import sqlite3

    from celery import Signature
    from celery.exceptions import Retry

    from workers.celery_app import configure
    from workers.tasks import _wr, run_job

    configure(load_settings(env="test", data_dir=tmp_path))
    wr = _wr()
    kwargs = {"repo": "o/r", "number": 8}
    jid = jobs.record(wr.rt.store, "retries_noop", kwargs)
    away = sqlite3.OperationalError("database is locked")
    sent: list[dict[str, object]] = []
    with (
        mock.patch.object(type(wr.locks), "hold", side_effect=away),
        mock.patch.object(Signature, "apply_async", lambda sig: sent.append(dict(sig.options))),
    ):
        run_job.push_request(retries=1, called_directly=False)
        try:
            with pytest.raises(Retry):
                run_job.run("retries_noop", kwargs, job_id=jid)
        finally:
            run_job.pop_request()
    assert [s["retries"] for s in sent] == [1]


def test_a_delivery_sent_before_a_rename_waits_for_the_renamed_issue_s_lock(
    tmp_path: Path,
) -> None:
    """It locked the issue under the old name while a job (locking under today's name) worked on
    the same issue: two runs at once on one issue, two comments or racing labels."""
    from bot.coord.locks import Locks, issue_key
    from workers.celery_app import configure
    from workers.tasks import _handle, _wr, handle_delivery

    configure(load_settings(env="test", data_dir=tmp_path))
    wr = _wr()
    store = wr.rt.store
    store.add_repositories(7, [{"full_name": "o/old", "id": 41}])
    store.rename_repository("o/old", "o/new")
    store.record_delivery("d", "issues", "{}", repo="o/old", number=5, installation_id=7)
    holder = Locks(_other(store), lease_s=600)
    with (
        holder.hold(issue_key("o/new", 5), wait_s=1) as got,
        mock.patch("workers.tasks.LOCK_WAIT_S", 0.05),
        mock.patch.object(handle_delivery, "apply_async"),
        mock.patch.object(wr.rt, "dispatch") as ran,
    ):
        assert got
        assert _handle(_msg(retries=0), wr, "d") == "deferred"
    assert not ran.called
