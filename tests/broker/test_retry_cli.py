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


def retry(tmp_path: Path, broker: str, *args: str) -> subprocess.CompletedProcess[str]:
    settings = load_settings(env="test", data_dir=tmp_path, broker_url=broker)
    env = {**os.environ, **settings.to_env(), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "retry", *args], env=env, cwd=ROOT, capture_output=True,
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


def test_held_deliveries_are_shown_and_retry_held_runs_them(tmp_path: Path) -> None:
    """Deliveries held for an installation GitHub said was suspended wait for its unsuspend
    event; one that never came (lost, or the app's webhook was off) held them for good, and
    neither `smolbot doctor` nor `smolbot retry` showed them. Now the doctor lists them and
    `smolbot retry --held` runs them (a broker that is down leaves them to the sweep)."""
    from bot.cli.doctor import _store

    settings = load_settings(env="test", data_dir=tmp_path)
    store = open_store(settings.effective_database_url)
    store.upsert_installation(7, "acme", "Organization")
    for did in ("d1", "d2"):
        store.record_delivery(did, "issues", "{}", installation_id=7, repo="acme/app", number=1)
        store.set_delivery_status(did, "running")
        assert store.hold_delivery(did, "installation suspended on GitHub")
    store.record_delivery("d3", "issues", "{}", installation_id=8, repo="o/r", number=2)

    ok, msg = _store(settings)
    assert ok, msg  # held is waiting on GitHub, not a failure
    assert "2 deliveries of installation 7 (acme) held for" in msg, msg
    assert "`smolbot retry --held`" in msg
    assert "installation 8" not in msg

    plain = retry(tmp_path, DOWN)  # without --held they stay held
    assert plain.returncode == 0, plain.stderr
    assert {store.delivery(d)["status"] for d in ("d1", "d2")} == {"held"}

    down = retry(tmp_path, DOWN, "--held")
    assert down.returncode == 0 and "broker did not take them" in down.stderr, down.stderr
    assert {store.delivery(d)["status"] for d in ("d1", "d2")} == {"received"}  # not lost
    assert "held for" not in _store(settings)[1]

    for did in ("d1", "d2"):  # held again (GitHub still refused them), then released for good
        store.set_delivery_status(did, "running")
        assert store.hold_delivery(did, "installation suspended on GitHub")
    url = redis_test_url()
    up = retry(tmp_path, url, "--held")
    assert up.returncode == 0 and "2 held deliveries queued again" in up.stdout, up.stderr
    assert {store.delivery(d)["status"] for d in ("d1", "d2")} == {"queued"}
    assert store.delivery("d3")["status"] == "received"
    assert redis.Redis.from_url(url).llen("fast") == 1  # one message naming both
    (row,) = [r for r in store.audit_rows() if "retry --held" in r["reason"]][:1]
    assert row["outcome"] == "queued"
