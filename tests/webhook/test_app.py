"""The webhook route with a real store: status codes, dedupe, nothing queued on bad input."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.ports import QueueUnavailable
from bot.settings import Settings
from bot.store import Store
from bot.webhook.app import create_app
from bot.webhook.signature import sign
from tests.conftest import SECRET


class Recorder:
    """An Enqueue port that keeps what it was given; `down` makes it behave like a dead broker."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.down = False

    def __call__(self, delivery_ids: Sequence[str]) -> None:
        if self.down:
            raise QueueUnavailable("connection refused")
        self.sent.extend(delivery_ids)


@pytest.fixture
def queue() -> Recorder:
    return Recorder()


@pytest.fixture
def client(settings: Settings, store: Store, queue: Recorder) -> TestClient:
    return TestClient(create_app(settings, store, queue))


def post(
    client: TestClient, event: str, body: bytes, delivery: str = "d-1", sig: str | None = "auto"
) -> Any:
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "Content-Type": "application/json",
    }
    if sig == "auto":
        sig = sign(SECRET.encode(), body)
    if sig is not None:
        headers["X-Hub-Signature-256"] = sig
    return client.post("/webhook", content=body, headers=headers)


OPENED = json.dumps(
    {
        "action": "opened",
        "installation": {"id": 7},
        "repository": {"full_name": "o/r"},
        "issue": {"number": 3, "title": "t"},
        "sender": {"login": "alice", "type": "User"},
    }
).encode()


def test_valid_delivery_is_recorded_and_queued(
    client: TestClient, store: Store, queue: Recorder
) -> None:
    r = post(client, "issues", OPENED)
    assert r.status_code == 202 and r.json()["queued"] is True
    assert queue.sent == ["d-1"]
    row = store.delivery("d-1")
    assert row and row["status"] == "queued" and row["repo"] == "o/r" and row["number"] == 3


def test_redelivery_acknowledged_not_queued_twice(
    client: TestClient, store: Store, queue: Recorder
) -> None:
    assert post(client, "issues", OPENED).status_code == 202
    r = post(client, "issues", OPENED)
    assert r.status_code == 200 and r.json()["duplicate"] is True
    assert r.json()["status"] == "queued" and "detail" not in r.json()
    assert queue.sent == ["d-1"]
    store.set_delivery_status("d-1", "dead", error="boom")  # it failed in the worker
    r = post(client, "issues", OPENED)  # the maintainer's "Redeliver" in GitHub's settings
    assert r.json()["status"] == "dead" and "`smolbot retry`" in r.json()["detail"]
    assert queue.sent == ["d-1"]


def test_a_refused_signature_names_the_setting_and_is_logged_once_a_minute(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.webhook import app as webhook_app

    webhook_app._refused.at, webhook_app._refused.count = float("-inf"), 0
    with caplog.at_level("WARNING", logger="bot.webhook.app"):
        for i in range(3):
            r = post(client, "issues", OPENED, delivery=f"d-{i}", sig="sha256=" + "0" * 64)
            assert r.status_code == 401 and "SMOLBOT_WEBHOOK_SECRET" in r.json()["detail"]
    warned = [r.getMessage() for r in caplog.records if "webhook secret" in r.getMessage()]
    assert warned == [
        "refused 1 delivery(ies) with a wrong signature; if GitHub sent them, the App's webhook"
        " secret and SMOLBOT_WEBHOOK_SECRET differ"
    ]


def test_an_overlong_delivery_id_is_named(client: TestClient) -> None:
    r = post(client, "issues", OPENED, delivery="x" * 201)
    assert r.status_code == 400 and "longer than 200" in r.json()["detail"]


@pytest.mark.parametrize("sig", [None, "sha256=" + "0" * 64, "garbage", sign(b"other", OPENED)])
def test_bad_signature_401_nothing_recorded(
    client: TestClient, store: Store, queue: Recorder, sig: str | None
) -> None:
    assert post(client, "issues", OPENED, sig=sig).status_code == 401
    assert queue.sent == [] and store.delivery("d-1") is None


def test_ping_200(client: TestClient, queue: Recorder) -> None:
    r = post(client, "ping", b'{"zen": "Keep it logically awesome."}')
    assert r.status_code == 200 and r.json()["ok"] is True and queue.sent == []


def test_unknown_event_202_ignored(client: TestClient, store: Store, queue: Recorder) -> None:
    r = post(client, "star", b'{"action": "created"}')
    assert r.status_code == 202 and r.json()["ignored"] is True and queue.sent == []
    assert store.delivery("d-1")["status"] == "ignored"


def test_own_events_ignored(client: TestClient, queue: Recorder) -> None:
    body = json.dumps(
        {"action": "created", "sender": {"login": "smolbot[bot]", "type": "Bot"}}
    ).encode()
    assert post(client, "issue_comment", body).json()["ignored"] is True and queue.sent == []


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1,2]",
        b"\xff\xfe",
        b"[" * 5000 + b"]" * 5000,
        b'{"a": ' + b"1" * 5000 + b"}",  # past Python's 4,300 digits: ValueError, was a 500
    ],
)
def test_malformed_json_400(client: TestClient, queue: Recorder, body: bytes) -> None:
    assert post(client, "issues", body).status_code == 400 and queue.sent == []


@pytest.mark.parametrize(
    "body",
    [b"\xef\xbb\xbf" + OPENED, OPENED.decode().encode("utf-16")],
    ids=["utf-8 byte order mark", "utf-16"],
)
def test_json_that_is_not_plain_utf8_is_400_not_a_delivery_the_worker_cannot_read(
    client: TestClient, store: Store, queue: Recorder, body: bytes
) -> None:
    """json.loads takes these, but the store keeps the body as UTF-8 text and the worker reads
    that: they were recorded and queued (202), then failed in the worker."""
    r = post(client, "issues", body)
    assert r.status_code == 400 and queue.sent == [], r.text
    assert "UTF-8" in r.json()["detail"] or "BOM" in r.json()["detail"]
    assert store.delivery_counts() == {}


def test_missing_headers_400(client: TestClient) -> None:
    body = OPENED
    r = client.post(
        "/webhook", content=body, headers={"X-Hub-Signature-256": sign(SECRET.encode(), body)}
    )
    assert r.status_code == 400


def test_huge_body_413_nothing_queued(settings: Settings, store: Store, queue: Recorder) -> None:
    small = settings.model_copy(update={"max_body_bytes": 1024})
    c = TestClient(create_app(small, store, queue))
    body = json.dumps({"pad": "x" * 5000}).encode()
    assert post(c, "issues", body).status_code == 413 and queue.sent == []


def test_broker_down_delivery_kept_for_recovery(
    client: TestClient, store: Store, queue: Recorder
) -> None:
    queue.down = True
    r = post(client, "issues", OPENED)
    assert r.status_code == 202 and r.json()["queued"] is False
    assert "recovery sweep" in r.json()["detail"]
    assert store.delivery("d-1")["status"] == "received"
    assert store.stuck_deliveries(0, now=store.delivery("d-1")["updated_at"] + 1) == ["d-1"]


def test_no_secret_configured_refuses(settings: Settings, store: Store, queue: Recorder) -> None:
    c = TestClient(create_app(settings.model_copy(update={"webhook_secret": None}), store, queue))
    assert post(c, "issues", OPENED).status_code == 503 and queue.sent == []


def test_healthz_reports_store_and_broker(
    settings: Settings, store: Store, queue: Recorder
) -> None:
    ok = TestClient(create_app(settings, store, queue, broker_ok=lambda: (True, "ok")))
    assert ok.get("/healthz").json() == {"ok": True, "store": "ok", "broker": "ok"}
    down = TestClient(create_app(settings, store, queue, broker_ok=lambda: (False, "refused")))
    r = down.get("/healthz")
    assert r.status_code == 503 and r.json()["broker"] == "error: refused"


def _asgi_post(app: Any, chunks: list[bytes], disconnect: bool = False) -> list[dict[str, Any]]:
    """Drive the ASGI app directly: the body in chunks, without a content-length, as a client
    streaming it would; optionally the client goes away after the chunks."""
    import asyncio

    body = b"".join(chunks)
    headers = [
        (b"x-github-event", b"issues"),
        (b"x-github-delivery", b"d-stream"),
        (b"x-hub-signature-256", sign(SECRET.encode(), body).encode()),
    ]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/webhook", "raw_path": b"/webhook", "root_path": "",
             "query_string": b"", "headers": headers, "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 80), "state": {}}  # fmt: skip
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1 or disconnect}
        for i, c in enumerate(chunks)
    ]
    if disconnect:
        messages.append({"type": "http.disconnect"})
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        async with app.router.lifespan_context(app):
            await app(scope, receive, send)

    asyncio.run(run())
    return sent


def test_streamed_body_over_the_limit_413_without_content_length(
    settings: Settings, store: Store, queue: Recorder
) -> None:
    app = create_app(settings.model_copy(update={"max_body_bytes": 1000}), store, queue)
    sent = _asgi_post(app, [b'{"a": "' + b"x" * 600, b"x" * 600 + b'"}'])
    assert sent[0]["status"] == 413 and queue.sent == [] and store.delivery_counts() == {}


def test_streamed_body_in_chunks_is_recorded(
    settings: Settings, store: Store, queue: Recorder
) -> None:
    half = len(OPENED) // 2
    sent = _asgi_post(create_app(settings, store, queue), [OPENED[:half], OPENED[half:]])
    assert sent[0]["status"] == 202 and queue.sent == ["d-stream"]
    assert json.loads(sent[1]["body"])["queued"] is True


def test_client_gone_before_its_body_arrived_nothing_recorded_nothing_sent(
    settings: Settings, store: Store, queue: Recorder
) -> None:
    sent = _asgi_post(create_app(settings, store, queue), [OPENED[:50]], disconnect=True)
    assert sent == [] and queue.sent == [] and store.delivery_counts() == {}


@pytest.mark.parametrize(
    ("payload", "lacking"),
    [
        ({"action": "opened"}, "installation.id, repository.full_name, issue.number"),
        (  # a repository webhook's payload: no installation
            {"action": "opened", "repository": {"full_name": "o/r"}, "issue": {"number": 3}},
            "installation.id",
        ),
    ],
)
def test_an_event_without_what_the_worker_reads_is_400_not_a_delivery_that_fails_forever(
    client: TestClient, store: Store, queue: Recorder, payload: dict[str, object], lacking: str
) -> None:
    """Recorded (202), it failed in the worker with a KeyError on every `smolbot retry`."""
    r = post(client, "issues", json.dumps(payload).encode())
    assert r.status_code == 400 and queue.sent == [], r.text
    assert f"without {lacking}" in r.json()["detail"]
    assert store.delivery_counts() == {}


def test_no_api_doc_pages_that_load_a_cdn_s_scripts(client: TestClient) -> None:
    """FastAPI's /docs and /redoc pull their scripts from a CDN; the route description stays."""
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").status_code == 200
