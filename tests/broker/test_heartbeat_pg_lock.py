"""On PostgreSQL the heartbeat opens its own session, which never holds the worker's advisory lock;
it used to ask that session whether it held the lock, and every long run logged a false "lock ...
lost ... another run may work on the same issue beside this one"."""

from __future__ import annotations

import logging
import time

import pytest

from bot.coord.locks import Locks
from bot.store import open_store
from workers.leases import Heartbeat


def test_a_long_run_on_postgres_keeps_its_lock_without_a_false_warning(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(pg_url)
    store.record_delivery("d", "issues", "{}", repo="o/r", number=1)
    assert store.claim("deliveries", "d", 600)
    mine = Locks(store, lease_s=600)  # the worker's own Locks, on its store (workers/runtime)
    key = "issue:o/r#1"
    with (
        caplog.at_level(logging.WARNING, logger="workers.leases"),
        mine.hold(key, wait_s=1) as got,
    ):
        assert got
        # as workers/tasks.py _heartbeat builds it, beating fast for the test
        with Heartbeat(pg_url, "deliveries", "d", 600, lock=(key, mine.owner), every_s=0.2) as beat:
            time.sleep(1.0)
        assert beat.beats >= 2
        # the lock is in fact still held by the worker: nobody else can take it
        other = Locks(open_store(pg_url, migrate=False), lease_s=600)
        assert not other.try_acquire(key)
    lost = [r.getMessage() for r in caplog.records if "lost" in r.getMessage()]
    assert not lost, lost
