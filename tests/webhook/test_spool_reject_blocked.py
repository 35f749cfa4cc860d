"""A spooled entry the store refuses (no outage) that cannot be moved into rejected/ either (the
directory not writable: made by a web run as root) is skipped, with an error in the log: its
OSError ended every pass, and the entries behind it were never recorded."""

from __future__ import annotations

import errno
import threading
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.store import Store
from bot.webhook.batcher import IntakeBatcher, _row
from bot.webhook.spool import Spool
from tests.webhook.test_app import Recorder
from tests.webhook.test_batcher import pending


def test_a_refused_entry_that_cannot_be_moved_does_not_block_the_ones_behind_it(
    settings: Settings,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes)
    queue = Recorder()
    batcher = IntakeBatcher(store, queue, threading.Lock(), spool)
    bad = spool.put([dict(_row(pending("bad")), installation_id={"not": "a number"})], "test")
    spool.put([_row(pending("good"))], "test")

    def cannot_move(entry: Path, why: str) -> Path:
        raise PermissionError(errno.EACCES, "Permission denied", str(spool.dir / "rejected"))

    monkeypatch.setattr(spool, "reject", cannot_move)
    with caplog.at_level("ERROR", logger="bot.webhook"):
        assert batcher.replay() == 1
    assert store.delivery("good") is not None and queue.sent == ["good"]
    assert spool.entries() == [bad]  # kept where it is, tried again at the next pass
    assert "nor moved aside" in caplog.text and bad.name in caplog.text
    assert batcher.replay() == 0  # nothing done: the next pass waits its turn, no busy loop
    assert spool.entries() == [bad]
