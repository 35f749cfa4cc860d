"""During an outage a live batch waited for a replay pass first, whatever the back-off: each one
re-read up to 64 spool entries and made a store call that failed. While the back-off after a
failed replay runs, a live batch now goes straight into the spool, behind the older ones."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from bot.store import Store
from bot.webhook.batcher import IntakeBatcher, _row
from bot.webhook.spool import Spool
from tests.webhook.outage import store_down
from tests.webhook.test_app import Recorder
from tests.webhook.test_batcher import pending
from tests.webhook.test_spool import _until


def _failing_store(store: Store, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    calls = {"n": 0}

    def locked(rows: Any) -> list[bool]:
        calls["n"] += 1
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(store, "record_deliveries", locked)
    return calls


def _old_entry(settings: Settings) -> Spool:
    """A spool holding one entry from an earlier outage (delivery `old`)."""
    spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes)
    spool.put([_row(pending("old"))], "outage")
    return spool


def test_a_live_batch_in_the_back_off_goes_to_the_spool_without_a_store_call(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = _old_entry(settings)
    calls = _failing_store(store, monkeypatch)
    read = {"n": 0}
    real_entries = spool.entries

    def entries() -> list[Path]:
        read["n"] += 1
        return real_entries()

    monkeypatch.setattr(spool, "entries", entries)
    batcher = IntakeBatcher(store, Recorder(), threading.Lock(), spool)
    assert batcher._replay_pass() is not None  # the store refused: back-off for REPLAY_EVERY_S
    assert calls["n"] == 1 and read["n"] == 1
    batcher.start()
    try:
        for i in range(3):
            batcher._inbox.put([pending(f"live-{i}")])
        _until(lambda: spool.status().deliveries == 4)  # kept behind the old one
    finally:
        batcher.close()
    assert calls["n"] == 1 and read["n"] == 1  # no store call, no spool read meanwhile
    assert store.delivery("live-0") is None


def test_once_the_back_off_ends_the_live_batch_waits_for_the_replay_again(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = _old_entry(settings)
    calls = _failing_store(store, monkeypatch)
    batcher = IntakeBatcher(store, Recorder(), threading.Lock(), spool)
    assert batcher._replay_pass() is not None
    assert batcher._replay_first() is not None and calls["n"] == 1  # in the back-off
    batcher._replay_at = time.monotonic()  # it has run out
    assert batcher._replay_first() is not None and calls["n"] == 2  # tried the store again


def test_steady_traffic_in_the_back_off_does_not_put_off_the_replay_for_ever(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A live batch kept in the spool for the back-off made no store call: it must not push the
    next replay back, or a delivery every REPLAY_EVERY_S keeps the spool from draining."""
    from bot.webhook import batcher as batcher_mod

    monkeypatch.setattr(batcher_mod, "REPLAY_EVERY_S", 0.5)
    spool = _old_entry(settings)
    down = store_down(store)
    batcher = IntakeBatcher(store, Recorder(), threading.Lock(), spool)
    batcher.start()
    try:
        for i in range(25):  # a delivery every 0.1 s for 2.5 s; the store back after 0.5 s
            batcher._inbox.put([pending(f"live-{i}")])
            time.sleep(0.1)
            if i == 5:
                down["on"] = False
        assert store.delivery("old") is not None  # replayed while the traffic went on
    finally:
        batcher.close()
