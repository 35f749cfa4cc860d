"""/healthz (no sign-in) said the store's file path and the web's pid (/proc/<pid>/fd) once the
store file was replaced under the web; it now says what happened and what to do, and the log
has the path."""

from __future__ import annotations

import os
import shutil

import pytest
from fastapi.testclient import TestClient

from bot.settings import Settings
from bot.store import Store
from bot.webhook.app import create_app
from tests.webhook.test_app import Recorder


def test_healthz_does_not_show_the_store_path_after_the_file_is_replaced(
    settings: Settings, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings, store, Recorder())
    shutil.copy(settings.db_path, str(settings.db_path) + ".bak")
    os.replace(str(settings.db_path) + ".bak", settings.db_path)
    with caplog.at_level("ERROR", logger="bot"):
        h = TestClient(app).get("/healthz")
    assert h.status_code == 503
    assert str(settings.db_path) not in h.text and "/proc/" not in h.text, h.text
    assert "was deleted or replaced" in h.json()["store"] and "restart" in h.json()["store"]
    assert str(settings.db_path) in caplog.text  # the log has the path, for whoever runs it
