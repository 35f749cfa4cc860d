"""Schemathesis over the app's own OpenAPI, in-process, with a real store: no 500s, nothing queued."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from bot.settings import load_settings
from bot.store import open_store
from bot.webhook.app import create_app

_DIR = Path(tempfile.mkdtemp(prefix="smolbot-fuzz-"))
SETTINGS = load_settings(
    data_dir=_DIR, webhook_secret="fuzz-secret-value", dashboard_token="fuzz-dash-token", env="test"
)
STORE = open_store(SETTINGS.db_path)
QUEUED: list[str] = []


def _enqueue(delivery_ids: Sequence[str]) -> None:
    QUEUED.extend(delivery_ids)


APP = create_app(SETTINGS, STORE, _enqueue, broker_ok=lambda: (True, "ok"))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_nothing_queued_unsigned(case: Any) -> None:
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
    assert QUEUED == []  # no generated request can carry a valid signature
    assert STORE.delivery_counts() == {}
