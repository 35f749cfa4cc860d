"""/healthz says when nothing drains the spool: the store answers its ping but refuses every
write while deliveries keep coming, or the intake thread hangs outside the store (a publish that
does not return). A delivery kept because the intake did not answer says the intake, not the
store, did not answer."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.settings import Settings
from bot.store import Store
from bot.webhook.app import create_app
from bot.webhook.batcher import IntakeBatcher
from bot.webhook.spool import Spool
from tests.webhook.test_app import OPENED, Recorder, post
from tests.webhook.test_batcher import pending


def _refuse(rows: Any) -> list[bool]:
    raise sqlite3.OperationalError("database or disk is full")  # SQLITE_FULL: an outage


def test_healthz_says_the_spool_cannot_drain_while_deliveries_keep_coming(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a delivery at least every REPLAY_EVERY_S, each failed live batch pushed the next
    replay back: no replay ever failed, and /healthz said ok for ever while the spool filled."""
    from bot.webhook import app as app_mod
    from bot.webhook import batcher as batcher_mod

    monkeypatch.setattr(batcher_mod, "REPLAY_EVERY_S", 1.0)
    monkeypatch.setattr(app_mod, "SPOOL_STUCK_S", 1.0)
    store.record_deliveries = _refuse  # type: ignore[method-assign]
    with TestClient(create_app(settings, store, Recorder())) as client:
        for i in range(12):  # 3.6 s of traffic, a delivery each 0.3 s
            assert post(client, "issues", OPENED, delivery=f"d-{i}").json()["spooled"] is True
            time.sleep(0.3)
        h = client.get("/healthz")
    assert h.status_code == 503, h.json()
    assert h.json()["store"] == "ok" and "disk is full" in h.json()["spool"]


def test_a_live_batch_the_store_refuses_for_an_outage_counts_as_failing(
    settings: Settings, store: Store
) -> None:
    """replay_failing (what /healthz reads) was set only by a failed replay."""
    spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes)
    real = store.record_deliveries
    store.record_deliveries = _refuse  # type: ignore[method-assign]
    batcher = IntakeBatcher(store, Recorder(), threading.Lock(), spool)
    assert batcher._record([pending("a")])[0][1]["spooled"] is True  # type: ignore[index]
    assert batcher.replay_failing is not None and "disk is full" in batcher.replay_failing[1]
    since = batcher.replay_failing[0]
    batcher._record([pending("b")])
    assert batcher.replay_failing[0] == since  # since the first failure, not the last
    store.record_deliveries = real  # type: ignore[method-assign]
    batcher._record([pending("c")])
    batcher._replay_due()  # the store takes writes again: the spool drains
    assert batcher.replay_failing is None and store.delivery("a") is not None


def test_healthz_says_so_when_the_intake_thread_hangs_outside_the_store(
    settings: Settings, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """The intake thread hangs in the publish (a broker that takes the connection but not the
    message): every delivery is spooled, nothing replays them, and the store's lock is free."""
    release = threading.Event()

    class Hanging(Recorder):
        def __call__(self, ids: Any) -> None:
            release.wait(30)
            super().__call__(ids)

    app = create_app(settings, store, Hanging(), broker_ok=lambda: (True, "ok"))
    app.state.edge.batcher.wait_s = 0.5
    try:
        with TestClient(app) as client, caplog.at_level("WARNING", logger="bot.webhook"):
            a = post(client, "issues", OPENED, delivery="a").json()
            time.sleep(0.6)
            b = post(client, "issues", OPENED, delivery="b").json()
            h = client.get("/healthz")
            release.set()
    finally:
        release.set()
    assert a["spooled"] is True and b["spooled"] is True
    assert h.status_code == 503, h.json()
    assert h.json()["store"] == "ok" and h.json()["intake"].startswith("error:")
    # the store holds "a": saying it did not answer sends a person to the wrong place
    for said in (a["detail"], b["detail"], caplog.text):
        assert "intake did not answer" in said or "intake has not answered" in said, said
        assert "store did not answer" not in said and "store has not answered" not in said
