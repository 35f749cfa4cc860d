"""`smolbot retry` replays a parked run once: the same dead letter replayed again (a retry stopped
before it marked the letter replayed, two retries at once, two letters for one run) does not
queue the run again, nor run again one that finished since."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

from bot.coord import jobs
from bot.settings import load_settings


@jobs.register("replay_noop")
def replay_noop(rt, *, repo: str, number: int) -> None:  # type: ignore[no-untyped-def]
    return None


def test_a_dead_letter_replayed_twice_does_not_run_a_finished_delivery_again(
    tmp_path: Path,
) -> None:
    from workers.celery_app import configure
    from workers.tasks import _wr, handle_delivery, replay_dead_letter

    configure(load_settings(env="test", data_dir=tmp_path))
    store = _wr().rt.store
    store.record_delivery("d", "issues", "{}", repo="o/r", number=1)
    store.set_delivery_status("d", "dead", error="GitHubError: boom")
    store.dead_letter("smolbot.handle_delivery", {"delivery_id": "d"}, "GitHubError: boom")
    (letter,) = store.dead_letters()
    with mock.patch.object(handle_delivery, "apply_async") as pub:
        assert replay_dead_letter(store, letter)
        assert store.delivery("d")["status"] == "queued"
        assert replay_dead_letter(store, letter)  # a second retry at once: still queued, once
        store.set_delivery_status("d", "done")  # a worker ran the replay
        assert replay_dead_letter(store, letter)  # the same letter, not yet marked replayed
    assert store.delivery("d")["status"] == "done"
    assert pub.call_count == 1


def test_a_dead_letter_replayed_twice_does_not_run_a_finished_job_again(tmp_path: Path) -> None:
    from workers.celery_app import configure
    from workers.tasks import _wr, replay_dead_letter, run_job

    configure(load_settings(env="test", data_dir=tmp_path))
    store = _wr().rt.store
    kwargs = {"repo": "o/r", "number": 1}
    jid = jobs.record(store, "replay_noop", kwargs)
    assert jid
    jobs.set_status(store, jid, "dead", "boom")
    args = {"job_id": jid, "job_name": "replay_noop", "kwargs": kwargs}
    store.dead_letter("smolbot.run_job", args, "boom")
    (letter,) = store.dead_letters()
    with mock.patch.object(run_job, "apply_async") as pub:
        assert replay_dead_letter(store, letter)
        jobs.set_status(store, jid, "done")
        assert replay_dead_letter(store, letter)
    assert jobs.run(store, jid)["status"] == "done"  # type: ignore[index]
    assert pub.call_count == 1


def test_a_store_failing_between_park_writes_leaves_the_run_to_park_again(tmp_path: Path) -> None:
    """The delivery was marked dead, then the dead letter's insert failed (the store locked out
    past its busy timeout): no letter, and the retry found the row final, so `smolbot retry`
    never saw it. The letter is written first: failing, it leaves the row as it was, and the
    retry parks it with its letter."""
    import sqlite3

    import pytest

    from workers.celery_app import configure
    from workers.tasks import _wr

    configure(load_settings(env="test", data_dir=tmp_path))
    rt = _wr().rt
    rt.store.record_delivery("d", "issues", "{}", repo="o/r", number=1)
    locked = sqlite3.OperationalError("database is locked")
    with (
        mock.patch.object(rt.store, "dead_letter", side_effect=locked),
        pytest.raises(sqlite3.OperationalError),
    ):
        rt.fail("d", "GitHubError: boom")
    assert rt.store.delivery("d")["status"] != "dead"  # type: ignore[index]
    rt.fail("d", "GitHubError: boom")  # the retry, the store back
    assert rt.store.delivery("d")["status"] == "dead"  # type: ignore[index]
    assert [letter["error"] for letter in rt.store.dead_letters()] == ["GitHubError: boom"]
