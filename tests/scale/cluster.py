"""A small fleet for scale tests and the benchmark: N worker processes, beat, the web app, faults."""

from __future__ import annotations

import collections
import contextlib
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from bot.sandbox.fake_github.server import FakeGitHubServer
from bot.settings import Settings
from bot.store import Store, open_store
from tests.e2e.harness import Proc, deliver, issue_payload

REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
    "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip
REPO = "scale/widgets"
FINAL = ("done", "dead", "ignored")


def worker(settings: Settings, log: Path, queues: str = "fast,model,sweep") -> Proc:
    name = f"scale-{uuid.uuid4().hex[:6]}@%h"
    return Proc(settings, ["worker", "--pool", "solo", "-Q", queues, "-n", name], log)


def restart_redis() -> float:
    """Shut Redis down without saving (it keeps nothing on disk: queued messages are lost)."""
    r = redis.Redis(port=6379)
    with contextlib.suppress(redis.ConnectionError, redis.ResponseError):
        r.shutdown(nosave=True)
    down = time.monotonic()
    time.sleep(1.0)
    subprocess.run(REDIS_START, check=True, capture_output=True)
    for _ in range(50):
        try:
            if r.ping():
                break
        except redis.ConnectionError:
            time.sleep(0.1)
    return time.monotonic() - down


@dataclass
class Fleet:
    """Workers + beat on one broker and database, the web app in-process, the fake GitHub."""

    settings: Settings
    fake: FakeGitHubServer
    logs: Path
    n_workers: int = 3
    workers: list[Proc] = field(default_factory=list)
    beat: Proc | None = None
    client: Any = None
    store: Store | None = None
    sent_at: dict[str, float] = field(default_factory=dict)

    def start(self, with_beat: bool = True) -> Fleet:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.store = open_store(self.settings.effective_database_url)
        self.client = web_client_for(self.settings)
        for _ in range(self.n_workers):
            self.add_worker()
        if with_beat:
            self.beat = Proc(self.settings, ["beat"], self.logs / "beat.log")
        return self

    def add_worker(self) -> Proc:
        w = worker(self.settings, self.logs / f"worker-{len(self.workers)}.log")
        self.workers.append(w)
        return w

    def stop(self) -> None:
        for p in [*self.workers, *([self.beat] if self.beat else [])]:
            p.stop()

    def send(self, delivery_id: str, number: int, action: str = "opened") -> int:
        payload = issue_payload(REPO, number, f"Issue {number}", "It fails.", action=action)
        self.sent_at[delivery_id] = time.time()
        r = deliver(self.client, _secret(self.settings), "issues", payload, delivery_id)
        return int(r.status_code)

    def counts(self) -> dict[str, int]:
        assert self.store is not None
        return self.store.delivery_counts()

    def wait_final(
        self, total: int, timeout: float, tick: Callable[[], None] | None = None
    ) -> float:
        """Seconds until every delivery is final; raises with the counts when it times out."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            c = self.counts()
            if sum(c.get(s, 0) for s in FINAL) >= total:
                return time.monotonic() - t0
            if tick:
                tick()
            time.sleep(0.25)
        raise AssertionError(f"not all {total} deliveries final after {timeout} s: {self.counts()}")


def web_client_for(settings: Settings) -> Any:
    """The web app in-process (TestClient) on the fleet's database and broker."""
    from fastapi.testclient import TestClient

    from bot.webhook.app import create_app
    from workers.celery_app import configure
    from workers.tasks import enqueue_deliveries

    configure(settings)
    store = open_store(settings.effective_database_url)
    return TestClient(create_app(settings, store, enqueue_deliveries))


def _secret(settings: Settings) -> str:
    assert settings.webhook_secret is not None
    return settings.webhook_secret.get_secret_value()


def writes_by_issue(fake: FakeGitHubServer) -> dict[tuple[str, int], collections.Counter[str]]:
    """Successful writes per (repo, issue): counts of label adds and comment posts."""
    out: dict[tuple[str, int], collections.Counter[str]] = collections.defaultdict(
        collections.Counter
    )
    for w in fake.state.writes():
        parts = w.path.split("/")  # /repos/o/r/issues/N/labels
        if len(parts) >= 7 and parts[4] == "issues" and parts[5].isdigit():
            out[(f"{parts[2]}/{parts[3]}", int(parts[5]))][f"{w.method} {parts[6]}"] += 1
    return out


def effect_times(fake: FakeGitHubServer) -> dict[int, float]:
    """Wall time of the first successful label write per issue number."""
    first: dict[int, float] = {}
    for w in fake.state.writes():
        parts = w.path.split("/")
        if len(parts) >= 7 and parts[6] == "labels" and parts[5].isdigit():
            first.setdefault(int(parts[5]), w.time - fake.state.offset)
    return first


def db_outage(url: str, seconds: float) -> None:
    """Make one PostgreSQL database unreachable: refuse new connections, cut the open ones."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"alter database {name} allow_connections false")
        conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity"
            " where datname = %s and pid <> pg_backend_pid()",
            [name],
        )
        time.sleep(seconds)
        conn.execute(f"alter database {name} allow_connections true")
