"""A long run's heartbeat says when it lost its lease: its issue lock taken by another worker
(the lease ran out: the run was stalled longer than it), or its row no longer `running` (the
recovery sweep re-queued or parked it). It used to renew on in silence while a second run of the
same work went on beside the first."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.coord.locks import Locks
from bot.settings import load_settings
from bot.store import open_store
from workers.leases import Heartbeat


def _setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = load_settings(env="test", data_dir=tmp_path).effective_database_url
    store = open_store(url)
    store.record_delivery("d", "issues", "{}", repo="o/r", number=1)
    assert store.claim("deliveries", "d", 600)
    return url, store


def test_a_lost_lock_is_said_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url, store = _setup(tmp_path)
    mine = Locks(store, lease_s=600)
    assert mine.try_acquire("issue:o/r#1")
    beat = Heartbeat(url, "deliveries", "d", 600, lock=("issue:o/r#1", mine.owner))
    locks = Locks(store, lease_s=600)
    with caplog.at_level(logging.WARNING, logger="workers.leases"):
        beat._beat(store, locks)
        assert not caplog.records  # still its own
        store.db.execute("update coord_locks set owner = 'another-worker'")  # lapsed, taken
        store.db.conn.commit()
        beat._beat(store, locks)
        beat._beat(store, locks)
    lost = [r.getMessage() for r in caplog.records]
    assert len(lost) == 1 and "issue:o/r#1" in lost[0] and "deliveries d" in lost[0], lost
    assert "beside" in lost[0]


def test_a_row_no_longer_running_is_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url, store = _setup(tmp_path)
    beat = Heartbeat(url, "deliveries", "d", 600)
    with caplog.at_level(logging.WARNING, logger="workers.leases"):
        beat._beat(store, None)
        assert not caplog.records
        store.set_delivery_status("d", "queued", error="re-queued by recovery sweep")
        beat._beat(store, None)
        beat._beat(store, None)
    lost = [r.getMessage() for r in caplog.records]
    assert len(lost) == 1 and "deliveries d" in lost[0] and "no longer running" in lost[0], lost
