"""Hypothesis against /webhook, /healthz and /metrics: no 500s, no exceptions, nothing queued unsigned."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.settings import load_settings
from bot.store import open_store
from bot.webhook.app import create_app
from bot.webhook.signature import sign

SECRET = "prop-secret-value"
EVENTS = ["issues", "issue_comment", "installation", "installation_repositories", "label", "ping",
          "push", "", "x" * 300]  # fmt: skip
FAST = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids, max_size=4)
    ),
    max_leaves=20,
)
payload_like = st.fixed_dictionaries(
    {},
    optional={
        "action": json_values,
        "installation": json_values | st.fixed_dictionaries({"id": json_values}),
        "repository": json_values | st.fixed_dictionaries({"full_name": json_values}),
        "issue": json_values | st.fixed_dictionaries({"number": json_values}),
        "sender": json_values | st.fixed_dictionaries({"login": json_values, "type": json_values}),
    },
)


class Recorder:
    def __init__(self) -> None:
        self.ids: list[str] = []

    def __call__(self, delivery_ids: Sequence[str]) -> None:
        self.ids.extend(delivery_ids)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[TestClient, Recorder, Any]:
    s = load_settings(
        data_dir=tmp_path_factory.mktemp("prop"), webhook_secret=SECRET, env="test",
        max_body_bytes=64 * 1024,
    )  # fmt: skip
    store = open_store(s.db_path)
    rec = Recorder()
    client = TestClient(create_app(s, store, rec, broker_ok=lambda: (True, "ok")))
    return client, rec, store


def _post(client: TestClient, body: bytes, headers: dict[str, str]) -> Any:
    return client.post("/webhook", content=body, headers=headers)


@FAST
@given(body=st.binary(max_size=2048), event=st.sampled_from(EVENTS), sig=st.text(max_size=80),
       delivery=st.text(max_size=50))  # fmt: skip
def test_unsigned_or_badly_signed_never_recorded(world, body, event, sig, delivery) -> None:  # type: ignore[no-untyped-def]
    client, rec, store = world
    before, queued = store.delivery_counts(), len(rec.ids)
    headers = {"X-GitHub-Event": event, "X-Hub-Signature-256": sig}
    if delivery.isprintable() and delivery.isascii():
        headers["X-GitHub-Delivery"] = delivery
    r = _post(client, body, {k: v for k, v in headers.items() if v.isascii()})
    assert r.status_code == 401
    assert store.delivery_counts() == before and len(rec.ids) == queued


@FAST
@given(payload=payload_like, event=st.sampled_from(EVENTS), n=st.integers(0, 10**9))
def test_signed_odd_payloads_never_500(world, payload, event, n) -> None:  # type: ignore[no-untyped-def]
    client, rec, store = world
    body = json.dumps(payload).encode()
    delivery = f"prop-{n}-{time.monotonic_ns()}"
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
               "X-Hub-Signature-256": sign(SECRET.encode(), body)}  # fmt: skip
    r = _post(client, body, headers)
    assert r.status_code in (200, 202, 400), r.text
    if delivery in rec.ids:  # queued only when signed, recorded and a handled event
        assert r.status_code == 202 and r.json().get("queued") is True
        assert store.delivery(delivery)["status"] == "queued"


@FAST
@given(body=st.binary(max_size=4096))
def test_signed_garbage_bodies_are_400_not_500(world, body) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = world
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": f"g-{time.monotonic_ns()}",
               "X-Hub-Signature-256": sign(SECRET.encode(), body)}  # fmt: skip
    assert _post(client, body, headers).status_code in (200, 202, 400)


def test_deeply_nested_payload_rejected_before_parsing(world) -> None:  # type: ignore[no-untyped-def]
    client, rec, _ = world
    body = b'{"a":' * 50_000 + b"1" + b"}" * 50_000  # 500 kB, far past json's recursion limit
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "deep",
               "X-Hub-Signature-256": sign(SECRET.encode(), body)}  # fmt: skip
    r = _post(client, body, {**headers, "Content-Length": str(len(body))})
    assert r.status_code in (400, 413) and "deep" not in rec.ids


def test_oversized_body_refused_by_content_length_unsigned_or_not(world) -> None:  # type: ignore[no-untyped-def]
    client, rec, store = world
    body = b"{" + b" " * (65 * 1024) + b"}"
    for sig in ("sha256=00", sign(SECRET.encode(), body)):
        r = _post(client, body, {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "big",
                                 "X-Hub-Signature-256": sig})  # fmt: skip
        assert r.status_code == 413
    assert store.delivery("big") is None and "big" not in rec.ids


@FAST
@given(path=st.sampled_from(["/healthz", "/metrics", "/webhook"]),
       method=st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
       headers=st.dictionaries(st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,20}\Z"),
                               st.from_regex(r"\A[ -~]{0,40}\Z"), max_size=4))  # fmt: skip
def test_other_methods_and_headers_never_500(world, path, method, headers) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = world
    r = client.request(method, path, headers=headers)
    assert r.status_code < 500
