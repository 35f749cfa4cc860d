"""Dashboard and /metrics reads beside webhook intake in one web process, over real HTTP."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bot.settings import Settings
from bot.store import Store, open_store
from bot.webhook.app import create_app
from bot.webhook.signature import sign
from tests.conftest import SECRET
from tests.webhook import opened

TOKEN = "a-long-dashboard-token-for-tests"


class Broker:
    """An Enqueue port that keeps the ids it was given."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, delivery_ids: Sequence[str]) -> None:
        self.sent.extend(delivery_ids)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served_app(settings: Settings, store: Store) -> Iterator[tuple[FastAPI, str]]:
    """The real app on a loopback port, its store holding 30 audit rows of o/r."""
    for i in range(30):
        store.audit("add_labels", "done", "triage", task="triage", repo="o/r", number=i)
    store.upsert_installation(1, "o", "Organization")
    store.add_repositories(1, [{"full_name": "o/r", "id": 1}])
    app = create_app(
        settings.model_copy(update={"dashboard_token": SecretStr(TOKEN)}), store, Broker()
    )
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield app, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def served(served_app: tuple[FastAPI, str]) -> str:
    return served_app[1]


def _signed_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    assert client.post("/login", data={"token": TOKEN}).status_code == 303
    return client


def test_dashboard_reads_during_webhook_intake_break_neither(served: str, store: Store) -> None:
    """Reviewer's reproduction: the dashboard's query() savepoints on the intake connection
    interleaved with the batcher's transactions (500s, and a stored delivery answered 503)."""
    webhook: Counter[int] = Counter()
    dash: Counter[int] = Counter()

    def post(worker: int) -> None:
        with httpx.Client(base_url=served, timeout=30) as client:
            for i in range(80):
                body = json.dumps(opened(i)).encode()
                headers = {
                    "X-GitHub-Event": "issues",
                    "X-GitHub-Delivery": f"w{worker}-{i}",
                    "X-Hub-Signature-256": sign(SECRET.encode(), body),
                }
                webhook[client.post("/webhook", content=body, headers=headers).status_code] += 1

    def poll(worker: int) -> None:
        client = _signed_in(served)
        try:
            for i in range(70):
                path = ("/api/audit", "/api/overview", "/metrics")[(worker + i) % 3]
                dash[client.get(path).status_code] += 1
        finally:
            client.close()

    threads = [threading.Thread(target=post, args=(w,)) for w in range(4)]
    threads += [threading.Thread(target=poll, args=(w,)) for w in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (dict(webhook), dict(dash)) == ({202: 320}, {200: 350})
    assert store.delivery_counts() == {"queued": 320}


def test_a_dashboard_read_neither_waits_for_nor_joins_an_intake_transaction(
    served_app: tuple[FastAPI, str], store: Store
) -> None:
    app, base = served_app
    client = _signed_in(base)
    with app.state.edge.lock, store.db.atomic():  # what the batcher holds while it records
        store.audit("comment", "done", "not committed yet", task="triage", repo="o/r", number=999)
        during = client.get("/api/audit", params={"issue": "999"}, timeout=10)
    after = client.get("/api/audit", params={"issue": "999"})
    client.close()
    assert during.status_code == 200 and during.json()["rows"] == []
    assert [r["reason"] for r in after.json()["rows"]] == ["not committed yet"]


def test_reads_have_their_own_connection_on_either_backend(
    settings: Settings, any_store: Store
) -> None:
    edge = create_app(settings, any_store, Broker()).state.edge
    assert edge.reads is not any_store and edge.reads_lock is not edge.lock
    any_store.audit("comment", "done", "seen by the reader", task="triage", repo="o/r", number=1)
    assert [r["reason"] for r in edge.reads.rows("select reason from audit")] == [
        "seen by the reader"
    ]
    edge.reads.close()


def test_the_read_connection_outlives_a_lifespan(settings: Settings, store: Store) -> None:
    """A test client (schemathesis's, for one) starts and stops the same app's lifespan again."""
    app = create_app(settings, store, Broker())
    for _ in range(2):
        with TestClient(app) as client:
            assert client.get("/metrics").status_code == 200


def test_an_in_memory_store_is_read_on_its_one_connection_under_the_intake_lock(
    settings: Settings,
) -> None:
    memory = open_store(":memory:")
    edge = create_app(settings, memory, Broker()).state.edge
    assert edge.reads is memory and edge.reads_lock is edge.lock


def test_a_webhook_is_accepted_while_a_metrics_scrape_reads(
    served_app: tuple[FastAPI, str], store: Store
) -> None:
    """The scrape is held inside its model_calls query (whichever connection runs it) until the
    delivery has been answered: before, it held the intake lock there, and the delivery waited."""
    app, base = served_app
    edge = app.state.edge
    store.db.table("model_calls").insert({"task": "triage", "final": 1, "latency_ms": 3.0})
    reading, release = threading.Event(), threading.Event()

    def hold(sql: str) -> None:
        if "model_calls" in sql and not reading.is_set():
            reading.set()
            release.wait(30)

    for s in (edge.store, edge.reads):  # left on: it holds one statement once, then is a no-op
        s.db.conn.set_trace_callback(hold)
    scraped: list[httpx.Response] = []
    scrape = threading.Thread(
        target=lambda: scraped.append(httpx.get(f"{base}/metrics", timeout=30))
    )
    scrape.start()
    try:
        assert reading.wait(10), "the scrape never reached its model_calls query"
        body = json.dumps(opened(1)).encode()
        headers = {
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": "during-scrape",
            "X-Hub-Signature-256": sign(SECRET.encode(), body),
        }
        try:
            delivered = httpx.post(f"{base}/webhook", content=body, headers=headers, timeout=5)
        except httpx.TimeoutException:
            pytest.fail("the delivery waited for the metrics scrape")
    finally:
        release.set()
        scrape.join(timeout=30)
    assert delivered.status_code == 202
    assert scraped[0].status_code == 200
    assert 'smolbot_model_calls_total{backend="",cache_hit="false",task="triage"} 1.0' in (
        scraped[0].text
    )
