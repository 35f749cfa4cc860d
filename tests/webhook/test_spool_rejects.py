"""A spool entry that cannot be replayed (damaged, or refused by the store for a reason other
than an outage) is moved aside into spool/rejected/ with an error in the log: the deliveries
behind it are recorded all the same, and /healthz says what waits there."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from bot.settings import Settings
from bot.store import Store
from bot.webhook.batcher import IntakeBatcher
from bot.webhook.spool import REJECTED, Spool
from tests.webhook.test_app import Recorder


def _row(i: str) -> dict[str, Any]:
    return {"id": i, "event": "issues", "action": "opened", "installation_id": 7, "repo": "o/r",
            "number": 1, "status": "received", "payload": "{}"}  # fmt: skip


def test_a_damaged_entry_is_moved_aside_and_the_rest_is_replayed(
    settings: Settings, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """An entry that is not JSON lines (a disk error, a hand-copied spool) stopped every replay
    at json.loads, before any store call."""
    spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes)
    damaged = spool.put([_row("first")], "test")
    damaged.write_bytes(b'{"id": "fir')
    spool.put([_row("good")], "test")
    queue = Recorder()
    batcher = IntakeBatcher(store, queue, threading.Lock(), spool)
    with caplog.at_level("ERROR", logger="bot.webhook"):
        assert batcher.replay() == 1
    assert store.delivery("good") is not None and queue.sent == ["good"]
    assert spool.entries() == []
    assert (spool.dir / REJECTED / damaged.name).read_bytes() == b'{"id": "fir'
    assert spool.status().rejected == 1
    assert "rejected" in spool.status().describe()
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert damaged.name in logged and "not JSON lines" in logged
