"""A worker (and the beat) waits out a broker outage however long it lasts. Celery's default of 100
reconnection tries ended a worker after about 45 minutes of outage; under `smolbot serve` its
death stopped the web too, and GitHub's deliveries were refused from then on instead of stored
(`queued: false`) for the recovery sweep. Publishing keeps its own bound (max_retries=0): the
webhook never waits on a broker that is down."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import load_settings
from workers.celery_app import configure


@pytest.mark.parametrize(
    "broker", ["redis://127.0.0.1:1/0", "amqp://guest:guest@127.0.0.1:1//", ""]
)
def test_workers_reconnect_to_the_broker_without_a_limit(tmp_path: Path, broker: str) -> None:
    app = configure(load_settings(env="test", data_dir=tmp_path, broker_url=broker))
    assert app.conf.broker_connection_max_retries is None  # None: for ever (kombu)
    assert app.conf.broker_connection_retry_on_startup is True
