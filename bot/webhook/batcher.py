"""Group commit for the web process: deliveries that arrive together are recorded in one
transaction and published as one queue message.

One thread owns the store writes and the broker connection. A request hands its verified delivery
over and waits for the answer; while the thread records and publishes one batch, the next batch
gathers. Under one request at a time a batch is one delivery (nothing waits for company); under
load the per-delivery cost of the transaction and of the publish is shared by the whole batch.

Nothing is answered before the store has the delivery: a process that dies after recording and
before publishing leaves `received` rows, which the recovery sweep queues.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from bot.ports import Enqueue, QueueUnavailable
from bot.store import Store
from bot.webhook import intake

log = logging.getLogger(__name__)
MAX_BATCH = 64  # bounds one transaction and one message; GitHub never waits on a full batch
Answer = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class Pending:
    delivery: intake.Delivery
    raw: bytes
    ignored: bool
    answer: Future[Answer]


class IntakeBatcher:
    """Records and enqueues deliveries in batches on its own thread; `submit` returns a future."""

    def __init__(self, store: Store, enqueue: Enqueue, lock: threading.Lock) -> None:
        self.store, self.enqueue, self.lock = store, enqueue, lock
        self._inbox: queue.SimpleQueue[Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, d: intake.Delivery, raw: bytes, *, ignored: bool) -> Future[Answer]:
        self._ensure_started()
        answer: Future[Answer] = Future()
        self._inbox.put(Pending(d, raw, ignored, answer))
        return answer

    def close(self) -> None:
        if self._thread is not None:
            self._inbox.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="smolbot-intake", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._inbox.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._inbox.put(None)  # finish this batch, then stop
                    break
                batch.append(item)
            try:
                answers = self.process(batch)
            except Exception as err:  # the store failed: every waiting request hears it
                for p in batch:
                    p.answer.set_exception(err)
                continue
            for p, a in zip(batch, answers, strict=True):
                p.answer.set_result(a)

    def process(self, batch: Sequence[Pending]) -> list[Answer]:
        """Record the batch, publish its new deliveries as one message, mark them queued."""
        rows = [_row(p) for p in batch]
        with self.lock:
            new = self.store.record_deliveries(rows)
        answers: list[Answer | None] = []
        to_queue = []
        for p, is_new in zip(batch, new, strict=True):
            if not is_new:
                answers.append((200, {"delivery": p.delivery.id, "duplicate": True}))
            elif p.ignored:
                answers.append((202, {"delivery": p.delivery.id, "ignored": True}))
            else:
                answers.append(None)
                to_queue.append(p.delivery.id)
        queued = self._publish(to_queue)
        body: dict[str, Any] = (
            {"queued": True}
            if queued
            else {
                "queued": False,
                "detail": "broker unavailable; stored, the recovery sweep will queue it",
            }
        )
        return [
            a if a is not None else (202, {"delivery": p.delivery.id, **body})
            for p, a in zip(batch, answers, strict=True)
        ]

    def _publish(self, ids: list[str]) -> bool:
        if not ids:
            return True
        try:
            self.enqueue(ids)
        except QueueUnavailable as err:
            log.error(
                "broker unavailable, %d deliveries stored for the recovery sweep: %s", len(ids), err
            )
            return False
        try:
            with self.lock:
                self.store.mark_queued(ids)
        except Exception:  # published all the same: a worker claims `received` rows too
            log.exception("deliveries published but not marked queued: %s", ids)
        return True


def _row(p: Pending) -> dict[str, Any]:
    d = p.delivery
    return {
        "id": d.id,
        "event": d.event,
        "action": d.action,
        "installation_id": d.installation_id,
        "repo": d.repo,
        "number": d.number,
        "status": "ignored" if p.ignored else "received",
        "payload": p.raw.decode("utf-8", "replace"),
    }
