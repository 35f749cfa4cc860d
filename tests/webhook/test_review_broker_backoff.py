"""A broker that takes the connection and never answers holds one batch, not every delivery.

Each batch waited for the broker's whole timeout (3 s for AMQP, 5 s for Redis), the requests
behind it queued up and were spooled at 8 s, and the spool's replays hung again. After a publish
that fails (or is slow), none is tried for a back-off: deliveries are recorded, answered
202 {"queued": false} at once, and the recovery sweep queues them.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator, Sequence

import pytest
from fastapi.testclient import TestClient

from bot.settings import Settings
from bot.store import Store
from bot.webhook import batcher as batcher_mod
from bot.webhook.app import create_app
from bot.webhook.batcher import IntakeBatcher
from tests.webhook.test_app import OPENED, Recorder, post
from tests.webhook.test_batcher import pending

TIMEOUT_S = {"amqp": 3.0, "redis": 5.0}  # workers/celery_app.py: the broker's own timeouts


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A listener that accepts connections and never answers (a hung broker)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(100)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(server.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        server.close()
        for conn in held:
            conn.close()


@pytest.mark.parametrize("scheme", ["amqp", "redis"])
def test_a_broker_that_does_not_answer_is_not_waited_for_again_during_the_back_off(
    settings: Settings, store: Store, silent_port: int, scheme: str
) -> None:
    from workers.celery_app import configure
    from workers.tasks import enqueue_deliveries

    url = {
        "amqp": f"amqp://guest:guest@127.0.0.1:{silent_port}//",
        "redis": f"redis://127.0.0.1:{silent_port}/0",
    }[scheme]
    hung = settings.model_copy(update={"broker_url": url})
    configure(hung)
    attempts: list[list[str]] = []

    def enqueue(ids: Sequence[str]) -> None:
        attempts.append(list(ids))
        enqueue_deliveries(ids)

    with TestClient(create_app(hung, store, enqueue)) as client:
        first = post(client, "issues", OPENED, delivery="first")
        began = time.monotonic()
        later = [post(client, "issues", OPENED, delivery=f"later-{i}") for i in range(3)]
        took = time.monotonic() - began
    assert first.status_code == 202 and first.json()["queued"] is False, first.text
    assert attempts == [["first"]]  # the broker was tried once, not once per delivery
    for r in later:
        assert r.status_code == 202 and r.json()["queued"] is False, r.text
        assert "back-off" in r.json()["detail"] and "recovery sweep" in r.json()["detail"]
    assert took < TIMEOUT_S[scheme]  # all three together: not one broker timeout
    for d in ("first", "later-0", "later-1", "later-2"):  # for the recovery sweep
        assert store.delivery(d)["status"] == "received"  # type: ignore[index]


def test_the_broker_is_tried_again_once_the_back_off_ends_and_it_grows_while_it_fails(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batcher_mod, "BROKER_BACKOFF_S", 0.2)
    queue = Recorder()
    batcher = IntakeBatcher(store, queue, threading.Lock())
    queue.down = True
    assert batcher.process([pending("a")])[0][1]["queued"] is False  # tried: refused
    queue.down = False
    skipped = batcher.process([pending("b")])[0][1]
    assert skipped["queued"] is False and "back-off" in skipped["detail"]
    assert queue.sent == []
    time.sleep(0.5)  # past the back-off
    assert batcher.process([pending("c")])[0][1]["queued"] is True
    assert queue.sent == ["c"]  # a and b are `received`: the recovery sweep's
    assert store.delivery("c")["status"] == "queued"  # type: ignore[index]
    # refused again once a back-off ends: the next one is twice as long
    queue.down = True
    batcher.process([pending("d")])
    first = batcher._broker_backoff_s
    time.sleep(first + 0.3)
    assert "back-off" not in batcher.process([pending("e")])[0][1]["detail"]  # tried: refused
    assert batcher._broker_backoff_s == 2 * first


def test_a_slow_publish_starts_the_back_off_too(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A broker that answers only after seconds (the embedded broker's file locked) holds every
    batch as long: it is left alone for a while, and the log names the broker."""
    monkeypatch.setattr(batcher_mod, "BROKER_SLOW_S", 0.1)

    class Slow(Recorder):
        def __call__(self, ids: Sequence[str]) -> None:
            time.sleep(0.2)
            super().__call__(ids)

    queue = Slow()
    batcher = IntakeBatcher(store, queue, threading.Lock())
    with caplog.at_level("WARNING", logger="bot.webhook"):
        assert batcher.process([pending("a")])[0][1]["queued"] is True
    assert "back-off" in batcher.process([pending("b")])[0][1]["detail"]
    # it did answer: a short back-off, not a hung broker's (a loaded machine is slow as well)
    assert batcher._broker_backoff_s == batcher_mod.BROKER_BACKOFF_S
    assert queue.sent == ["a"]
    assert "the broker took" in caplog.text
