"""A store file replaced under the running web (a backup moved over it): the web cannot write the
file the workers read until it is restarted. Each delivery was answered 503 as "not for an
outage: a bug or a schema this version does not match", with the server's file path and pid in
the answer, and GitHub does not resend by itself. Now intake keeps it in the spool (a restarted
web replays it), the client hears a generic answer, and the log says to restart the web."""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest
from fastapi.testclient import TestClient

from bot.settings import Settings
from bot.store import Store, open_store
from bot.store.store import StoreFileReplaced
from bot.webhook.app import create_app
from tests.webhook.test_app import OPENED, Recorder, post
from tests.webhook.test_spool import _recorded, _until


def _replace(settings: Settings) -> None:
    shutil.copy(settings.db_path, str(settings.db_path) + ".bak")
    os.replace(str(settings.db_path) + ".bak", settings.db_path)


def test_a_store_file_replaced_under_the_web_keeps_deliveries_in_the_spool(
    settings: Settings, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        TestClient(create_app(settings, store, Recorder())) as client,
        caplog.at_level("WARNING", logger="bot"),
    ):
        _replace(settings)
        r = post(client, "issues", OPENED, delivery="after-restore")
    assert r.status_code == 202, r.json()
    assert r.json()["spooled"] is True
    said = r.text
    assert str(settings.db_path) not in said and "/proc/" not in said and "bug" not in said
    assert "restart the web" in caplog.text and str(settings.db_path) in caplog.text
    # restarted: the web opens the file the workers use and replays what it kept
    queue = Recorder()
    after = open_store(settings.db_path)
    with TestClient(create_app(settings, after, queue)):
        _until(_recorded(after, "after-restore"))
    assert queue.sent == ["after-restore"]


def test_when_the_spool_refuses_too_the_answer_has_no_server_path(
    settings: Settings, store: Store
) -> None:
    small = settings.model_copy(update={"spool_max_bytes": 10})  # nothing fits
    with TestClient(create_app(small, store, Recorder())) as client:
        _replace(settings)
        r = post(client, "issues", OPENED, delivery="after-restore")
    assert r.status_code == 503, r.json()
    assert str(settings.db_path) not in r.text and "/proc/" not in r.text
    assert "SMOLBOT_SPOOL_MAX_BYTES" in r.json()["detail"]


def test_the_error_is_still_an_operational_error_that_names_the_file(
    settings: Settings, store: Store
) -> None:
    _replace(settings)
    with pytest.raises(StoreFileReplaced) as err:
        store.ping()
    assert isinstance(err.value, sqlite3.OperationalError)
    assert str(settings.db_path) in str(err.value)
