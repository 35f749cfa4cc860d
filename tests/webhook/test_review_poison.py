"""One delivery the store cannot take must not fail the deliveries batched or spooled with it.

`"action": "op\\ud800ened"` is valid JSON that decodes to half a character (a lone surrogate),
which SQLite cannot encode: the store refused the whole batch, and every delivery in it was
answered 503 "redeliver when the store is back"; spooled during an outage, the whole entry was
moved into rejected/, so deliveries answered 202 beside it were never recorded; a ping with such a
zen answered 500.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.settings import Settings
from bot.store import Store
from bot.webhook import intake
from bot.webhook.app import create_app
from bot.webhook.batcher import IntakeBatcher, Pending
from bot.webhook.signature import sign
from bot.webhook.spool import REJECTED, Spool
from tests.conftest import SECRET
from tests.webhook.test_app import OPENED, Recorder, post

POISON = OPENED.replace(b'"opened"', b'"op\\ud800ened"')
HALF = "op\ud800ened"  # what json.loads makes of it


@pytest.fixture
def client(settings: Settings, store: Store) -> TestClient:
    return TestClient(create_app(settings, store, Recorder()))


def test_a_delivery_with_half_a_character_is_refused_alone_at_the_door(
    settings: Settings, store: Store
) -> None:
    """Eleven deliveries at once, one of them poisoned: it is answered 400 saying what is wrong,
    the ten beside it are recorded and queued."""
    queue = Recorder()
    app = create_app(settings, store, queue)

    async def run() -> list[httpx.Response]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

                async def one(delivery: str, body: bytes) -> httpx.Response:
                    headers = {
                        "X-GitHub-Event": "issues",
                        "X-GitHub-Delivery": delivery,
                        "Content-Type": "application/json",
                        "X-Hub-Signature-256": sign(SECRET.encode(), body),
                    }
                    return await client.post("/webhook", content=body, headers=headers)

                good = [one(f"g{i}", OPENED) for i in range(10)]
                return await asyncio.gather(one("poison", POISON), *good)

    poison, *good = asyncio.run(run())
    assert poison.status_code == 400, poison.text
    detail = poison.json()["detail"]
    assert "\\ud800" in detail and "not UTF-8" in detail and "not recorded" in detail
    assert "store" not in detail  # the store is not down: nothing to wait for
    assert [r.status_code for r in good] == [202] * 10, [r.text for r in good]
    assert all(r.json()["queued"] is True for r in good)
    assert store.delivery("poison") is None
    assert sorted(queue.sent) == sorted(f"g{i}" for i in range(10))


def test_a_pair_of_surrogate_escapes_is_one_whole_character_and_is_taken(
    client: TestClient, store: Store
) -> None:
    emoji = OPENED.replace(b'"title": "t"', b'"title": "crash \\ud83d\\ude00"')
    assert emoji != OPENED
    r = post(client, "issues", emoji)
    assert r.status_code == 202, r.text
    assert store.delivery("d-1") is not None


def test_a_ping_with_half_a_character_is_answered(client: TestClient) -> None:
    r = post(client, "ping", b'{"zen": "\\ud800", "hook_id": 1}')
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True


def _pending(delivery_id: str, action: str = "opened") -> Pending:
    payload = {
        "action": action,
        "installation": {"id": 7},
        "repository": {"full_name": "o/r"},
        "issue": {"number": 1},
    }
    d = intake.describe(delivery_id, "issues", payload)
    return Pending(d, json.dumps(payload).encode(), False)


def test_a_batch_the_store_refuses_for_one_row_records_the_others(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """Past the door's check (a value the store cannot bind for another reason), the batch is
    recorded row by row: only the row refused is answered, 422, without blaming an outage."""
    queue = Recorder()
    batcher = IntakeBatcher(store, queue, threading.Lock())
    batch = [_pending("a"), _pending("bad", HALF), _pending("b"), _pending("a")]
    with caplog.at_level("ERROR", logger="bot.webhook"):
        answers = batcher.process(batch)
    assert [status for status, _ in answers] == [202, 422, 202, 200], answers
    detail = answers[1][1]["detail"]
    assert "UnicodeEncodeError" in detail and "redelivery is refused the same way" in detail
    assert "unavailable" not in detail and "store is back" not in detail
    assert store.delivery("bad") is None
    assert store.delivery("a")["status"] == "queued" and store.delivery("b")["status"] == "queued"
    assert queue.sent == ["a", "b"]
    assert any(r.exc_info and "bad" in r.getMessage() for r in caplog.records)


def test_a_spooled_entry_with_one_bad_row_rejects_that_row_alone(
    settings: Settings, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """An entry of three deliveries spooled in an outage (by a web without the door's check),
    one of which the store refuses: the two answered 202 beside it are recorded and queued, and
    only the bad one waits in rejected/, alone, with advice that works (not "move it back")."""
    spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes)
    rows = [
        {"id": i, "event": "issues", "action": a, "installation_id": 7, "repo": "o/r",
         "number": 1, "status": "received", "payload": "{}", "received_at": time.time()}
        for i, a in (("g0", "opened"), ("poison", HALF), ("g1", "opened"))
    ]  # fmt: skip
    spool.put(rows, "test")
    queue = Recorder()
    app = create_app(settings, store, queue)
    with caplog.at_level("WARNING", logger="bot.webhook"), TestClient(app) as client:
        deadline = time.monotonic() + 20
        while (spool.entries() or not spool.status().rejected) and time.monotonic() < deadline:
            time.sleep(0.05)
        health = client.get("/healthz").json()
    assert spool.entries() == []
    assert store.delivery("g0") is not None and store.delivery("g1") is not None
    assert store.delivery("poison") is None and sorted(queue.sent) == ["g0", "g1"]
    rejected = list((spool.dir / REJECTED).iterdir())
    assert len(rejected) == 1, rejected
    kept = [json.loads(line) for line in rejected[0].read_text().splitlines()]
    assert [r["id"] for r in kept] == ["poison"] and kept[0]["action"] == HALF
    said = caplog.text
    assert "poison" in said and "will again as it is" in said and "correct the row" in said
    assert "1 spool entry(ies)" in health["spool"] and "correct it" in health["spool"]


def test_a_spooled_entry_of_good_rows_is_recorded_whole(settings: Settings, store: Store) -> None:
    """Splitting is for an entry the store refused: one it takes is recorded as it was."""
    spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes)
    spool.put([{"id": i, "event": "issues", "status": "received"} for i in ("x", "y")], "test")
    queue = Recorder()
    batcher = IntakeBatcher(store, queue, threading.Lock(), spool)
    assert batcher.replay() == 2
    assert queue.sent == ["x", "y"] and spool.entries() == [] and spool.status().rejected == 0
