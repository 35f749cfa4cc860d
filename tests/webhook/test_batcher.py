"""Group commit in the web process: one transaction and one queue message per batch."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
import uvicorn

from bot.ports import QueueUnavailable
from bot.settings import Settings
from bot.store import Store
from bot.webhook import intake
from bot.webhook.app import create_app
from bot.webhook.batcher import MAX_BATCH, IntakeBatcher, Pending
from bot.webhook.signature import sign
from tests.conftest import SECRET
from tests.webhook import opened


class Broker:
    """An Enqueue port that records each message (a list of ids); `down` refuses like a dead one."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.messages: list[list[str]] = []
        self.down = False
        self.delay_s = delay_s

    def __call__(self, delivery_ids: Sequence[str]) -> None:
        if self.down:
            raise QueueUnavailable("connection refused")
        time.sleep(self.delay_s)  # a broker round trip: later requests gather meanwhile
        self.messages.append(list(delivery_ids))


def pending(delivery_id: str, event: str = "issues", *, ignored: bool = False) -> Pending:
    payload = {"action": "opened", "issue": {"number": 1}, "repository": {"full_name": "o/r"}}
    d = intake.describe(delivery_id, event, payload)
    return Pending(d, json.dumps(payload).encode(), ignored)


def test_one_batch_is_one_message_and_each_request_gets_its_own_answer(store: Store) -> None:
    broker = Broker()
    batcher = IntakeBatcher(store, broker, threading.Lock())
    store.record_delivery("old", "issues", "{}")
    answers = batcher.process(
        [pending("a"), pending("b"), pending("old"), pending("c", "star", ignored=True)]
    )
    assert broker.messages == [["a", "b"]]
    assert answers == [
        (202, {"delivery": "a", "queued": True}),
        (202, {"delivery": "b", "queued": True}),
        (200, {"delivery": "old", "duplicate": True, "status": "received"}),
        (202, {"delivery": "c", "ignored": True}),
    ]
    assert [store.delivery(i)["status"] for i in "abc"] == ["queued", "queued", "ignored"]


def test_the_same_id_twice_in_one_batch_runs_once(store: Store) -> None:
    broker = Broker()
    answers = IntakeBatcher(store, broker, threading.Lock()).process([pending("x"), pending("x")])
    assert broker.messages == [["x"]]
    assert [a[0] for a in answers] == [202, 200]


def test_broker_down_keeps_the_batch_for_the_recovery_sweep(store: Store) -> None:
    broker = Broker()
    broker.down = True
    answers = IntakeBatcher(store, broker, threading.Lock()).process([pending("a"), pending("b")])
    assert all(a[0] == 202 and a[1]["queued"] is False for a in answers)
    assert "recovery sweep" in answers[0][1]["detail"]
    assert [store.delivery(i)["status"] for i in "ab"] == ["received", "received"]


def test_marking_queued_never_overwrites_a_worker_that_was_faster(store: Store) -> None:
    store.record_deliveries([{"id": "fast", "event": "issues"}, {"id": "slow", "event": "issues"}])
    store.set_delivery_status("fast", "done")
    store.mark_queued(["fast", "slow"])
    assert store.delivery("fast")["status"] == "done"
    assert store.delivery("slow")["status"] == "queued"


def test_a_store_failure_reaches_every_waiting_request(store: Store) -> None:
    batcher = IntakeBatcher(store, Broker(), threading.Lock())
    store.close()  # any further statement raises

    async def both() -> list[Any]:
        calls = [batcher.submit(pending(i).delivery, b"{}", ignored=False) for i in ("a", "b")]
        return await asyncio.gather(*calls, return_exceptions=True)

    outcomes = asyncio.run(both())
    assert len(outcomes) == 2 and all("closed" in str(o) for o in outcomes), outcomes
    batcher.close()


def test_one_turn_of_the_event_loop_is_one_batch_and_a_lone_delivery_goes_alone(
    store: Store,
) -> None:
    broker = Broker()
    batcher = IntakeBatcher(store, broker, threading.Lock())

    async def run() -> None:
        await batcher.submit(pending("solo").delivery, b"{}", ignored=False)
        ids = [f"t{i}" for i in range(150)]  # all ready in the same turn: more than MAX_BATCH
        await asyncio.gather(
            *(batcher.submit(pending(i).delivery, b"{}", ignored=False) for i in ids)
        )

    asyncio.run(run())
    batcher.close()
    assert broker.messages[0] == ["solo"]
    assert [len(m) for m in broker.messages[1:]] == [MAX_BATCH, MAX_BATCH, 150 - 2 * MAX_BATCH]
    assert store.delivery_counts() == {"queued": 151}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(settings: Settings, store: Store) -> Iterator[tuple[str, Broker]]:
    broker = Broker(delay_s=0.02)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, store, broker), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/webhook", broker
    server.should_exit = True
    thread.join(timeout=10)


def test_concurrent_deliveries_over_http_share_messages(
    served: tuple[str, Broker], store: Store
) -> None:
    url, broker = served
    n = 40

    async def post_all() -> list[int]:
        async with httpx.AsyncClient(timeout=30) as client:

            async def one(i: int) -> int:
                body = json.dumps(opened(i)).encode()
                headers = {
                    "X-GitHub-Event": "issues",
                    "X-GitHub-Delivery": f"c-{i}",
                    "X-Hub-Signature-256": sign(SECRET.encode(), body),
                }
                return (await client.post(url, content=body, headers=headers)).status_code

            return await asyncio.gather(*(one(i) for i in range(n)))

    assert asyncio.run(post_all()) == [202] * n
    sent = [i for m in broker.messages for i in m]
    assert sorted(sent) == sorted(f"c-{i}" for i in range(n))  # each once, none lost
    assert len(broker.messages) < n  # requests that arrived together went out together
    assert all(store.delivery(f"c-{i}")["status"] == "queued" for i in range(n))


def test_a_number_past_64_bits_is_no_number_and_does_not_fail_its_batch(store: Store) -> None:
    """Found by hypothesis: an issue number of 2**63 made SQLite raise for the whole batch, so
    every delivery in it was answered 503."""
    big = {"action": "opened", "issue": {"number": 2**63}, "installation": {"id": -(2**63) - 1}}
    odd = Pending(intake.describe("big", "issues", big), json.dumps(big).encode(), False)
    answers = IntakeBatcher(store, Broker(), threading.Lock()).process([pending("ok"), odd])
    assert [a[0] for a in answers] == [202, 202]
    row = store.delivery("big")
    assert row is not None and row["number"] is None and row["installation_id"] is None
