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
    and every replay stopped at the oldest entry, for ever."""
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
