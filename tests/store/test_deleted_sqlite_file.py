"""The SQLite file deleted (or replaced) under a running web process is noticed.

The web kept its open connection to the unlinked file and answered 202 to every delivery
recorded there; a worker (re)started since opens a new, empty smolbot.db at the same path, finds
none of them ("already-final-or-unknown") and they were lost. /healthz pinged with `select 1`,
which reads no file, so it said ok throughout. Now the store compares the path's device and inode
with the file it opened: /healthz says what happened, and intake keeps the delivery in the
webhook spool (as in any store outage) instead of writing it where no worker looks."""

from __future__ import annotations

import shutil
import sqlite3

import pytest
from fastapi.testclient import TestClient

from bot.settings import Settings
from bot.store import Store, open_store
from bot.webhook.app import create_app
from tests.webhook.test_app import OPENED, Recorder, post


def _delete(settings: Settings) -> None:
    for suffix in ("", "-wal", "-shm"):
        settings.db_path.with_name(settings.db_path.name + suffix).unlink(missing_ok=True)


def test_health_and_intake_notice_the_store_file_is_gone(settings: Settings, store: Store) -> None:
    client = TestClient(create_app(settings, store, Recorder()))
    with client:
        assert client.get("/healthz").status_code == 200
        _delete(settings)
        worker = open_store(settings.db_path)  # a worker started after the deletion
        r = post(client, "issues", OPENED, delivery="after-delete")
        assert r.status_code in (202, 503), r.text
        assert worker.delivery("after-delete") is None  # in neither file: kept aside
        health = client.get("/healthz")
        assert health.status_code == 503, health.text
        assert "was deleted or replaced" in health.json()["store"], health.json()
    # the web restarted: it opens the file workers use, and records what it kept meanwhile
    restarted = TestClient(create_app(settings, open_store(settings.db_path), Recorder()))
    with restarted:
        assert restarted.get("/healthz").status_code == 200
        post(restarted, "issues", OPENED, delivery="after-restart")
    if r.status_code == 202:
        assert worker.delivery("after-delete") is not None, "answered 202, then lost"
    assert worker.delivery("after-restart") is not None


def test_a_store_file_replaced_by_a_copy_is_noticed(settings: Settings, store: Store) -> None:
    """A backup moved over the file (a new inode at the same path)."""
    copy = settings.db_path.with_name("copy.db")
    shutil.copy(settings.db_path, copy)
    copy.replace(settings.db_path)
    with pytest.raises(sqlite3.OperationalError, match="deleted or replaced"):
        store.ping()
    assert open_store(settings.db_path).ping()  # a process opening it now has the new one
