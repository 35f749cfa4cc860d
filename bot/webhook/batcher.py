"""Group commit for the web process: deliveries that arrive together are recorded in one
transaction and published as one queue message.

A batch is what the event loop gathered in one turn: the first request of a turn schedules a
flush with `call_soon`, which runs after every request already ready in that turn has handed its
delivery over. No timer is involved: a lone request waits one turn of the loop (microseconds),
and under load a batch is everything that arrived together. One thread owns the store writes and
the broker connection; while it records and publishes one batch, the loop gathers the next, and
batches that queued up meanwhile go together (up to MAX_BATCH).

Nothing is answered before the store has the delivery: a process that dies after recording and
before publishing leaves `received` rows, which the recovery sweep queues.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Sequence
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
    answer: asyncio.Future[Answer] | None = None  # None: the caller reads process()'s result


class IntakeBatcher:
    """Records and enqueues deliveries in batches on its own thread; `submit` returns a future."""

    def __init__(self, store: Store, enqueue: Enqueue, lock: threading.Lock) -> None:
        self.store, self.enqueue, self.lock = store, enqueue, lock
        self._inbox: queue.SimpleQueue[list[Pending] | None] = queue.SimpleQueue()
        # each event loop's deliveries of its current turn (one loop in a server; test clients
        # may run several, and one loop never flushes another's)
        self._gathering: dict[asyncio.AbstractEventLoop, list[Pending]] = {}
        self._gather_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    async def submit(self, d: intake.Delivery, raw: bytes, *, ignored: bool) -> Answer:
        """Hand one delivery over and wait for its answer (call on the event loop)."""
        self._ensure_started()
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Answer] = loop.create_future()
        with self._gather_lock:
            turn = self._gathering.setdefault(loop, [])
            turn.append(Pending(d, raw, ignored, answer))
            first = len(turn) == 1
        if first:  # runs once the requests already ready in this turn have submitted too
            loop.call_soon(self._flush, loop)
        return await answer

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._gather_lock:
            batch = self._gathering.pop(loop, [])
        if batch:
            self._inbox.put(batch)

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
        stop = False
        while not stop:
            first = self._inbox.get()
            if first is None:
                return
            waiting = list(first)
            while len(waiting) < MAX_BATCH:  # what queued up while the last batch was written
                try:
                    more = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True  # finish what is here, then stop
                    break
                waiting.extend(more)
            for i in range(0, len(waiting), MAX_BATCH):
                batch = waiting[i : i + MAX_BATCH]
                outcome: list[Answer] | Exception
                try:
                    outcome = self.process(batch)
                except Exception as err:  # the store failed: every waiting request hears it
                    outcome = err
                _wake(batch, outcome)

    def process(self, batch: Sequence[Pending]) -> list[Answer]:
        """Record the batch, publish its new deliveries as one message, mark them queued."""
        rows = [_row(p) for p in batch]
        with self.lock:
            new = self.store.record_deliveries(rows)
        answers: list[Answer | None] = []
        to_queue = []
        for p, is_new in zip(batch, new, strict=True):
            if not is_new:
                answers.append((200, self._duplicate(p.delivery.id)))
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

    def _duplicate(self, delivery_id: str) -> dict[str, Any]:
        """A redelivery is not run again; one that failed before says how to run it again."""
        with self.lock:
            row = self.store.delivery(delivery_id) or {}
        answer = {"delivery": delivery_id, "duplicate": True, "status": row.get("status")}
        if row.get("status") == "dead":
            answer["detail"] = (
                "this delivery failed before and is parked; a redelivery does not run it again:"
                " fix the cause (`smolbot audit`, the worker's log), then run `smolbot retry`"
            )
        return answer

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


def _wake(batch: Sequence[Pending], outcome: list[Answer] | Exception) -> None:
    """Settle the batch's futures with one wake-up of each event loop, not one per request."""
    loops: dict[asyncio.AbstractEventLoop, list[int]] = {}
    for i, p in enumerate(batch):
        if p.answer is not None:
            loops.setdefault(p.answer.get_loop(), []).append(i)
    for loop, idx in loops.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(_settle, [batch[i] for i in idx], outcome, idx)


def _settle(batch: list[Pending], outcome: list[Answer] | Exception, idx: list[int]) -> None:
    for p, i in zip(batch, idx, strict=True):
        if p.answer is None or p.answer.done():  # a request that was cancelled meanwhile
            continue
        if isinstance(outcome, Exception):
            p.answer.set_exception(outcome)
        else:
            p.answer.set_result(outcome[i])


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
