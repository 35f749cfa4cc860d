"""/healthz's "the store has refused them for N s" (replay_failing) ends with the outage: a web
process whose spool another web process drained said so for ever, counting from the old outage,
as soon as any entry waited again."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.settings import Settings
from bot.store import Store, open_store
from bot.webhook.app import create_app
from bot.webhook.batcher import IntakeBatcher, _row
from bot.webhook.spool import Spool
from tests.webhook.test_app import OPENED, Recorder, post
from tests.webhook.test_batcher import pending


def _spool(settings: Settings) -> Spool:
    return Spool(settings.data_dir / "spool", settings.spool_max_bytes)


def _locked(rows: Any) -> list[bool]:
    raise sqlite3.OperationalError("database is locked")


def _spooled_then_drained_by_another_web(
    settings: Settings, store: Store, a: IntakeBatcher
) -> None:
    real = store.record_deliveries
    store.record_deliveries = _locked  # type: ignore[method-assign]
    assert a._record([pending("x")])[0][1]["spooled"] is True  # type: ignore[index]
    store.record_deliveries = real  # type: ignore[method-assign]
    other = IntakeBatcher(
        open_store(settings.db_path), Recorder(), threading.Lock(), _spool(settings)
    )
    assert other.replay() == 1  # web B drains it
    assert a.replay_failing is not None


def test_a_pass_that_finds_nothing_ends_the_failing_state(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.webhook import app as app_mod

    monkeypatch.setattr(app_mod, "SPOOL_STUCK_S", 0.5)
    app = create_app(settings, store, Recorder())
    a: IntakeBatcher = app.state.edge.batcher
    _spooled_then_drained_by_another_web(settings, store, a)
    a._replay_at = 0.0
    a._replay_due()  # A's own pass: nothing left, and no error
    assert a.replay_failing is None
    time.sleep(1.0)  # the store has been fine all this while
    _spool(settings).put([_row(pending("y"))], "B: a delivery that waited too long")
    h = TestClient(app).get("/healthz")
    assert h.status_code == 200, h.json()


def test_a_live_delivery_the_store_takes_ends_the_failing_state(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the intake thread: the replay pass it runs with the live batch finds nothing
    (a control: this path cleared it before too, and must go on doing so)."""
    from bot.webhook import app as app_mod

    monkeypatch.setattr(app_mod, "SPOOL_STUCK_S", 0.5)
    app = create_app(settings, store, Recorder())
    a: IntakeBatcher = app.state.edge.batcher
    _spooled_then_drained_by_another_web(settings, store, a)
    a._replay_at = 0.0  # its back-off after the failure has run out
    with TestClient(app) as client:
        assert post(client, "issues", OPENED, delivery="z").json().get("queued") is True
        time.sleep(1.0)
        _spool(settings).put([_row(pending("y"))], "B: a delivery that waited too long")
        h = client.get("/healthz")
    assert h.status_code == 200, h.json()
