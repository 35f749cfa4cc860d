"""Webhook content types: a GitHub webhook sends JSON, or `form` (payload=<JSON>) when its content
type is set so (a GitHub App's hook config allows either). A form delivery was refused as "not
valid JSON" and nothing was recorded."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.settings import Settings
from bot.store import Store
from bot.webhook.app import create_app
from bot.webhook.intake import MAX_DEPTH
from bot.webhook.signature import sign
from tests.conftest import SECRET
from tests.webhook.test_app import OPENED, Recorder


def form(payload: bytes) -> bytes:
    return urllib.parse.urlencode({"payload": payload.decode()}).encode()


def send(settings: Settings, store: Store, queue: Recorder, body: bytes, content_type: str) -> Any:
    client = TestClient(create_app(settings, store, queue))
    return client.post(
        "/webhook",
        content=body,
        headers={
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": "form-1",
            "X-Hub-Signature-256": sign(SECRET.encode(), body),
            "Content-Type": content_type,
        },
    )


def test_a_form_encoded_delivery_is_recorded_as_the_json_it_carries(
    settings: Settings, store: Store
) -> None:
    queue = Recorder()
    r = send(settings, store, queue, form(OPENED), "application/x-www-form-urlencoded")
    assert r.status_code == 202, r.json()
    row = store.delivery("form-1")
    assert row is not None and (row["repo"], row["number"]) == ("o/r", 3)
    assert row["payload"] == OPENED.decode()  # the worker reads JSON, as from a JSON delivery
    assert queue.sent == ["form-1"]


def test_a_form_delivery_signed_over_its_json_not_its_body_is_refused(
    settings: Settings, store: Store
) -> None:
    """GitHub signs the body as sent: a signature over the payload field alone is not its."""
    queue, body = Recorder(), form(OPENED)
    client = TestClient(create_app(settings, store, queue))
    headers = {
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": "form-1",
        "X-Hub-Signature-256": sign(SECRET.encode(), OPENED),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    assert client.post("/webhook", content=body, headers=headers).status_code == 401
    assert store.delivery("form-1") is None and queue.sent == []


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        (b"zen=hi", 400, "without a payload field"),
        (form(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)), 400, "nested deeper"),
        (form(b"[1]"), 400, "must be a JSON object"),
    ],
)
def test_a_form_body_is_held_to_the_json_body_s_rules(
    settings: Settings, store: Store, body: bytes, status: int, detail: str
) -> None:
    queue = Recorder()
    r = send(settings, store, queue, body, "application/x-www-form-urlencoded")
    assert r.status_code == status and detail in r.json()["detail"], r.json()
    assert store.delivery("form-1") is None and queue.sent == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml"])
def test_another_content_type_is_refused_saying_to_send_json(
    settings: Settings, store: Store, content_type: str
) -> None:
    queue = Recorder()
    r = send(settings, store, queue, OPENED, content_type)
    assert r.status_code == 415
    assert r.json()["detail"] == (
        f"content type {content_type} is not JSON: set the webhook's content type to"
        " application/json"
    )
    assert store.delivery("form-1") is None and queue.sent == []


def test_json_with_a_charset_and_without_a_content_type_is_still_json(
    settings: Settings, store: Store
) -> None:
    queue = Recorder()
    assert (
        send(settings, store, queue, OPENED, "application/json; charset=utf-8").status_code == 202
    )
    client = TestClient(create_app(settings, store, queue))
    body = json.dumps({**json.loads(OPENED), "action": "edited"}).encode()
    headers = {
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": "plain-1",
        "X-Hub-Signature-256": sign(SECRET.encode(), body),
    }
    assert client.post("/webhook", content=body, headers=headers).status_code == 202
    assert queue.sent == ["form-1", "plain-1"]
