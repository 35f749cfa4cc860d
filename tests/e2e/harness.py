"""End-to-end harness: a real worker process on a real broker, the web app, the fake GitHub."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from bot.settings import Settings
from bot.store import open_store
from bot.webhook.signature import sign
from tests.redis_db import redis_test_url

ROOT = Path(__file__).resolve().parents[2]
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


def broker_url(kind: str, tmp: Path) -> str:
    """A fresh broker for one test: its own SQLite file, this process's own Redis db, or AMQP."""
    if kind == "sqla":
        return f"sqla+sqlite:///{tmp / 'broker.sqlite'}"
    if kind == "redis":
        return redis_test_url()
    return AMQP_URL


class Proc:
    """`python -m bot.cli <args>` in its own process group (so kill -9 takes it whole), logged."""

    def __init__(self, settings: Settings, args: list[str], log: Path) -> None:
        env = {**os.environ, **settings.to_env(), "PYTHONPATH": str(ROOT)}
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *args],
            env=env,
            cwd=ROOT,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill9(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()


class Worker(Proc):
    """`smolbot worker` (solo pool) on the given queues."""

    def __init__(self, settings: Settings, log: Path, queues: str = "fast,model,sweep") -> None:
        name = f"e2e-{uuid.uuid4().hex[:6]}@%h"
        super().__init__(settings, ["worker", "--pool", "solo", "-Q", queues, "-n", name], log)


def web_client(settings: Settings) -> TestClient:
    from bot.webhook.app import create_app
    from workers.celery_app import configure
    from workers.tasks import enqueue_deliveries

    configure(settings)
    return TestClient(create_app(settings, open_store(settings.db_path), enqueue_deliveries))


def deliver(
    client: TestClient,
    secret: str,
    event: str,
    payload: dict[str, Any],
    delivery_id: str | None = None,
) -> Any:
    body = json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(secret.encode(), body),
        "Content-Type": "application/json",
    }
    return client.post("/webhook", content=body, headers=headers)


def wait_for(
    cond: Callable[[], Any], timeout: float = 60, what: str = "condition", log: Path | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.2)
    tail = log.read_text()[-3000:] if log and log.exists() else ""
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what}\n--- worker log ---\n{tail}"
    )


def issue_payload(
    repo: str,
    number: int,
    title: str,
    body: str = "",
    inst: int = 1,
    action: str = "opened",
    login: str = "alice",
) -> dict[str, Any]:
    # each repository its own id, as on GitHub: one id under two names is a rename, which the
    # worker learns from the payload (bot.jobs.dispatch._today_s_name)
    return {
        "action": action,
        "installation": {"id": inst},
        "repository": {"full_name": repo, "id": zlib.crc32(repo.encode()) + 1},
        "issue": {
            "number": number,
            "title": title,
            "body": body,
            "state": "open",
            "labels": [],
            "user": {"login": login, "type": "User"},
            "created_at": "2026-11-20T10:00:00Z",
            "updated_at": "2026-11-20T10:00:00Z",
        },
        "sender": {"login": login, "type": "User"},
    }
