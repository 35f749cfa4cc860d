"""An open() or read() error that says nothing about the entry itself (the process out of file
descriptors or memory for a moment, an NFS server that answers ESTALE or EIO for a while) does not
move a good entry into rejected/: it was answered 202, and is recorded once the error passes."""

from __future__ import annotations

import contextlib
import errno
import threading
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from bot.store import Store
from bot.webhook import spool as spool_mod
from bot.webhook.batcher import IntakeBatcher, _row
from bot.webhook.spool import REJECTED, Spool
from tests.webhook.test_app import Recorder
from tests.webhook.test_batcher import pending


def _one_entry(settings: Settings, store: Store) -> tuple[Spool, Recorder, IntakeBatcher, Path]:
    """A spool holding one entry (delivery `a`), and a batcher that replays it into store and a
    Recorder queue."""
    spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes)
    queue = Recorder()
    batcher = IntakeBatcher(store, queue, threading.Lock(), spool)
    return spool, queue, batcher, spool.put([_row(pending("a"))], "test")


def _failing_open(
    monkeypatch: pytest.MonkeyPatch, entry: Path, code: int, times: int
) -> dict[str, int]:
    real_open = Path.open
    failed = {"n": 0}

    def flaky_open(self: Path, *a: Any, **k: Any) -> Any:
        if self == entry and failed["n"] < times:
            failed["n"] += 1
            raise OSError(code, errno.errorcode[code], str(self))
        return real_open(self, *a, **k)

    monkeypatch.setattr(Path, "open", flaky_open)
    return failed


@pytest.mark.parametrize("code", [errno.EMFILE, errno.ENFILE, errno.ENOMEM])
def test_a_process_short_of_fds_or_memory_parks_no_entry(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    spool, queue, batcher, entry = _one_entry(settings, store)
    _failing_open(monkeypatch, entry, code, times=1)
    with contextlib.suppress(OSError):
        batcher.replay()  # fds exhausted for a moment: this pass ends, nothing is moved
    assert spool.status().rejected == 0 and spool.entries() == [entry]
    assert batcher.replay() == 1  # the next pass: fds free again
    assert spool.status().rejected == 0 and spool.entries() == []
    assert store.delivery("a") is not None and queue.sent == ["a"]


@pytest.mark.parametrize("code", [errno.ESTALE, errno.EIO, errno.ETIMEDOUT])
def test_an_entry_unreadable_for_a_moment_is_skipped_not_parked(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    spool, queue, batcher, entry = _one_entry(settings, store)
    spool.put([_row(pending("b"))], "test")
    _failing_open(monkeypatch, entry, code, times=2)
    assert batcher.replay() == 1  # the one behind it goes on
    assert batcher.replay() == 0  # still failing: skipped again, not parked
    assert spool.status().rejected == 0 and spool.entries() == [entry]
    assert batcher.replay() == 1
    assert spool.status().rejected == 0 and spool.entries() == []
    assert queue.sent == ["b", "a"]


def test_an_entry_unreadable_for_long_is_moved_aside(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad sector stays bad: after UNREADABLE_FOR_S of failing passes the entry is moved
    aside (a person is told), not retried for ever."""
    monkeypatch.setattr(spool_mod, "UNREADABLE_FOR_S", 0.0)
    spool, _, batcher, entry = _one_entry(settings, store)
    _failing_open(monkeypatch, entry, errno.EIO, times=99)
    batcher.replay()
    assert spool.entries() == [entry]  # the first failure: maybe a moment's
    batcher.replay()
    assert spool.entries() == [] and (spool.dir / REJECTED / entry.name).exists()
