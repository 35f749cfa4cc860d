"""`smolbot retry` against a broker that is down, then up (real Redis): nothing is marked replayed
that was not queued, and it says what to do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import redis

from bot.settings import load_settings
from bot.store import open_store
from tests.redis_db import redis_test_url

ROOT = Path(__file__).resolve().parents[2]
DOWN = "redis://127.0.0.1:1/0"  # nothing listens there: connection refused


def retry(tmp_path: Path, broker: str) -> subprocess.CompletedProcess[str]:
    settings = load_settings(env="test", data_dir=tmp_path, broker_url=broker)
    env = {**os.environ, **settings.to_env(), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "retry"], env=env, cwd=ROOT, capture_output=True,
        text=True, timeout=180,
    )  # fmt: skip


def test_retry_replays_only_what_the_broker_took(tmp_path: Path) -> None:
    store = open_store(load_settings(env="test", data_dir=tmp_path).effective_database_url)
    store.record_delivery("d1", "issues", "{}", repo="o/r", number=1)
    store.set_delivery_status("d1", "dead", error="GitHubError: boom")
    store.dead_letter("smolbot.handle_delivery", {"delivery_id": "d1"}, "GitHubError: boom")
    store.dead_letter("smolbot.something_old", {"what": 1}, "from an older release")

    down = retry(tmp_path, DOWN)
    assert down.returncode != 0 and "start the broker" in down.stderr, down.stderr
    assert "2 still parked" in down.stderr and "Traceback" not in down.stderr
    assert store.delivery("d1")["status"] == "dead" and len(store.dead_letters()) == 2

    url = redis_test_url()
    up = retry(tmp_path, url)
    assert up.returncode == 0 and "replayed 1 dead letter(s)" in up.stdout, up.stderr
    assert "names nothing to replay; kept" in up.stderr
    assert store.delivery("d1")["status"] == "queued"
    assert [d["task"] for d in store.dead_letters()] == ["smolbot.something_old"]
    assert redis.Redis.from_url(url).llen("fast") == 1  # the replay is on the queue
