"""Spool entries that cannot be replayed as they are (a file the disk cannot read; rows without a
delivery id) are moved into spool/rejected/, so the entries behind them are replayed all the same
and nothing is recorded again at each pass."""

from __future__ import annotations

import errno
import pathlib
import threading
from typing import Any

import pytest

from bot.settings import Settings
from bot.store import Store
from bot.webhook import spool as spool_mod
from bot.webhook.batcher import IntakeBatcher
from bot.webhook.spool import REJECTED, Spool
from tests.webhook.test_app import Recorder

ROW = {"id": "bad", "event": "issues", "status": "received", "payload": "{}"}


def _spool(settings: Settings) -> Spool:
    return Spool(settings.data_dir / "spool", settings.spool_max_bytes)


@pytest.mark.parametrize("when", ["open", "read"])
def test_an_unreadable_entry_does_not_stop_the_entries_behind_it(
    settings: Settings,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    when: str,
) -> None:
    """EIO on a bad sector, EACCES on a file a root-run web left behind: OSError escaped take()
    and every replay stopped at the oldest entry, for ever. (EIO may pass, on NFS: the entry is
    moved aside once it has lasted UNREADABLE_FOR_S, here 0 s, so at the second pass.)"""
    monkeypatch.setattr(spool_mod, "UNREADABLE_FOR_S", 0.0)
    spool = _spool(settings)
    bad = spool.put([ROW], "test")
    spool.put([{**ROW, "id": "good"}], "test")
    real_open = pathlib.Path.open

    class Unreadable:
        def __init__(self, f: Any) -> None:
            self.f = f

        def __enter__(self) -> Unreadable:
            return self

        def __exit__(self, *exc: object) -> None:
            self.f.close()

        def fileno(self) -> int:
            return int(self.f.fileno())

        def __iter__(self) -> Any:
            raise OSError(errno.EIO, "Input/output error", str(bad))

    def failing_open(self: pathlib.Path, *a: Any, **k: Any) -> Any:
        if self == bad and when == "open":
            raise OSError(errno.EACCES, "Permission denied", str(self))
        if self == bad:
            return Unreadable(real_open(self, *a, **k))
        return real_open(self, *a, **k)

    monkeypatch.setattr(pathlib.Path, "open", failing_open)
    queue = Recorder()
    batcher = IntakeBatcher(store, queue, threading.Lock(), spool)
    with caplog.at_level("ERROR", logger="bot.webhook"):
        assert batcher.replay() == 1
        assert store.delivery("good") is not None and queue.sent == ["good"]
        if when == "read":
            assert spool.entries() == [bad]  # EIO: skipped, maybe a moment's
            batcher.replay()
    assert spool.entries() == [] and (spool.dir / REJECTED / bad.name).exists()
    assert "unreadable" in caplog.text and bad.name in caplog.text


def test_an_unreadable_entry_that_cannot_be_moved_is_skipped_this_pass(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = _spool(settings)
    bad = spool.put([ROW], "test")
    spool.put([{**ROW, "id": "good"}], "test")
    real_open = pathlib.Path.open

    def failing_open(self: pathlib.Path, *a: Any, **k: Any) -> Any:
        if self == bad:
            raise OSError(errno.EIO, "Input/output error", str(self))
        return real_open(self, *a, **k)

    def no_reject(entry: pathlib.Path, why: str) -> pathlib.Path:
        raise OSError(errno.EROFS, "Read-only file system", str(entry))

    monkeypatch.setattr(pathlib.Path, "open", failing_open)
    monkeypatch.setattr(spool, "reject", no_reject)
    queue = Recorder()
    assert IntakeBatcher(store, queue, threading.Lock(), spool).replay() == 1
    assert queue.sent == ["good"] and spool.entries() == [bad]


def _replay_three_times(settings: Settings, store: Store) -> tuple[Spool, Recorder]:
    spool = _spool(settings)
    queue = Recorder()
    batcher = IntakeBatcher(store, queue, threading.Lock(), spool)
    for _ in range(3):
        batcher.replay()
    return spool, queue


def test_an_entry_whose_rows_lack_an_id_is_moved_aside_not_recorded_again_and_again(
    settings: Settings, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite takes NULL in the deliveries' TEXT primary key: each pass inserted a delivery
    without an id, then failed on r["id"] in the publish, the entry first in line for ever."""
    spool = _spool(settings)
    bad = spool.put([{"event": "issues", "status": "received", "payload": "{}"}], "test")
    spool.put([{**ROW, "id": "good"}], "test")
    with caplog.at_level("ERROR", logger="bot.webhook"):
        spool, queue = _replay_three_times(settings, store)
    nulls = store.db.execute("select count(*) from deliveries where id is null").fetchone()[0]
    assert nulls == 0 and store.delivery("good") is not None and queue.sent == ["good"]
    assert spool.entries() == [] and (spool.dir / REJECTED / bad.name).exists()
    assert "id" in caplog.text and bad.name in caplog.text


@pytest.mark.parametrize(
    "rows",
    [
        [["not", "a", "row"]],
        [{**ROW, "id": 7}],
        [{**ROW, "id": ""}],
        [{**ROW, "event": None}],
        [{**ROW, "status": "done"}],
    ],
    ids=["a-list", "a-number-id", "an-empty-id", "no-event", "a-finished-status"],
)
def test_an_entry_of_rows_that_are_no_deliveries_is_moved_aside(
    settings: Settings, store: Store, rows: list[Any]
) -> None:
    bad = _spool(settings).put(rows, "test")
    spool, queue = _replay_three_times(settings, store)
    assert store.db.execute("select count(*) from deliveries").fetchone()[0] == 0
    assert queue.sent == [] and (spool.dir / REJECTED / bad.name).exists()


def test_an_entry_with_fewer_rows_than_its_name_says_is_moved_aside(
    settings: Settings, store: Store
) -> None:
    """A file cut short at a line's end parses, but half its deliveries are missing: a person
    decides, rather than half being recorded and the rest lost without a word."""
    spool = _spool(settings)
    bad = spool.put([ROW, {**ROW, "id": "other"}], "test")
    bad.write_text(bad.read_text().splitlines()[0] + "\n")
    spool, _queue = _replay_three_times(settings, store)
    assert store.delivery("bad") is None and (spool.dir / REJECTED / bad.name).exists()


def test_a_row_without_a_status_is_recorded_and_queued_once(
    settings: Settings, store: Store
) -> None:
    """The store takes a row without a status as received; the publish read r["status"]."""
    row = {k: v for k, v in ROW.items() if k != "status"}
    _spool(settings).put([row], "test")
    spool, queue = _replay_three_times(settings, store)
    assert queue.sent == ["bad"] and spool.entries() == []
