"""Group commit for the web process: deliveries that arrive together are recorded in one
transaction and published as one queue message.

A batch is what the event loop gathered in one turn: the first request of a turn schedules a
flush with `call_soon`, which runs after every request already ready in that turn has handed its
delivery over. No timer is involved: a lone request waits one turn of the loop (microseconds),
and under load a batch is everything that arrived together. One thread owns the store writes and
the broker connection; while it records and publishes one batch, the loop gathers the next, and
batches that queued up meanwhile go together (up to MAX_BATCH).

Nothing is answered 202 before the store has the delivery, or the local spool does (spool.py):
a batch the store fails for an outage (bot.store.outage) or because its file was replaced under
the web (a restarted web replays it), or a delivery whose wait for it passes WAIT_S (GitHub gives
up at 10 s), is kept there, and the intake thread replays the spool once the store answers.
A batch the store refuses for what one of its rows holds (bot.store.outage.is_data_fault) is
recorded row by row: only that delivery is answered 422, the others as if alone. Any other store
error is no outage (a bug, a schema this version does not match): a live batch is answered 503
(GitHub shows it), with the traceback in the log, and a spooled entry the store refuses alone is
moved into spool/rejected/, so it blocks no other (an entry of several deliveries is first split
into one entry each, so only the one refused is moved). A process that dies after recording and
before publishing leaves `received` rows, which the recovery sweep queues; so does a publish the
broker refuses or does not answer, after which none is tried for a back-off (a broker that hangs
would otherwise hold every batch for its whole timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.ports import Enqueue, QueueUnavailable
from bot.store import Store
from bot.store.outage import is_data_fault, is_outage, unavailable_errors
from bot.store.store import StoreFileReplaced
from bot.webhook import intake
from bot.webhook.spool import Spool

log = logging.getLogger(__name__)
MAX_BATCH = 64  # bounds one transaction and one message; GitHub never waits on a full batch
WAIT_S = 8.0  # a request's wait for the store; GitHub counts a delivery failed after 10 s
REPLAY_EVERY_S = 5.0  # how often the intake thread looks for spooled deliveries to record
REPLACED_LOG_EVERY_S = 60.0  # the store file replaced: said in the log at most this often
# A publish that fails, or takes BROKER_SLOW_S (a broker that takes the connection and does not
# answer: 3 s for AMQP, 5 s for Redis, 10 s for a locked embedded broker, for each batch), stops
# publishing for a back-off: BROKER_BACKOFF_S after a quick refusal, BROKER_BACKOFF_SLOW_S after a
# failure that took that long, twice as long after each further one, at most BROKER_BACKOFF_MAX_S
# (a slow publish that succeeded: BROKER_BACKOFF_S, as a loaded machine may be slow). The deliveries
# meanwhile are recorded, answered 202 {"queued": false} at once, and the recovery sweep queues them
BROKER_SLOW_S = 2.0
BROKER_BACKOFF_S = 5.0
BROKER_BACKOFF_SLOW_S = 30.0
BROKER_BACKOFF_MAX_S = 120.0
Answer = tuple[int, dict[str, Any]]
SPOOLED = "store unavailable; kept in the local spool, recorded and queued once the store answers"
# the intake thread hangs on a store or broker call (the store may well have taken the delivery)
SPOOLED_WAITED = (
    "the intake did not answer in time; kept in the local spool, recorded and queued once it does"
)


class NotKept(Exception):
    """Neither the store nor the spool took the delivery; the message says why."""


class _WaitedTooLong(Exception):
    pass


def _outage(err: Exception) -> bool:
    """Whether the spool should keep what the store failed: it is away for now; or its file was
    replaced under this process, which a restarted web opens and replays the spool into."""
    if isinstance(err, StoreFileReplaced):
        return True
    return isinstance(err, unavailable_errors()) and is_outage(err)


class SpoolRefused(Exception):
    """The store took none of the spooled entries, and refused some not for what they hold: the
    fault is the store's (not an outage), so they stay in the spool until it is fixed."""


def public_error(err: Exception) -> str:
    """A store error as a client (or /healthz, no sign-in) may read it: not the server's paths
    or pid (the log has them: say_replaced)."""
    if isinstance(err, StoreFileReplaced):
        return "its file was deleted or replaced under the web process, which must be restarted"
    return str(err)


def _give_up(answer: asyncio.Future[Answer]) -> None:
    if not answer.done():  # the intake thread's answer, if it comes, is dropped (_settle)
        answer.set_exception(_WaitedTooLong())


def _spooled(p: Pending, detail: str = SPOOLED) -> Answer:
    return 202, {"delivery": p.delivery.id, "spooled": True, "detail": detail}


@dataclass
class Pending:
    delivery: intake.Delivery
    raw: bytes
    ignored: bool
    answer: asyncio.Future[Answer] | None = None  # None: the caller reads process()'s result
    spooled: bool = False  # its request kept it in the spool itself: the store's turn is over
    # when it came (time.time()): recorded as its received_at, also when replayed from the spool
    arrived: float = field(default_factory=time.time)


class IntakeBatcher:
    """Records and enqueues deliveries in batches on its own thread; `submit` returns a future.

    With a spool, what the store cannot take in time is kept there and replayed by the same
    thread; without one (tests of the batch itself), a store error reaches the caller.
    """

    def __init__(
        self,
        store: Store,
        enqueue: Enqueue,
        lock: threading.Lock,
        spool: Spool | None = None,
        *,
        wait_s: float = WAIT_S,
    ) -> None:
        self.store, self.enqueue, self.lock = store, enqueue, lock
        self.spool, self.wait_s = spool, wait_s
        self._inbox: queue.SimpleQueue[list[Pending] | None] = queue.SimpleQueue()
        # each event loop's deliveries of its current turn (one loop in a server; test clients
        # may run several, and one loop never flushes another's)
        self._gathering: dict[asyncio.AbstractEventLoop, list[Pending]] = {}
        self._gather_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._busy_since: float | None = None  # when the thread's current store call began
        self._replay_at = 0.0  # monotonic time of the next look at the spool
        self._replay_failed = False
        self._outage_err: Exception | None = None  # the outage that failed the last try, if any
        # the spool may hold entries (a run before this one's, or this process put some since
        # the last replay found it empty): a live batch waits for them to be replayed first
        self._spool_waits = True
        self._replaced_said_at = float("-inf")
        # since when (time.time()) replays fail, and why: /healthz says a spool that cannot drain
        self.replay_failing: tuple[float, str] | None = None
        self._publishing = False  # the intake thread waits on the broker (not on the store)
        # the broker's back-off (_publish): no publish before this (monotonic), and why
        self._broker_off_until = 0.0
        self._broker_backoff_s = 0.0
        self._broker_why = ""

    async def submit(self, d: intake.Delivery, raw: bytes, *, ignored: bool) -> Answer:
        """Hand one delivery over and wait for its answer (call on the event loop)."""
        self.start()
        p = Pending(d, raw, ignored)
        stuck = self.stuck_s()
        if self.spool is not None and stuck > self.wait_s:  # known to hang: don't queue behind it
            why = f"the intake has not answered for {stuck:.0f} s (a call to {self.waiting_on()})"
            return await self._spool_one(p, why)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Answer] = loop.create_future()
        p.answer = answer
        with self._gather_lock:
            turn = self._gathering.setdefault(loop, [])
            turn.append(p)
            first = len(turn) == 1
        if first:  # runs once the requests already ready in this turn have submitted too
            loop.call_soon(self._flush, loop)
        if self.spool is None:
            return await answer
        timer = loop.call_later(self.wait_s, _give_up, answer)  # cheaper than asyncio.wait_for
        try:
            return await answer
        except _WaitedTooLong:
            why = (
                f"the intake did not answer in {self.wait_s:g} s (it waits on {self.waiting_on()})"
            )
            return await self._spool_one(p, why)
        finally:
            timer.cancel()

    def waiting_on(self) -> str:
        """What the intake thread waits on: the broker, the store, or (between two batches of a
        backlog) either."""
        if self._publishing:
            return "the broker"
        return "the store" if self._busy_since is not None else "the store or the broker"

    def stuck_s(self) -> float:
        """How long the intake thread has been on its current batch or replay, recording or
        publishing it (0 when it waits for work)."""
        since = self._busy_since
        return 0.0 if since is None else time.monotonic() - since

    async def _spool_one(self, p: Pending, why: str) -> Answer:
        assert self.spool is not None
        try:  # a thread: fsync must not stall the event loop
            await asyncio.to_thread(self.spool.put, [_row(p)], why)
        except Exception as err:
            raise NotKept(f"{why}, and the spool refused it: {err}") from err
        self._spool_waits = True
        p.spooled = True
        return _spooled(p, SPOOLED_WAITED)

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

    def start(self) -> None:
        """Start the intake thread (at the app's start, so a spool left behind is replayed)."""
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
            try:
                first = self._inbox.get(timeout=self._until_replay())
            except queue.Empty:
                self._replay_due()
                continue
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
            # what came before these and waits in the spool goes first: the recovery sweep and
            # dispatch (was the repository removed since?) go by the order deliveries came
            outage = self._replay_first()
            waiting = [p for p in waiting if not p.spooled]  # gave up waiting: in the spool
            for i in range(0, len(waiting), MAX_BATCH):
                batch = waiting[i : i + MAX_BATCH]
                if outage is None:
                    outcome = self._record(batch)
                else:  # the store just failed for an outage (or its back-off runs): spool them
                    # behind the others at once; no store call of theirs, so no later replay
                    outcome = self._keep(batch, outage, tried=False)
                _wake(batch, outcome)
            self._replay_due()

    def _replay_first(self) -> Exception | None:
        """Replay what the spool holds before a live batch: the outage that stopped it, if any
        (the live batch then goes into the spool behind it). Bounded by a quarter of WAIT_S: what
        is left then is replayed after the batch, still with the time it came (received_at).
        While the back-off after a failed replay runs, nothing is tried: its outage, if any."""
        if self.spool is None:
            return None
        if self._spool_waits and self._replay_failed and time.monotonic() < self._replay_at:
            # the last try failed and its back-off runs: no spool read nor store call now (an
            # outage: the live batch goes into the spool behind the older ones)
            return self._outage_err
        deadline = time.monotonic() + self.wait_s / 4
        while self._spool_waits and time.monotonic() < deadline:
            err = self._replay_pass()
            if err is not None:
                return err if _outage(err) else None  # any other: logged, the live batch goes on
        return None

    def _record(self, batch: Sequence[Pending]) -> list[Answer] | Exception:
        self._busy_since = time.monotonic()
        try:
            answers = self.process(batch)
        except Exception as err:  # the store failed: keep the batch, or every request hears it
            if self.spool is not None and not _outage(err):  # the spool would replay it in vain
                ids = ", ".join(p.delivery.id for p in batch)
                log.exception("the store refused deliveries %s (no outage): answered 503", ids)
                return NotKept(
                    f"the store refused it ({type(err).__name__}: {err}), not for an outage: a"
                    " bug or a schema this version does not match (the web log has the traceback)"
                )
            return self._keep(batch, err)
        finally:
            self._busy_since = None
        if self._replay_failed:  # the store answers again: replay what waits at once
            self._replay_failed, self._replay_at, self._outage_err = False, 0.0, None
        return answers

    def _keep(
        self, batch: Sequence[Pending], err: Exception, *, tried: bool = True
    ) -> list[Answer] | Exception:
        """Keep a batch the store failed for an outage in the spool; `tried`: this batch's own
        store call failed, so the next replay waits REPLAY_EVERY_S from now (a batch spooled
        behind a failed replay, with no call of its own, must not put the replay off: a
        delivery every REPLAY_EVERY_S would keep the spool from draining)."""
        if self.spool is None:
            return err
        # /healthz: a store that answers its ping but refuses every write fills the spool (with
        # a delivery every REPLAY_EVERY_S no replay is tried, so none fails)
        since = self.replay_failing[0] if self.replay_failing else time.time()
        self.replay_failing = (since, f"{type(err).__name__}: {err}")
        if isinstance(err, StoreFileReplaced):
            self.say_replaced(err)
        rows = [_row(p) for p in batch if not p.spooled]
        try:
            if rows:
                self.spool.put(rows, f"{type(err).__name__}: {err}")
                self._spool_waits = True
        except Exception as spool_err:  # the request says it, with its delivery id (app.py)
            return NotKept(
                f"store unavailable ({public_error(err)}), and the spool refused it: {spool_err}"
            )
        # no use replaying before the store takes something again, or REPLAY_EVERY_S passed
        self._replay_failed, self._outage_err = True, err
        if tried:
            self._replay_at = max(self._replay_at, time.monotonic() + REPLAY_EVERY_S)
        return [_spooled(p) for p in batch]

    def say_replaced(self, err: StoreFileReplaced) -> None:
        """An error in the log, at most once a REPLACED_LOG_EVERY_S: only a restart ends it."""
        now = time.monotonic()
        if now - self._replaced_said_at >= REPLACED_LOG_EVERY_S:
            self._replaced_said_at = now
            log.error(
                "deliveries are kept in the webhook spool until the web is restarted, then"
                " recorded: restart the web (%s)",
                err,
            )

    def _until_replay(self) -> float | None:
        if self.spool is None:
            return None
        return max(0.0, self._replay_at - time.monotonic())

    def _replay_due(self) -> None:
        if self.spool is None or time.monotonic() < self._replay_at:
            return
        self._replay_pass()

    def _replay_pass(self) -> Exception | None:
        """One replay() and its bookkeeping; the error that stopped it (logged), if any."""
        self._spool_waits = False  # an entry put from now on sets it again
        failed: Exception | None = None
        self._busy_since = time.monotonic()
        try:
            done = self.replay()
        except Exception as err:  # still unavailable: the entry stays for the next try
            failed, outage, what = err, _outage(err), f"{type(err).__name__}: {err}"
            said = self.replay_failing[1] if self.replay_failing else None
            if not outage and said != what:  # once a fault: a disk error, a bug, the store's
                log.exception("spooled deliveries not replayed")
            elif not self._replay_failed:
                log.warning("spooled deliveries not recorded yet, the store refused: %s", err)
            self._replay_failed, done = True, 0
            self._outage_err = err if outage else None
            since = self.replay_failing[0] if self.replay_failing else time.time()
            self.replay_failing = (since, what)
        finally:
            self._busy_since = None
        if failed is None:  # recorded what waited, or found nothing (another web took it)
            self._replay_failed, self.replay_failing, self._outage_err = False, None, None
        if done or failed is not None:
            self._spool_waits = True
        # more may wait: go on at once, between live batches, until a pass finds nothing
        self._replay_at = time.monotonic() + (0.0 if done else REPLAY_EVERY_S)
        return failed

    def replay(self, limit: int = MAX_BATCH) -> int:
        """Record spooled entries (about `limit` deliveries) in one transaction and publish the
        new ones; the entries are deleted once the store committed them. The deliveries
        recorded (0: nothing to do). One transaction per entry took 12 ms each on PostgreSQL.

        When the store refuses them for another reason than an outage, each entry is tried
        alone, and one it refuses alone is moved into spool/rejected/ (it would stop the rest for
        ever), unless the store refused every one for what it is rather than for what they hold
        (SpoolRefused); an outage raises, and the entries stay for the next try."""
        assert self.spool is not None
        with contextlib.ExitStack() as taken:
            held: list[tuple[Path, list[dict[str, Any]]]] = []
            for entry in self.spool.entries():
                got = taken.enter_context(self.spool.take(entry))
                if got:  # None: another process's, done, or damaged (moved aside)
                    held.append((entry, got))
                if sum(len(g) for _, g in held) >= limit:
                    break
            rows = [r for _, got in held for r in got]
            if not rows:
                return 0
            moved = 0
            try:
                fresh = self._record_rows(rows)
            except Exception as err:
                if _outage(err):
                    raise
                fresh, rows, moved = self._record_each(held)
            self._publish(_to_queue(fresh))
        log.info("recorded %d spooled deliveries (%d new)", len(rows), len(fresh))
        return len(rows) or moved  # all moved aside: something was done, go on at once

    def _record_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Record rows in one transaction; the new ones."""
        with self.lock:
            new = self.store.record_deliveries(rows)
        return [r for r, is_new in zip(rows, new, strict=True) if is_new]

    def _record_each(
        self, held: list[tuple[Path, list[dict[str, Any]]]]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
        """Entries one at a time, after the store refused them together (no outage). One it
        refuses for what it holds (is_data_fault) is moved aside, or skipped this pass when it
        cannot be moved either; so is one refused otherwise once the store took another. An
        entry of several deliveries is split into one entry each instead (_set_aside), so the
        next pass moves aside only the one refused. When it took none and refused some for what
        it is (a table missing, a permission revoked: every entry would be refused), they stay in
        the spool for when it is fixed (SpoolRefused). An outage meanwhile publishes what was
        recorded, then raises (what was recorded is replayed again, which the store ignores).
        The new rows, the rows recorded, the entries moved or split."""
        assert self.spool is not None
        fresh: list[dict[str, Any]] = []
        recorded: list[dict[str, Any]] = []
        moved = 0
        store_faults: list[tuple[Path, list[dict[str, Any]], Exception]] = []
        for entry, got in held:
            try:
                fresh += self._record_rows(got)
                recorded += got
            except Exception as err:
                if _outage(err):
                    self._publish(_to_queue(fresh))
                    raise
                if is_data_fault(err):
                    moved += self._set_aside(entry, got, err, data=True)
                else:
                    store_faults.append((entry, got, err))
        if store_faults and not recorded:
            first = store_faults[0][2]
            raise SpoolRefused(
                f"the store refused every spooled entry ({len(store_faults)} tried), not for an"
                f" outage nor for what they hold: {type(first).__name__}: {first}. A schema this"
                " version does not match, or permissions it lacks: fix the store (or run the"
                " version that migrated it); the entries stay in the spool and are recorded then"
            ) from first
        for entry, got, fault in store_faults:  # the store took others: these entries' own
            moved += self._set_aside(entry, got, fault, data=False)
        return fresh, recorded, moved

    def _set_aside(
        self, entry: Path, rows: list[dict[str, Any]], err: Exception, *, data: bool
    ) -> bool:
        """Move an entry the store refused into rejected/; one of several deliveries is split
        into one entry each instead (the next pass moves only the one refused): moving it whole
        parked deliveries answered 202 beside it, never recorded, and moved back they were
        refused again with it. `data`: refused for what it holds, so it is refused again as it
        is, which the log says. Whether the entry left the spool."""
        assert self.spool is not None
        why = f"the store refused it: {type(err).__name__}: {err}"
        if len(rows) > 1:
            try:
                self.spool.split(entry, rows)
            except OSError as split_err:
                log.error(
                    "spool entry %s (%d deliveries) could not be split (%s): moved aside whole",
                    entry.name,
                    len(rows),
                    split_err,
                )
            else:
                log.warning(
                    "the store refused spool entry %s of %d deliveries (%s, no outage): split"
                    " into one entry each, so the others are recorded and only the one refused"
                    " is moved aside",
                    entry.name,
                    len(rows),
                    why,
                )
                return True
        log.error("the store refused a spooled entry (no outage)", exc_info=err)
        ids = ", ".join(str(r.get("id")) for r in rows)
        advice = None
        if data:
            advice = (
                f"the store refuses what delivery {ids} holds, and will again as it is: delete"
                f" the file, or correct the row in it and move it back into {self.spool.dir}"
            )
        return self.spool.set_aside(entry, why, advice)

    def process(self, batch: Sequence[Pending]) -> list[Answer]:
        """Record the batch, publish its new deliveries as one message, mark them queued. A
        delivery the store refuses for what it holds is answered 422; the rest of its batch is
        recorded all the same (_record_batch)."""
        rows = [_row(p) for p in batch]
        with self.lock:
            new = self._record_batch(rows)
        answers: list[Answer | None] = []
        to_queue = []
        for p, is_new in zip(batch, new, strict=True):
            if isinstance(is_new, Exception):
                answers.append(_refused(p, is_new))
            elif not is_new:
                answers.append((200, self._duplicate(p.delivery.id)))
            elif p.ignored:
                answers.append((202, {"delivery": p.delivery.id, "ignored": True}))
            else:
                answers.append(None)
                to_queue.append(p.delivery.id)
        unqueued = self._publish(to_queue)
        body: dict[str, Any] = (
            {"queued": True} if unqueued is None else {"queued": False, "detail": unqueued}
        )
        return [
            a if a is not None else (202, {"delivery": p.delivery.id, **body})
            for p, a in zip(batch, answers, strict=True)
        ]

    def _record_batch(self, rows: list[dict[str, Any]]) -> list[bool | Exception]:
        """Record rows in one transaction: for each, whether it was new. When the store refuses
        them for what one holds (half a character, a value it cannot bind), each is recorded
        alone, and the error is the answer of the ones it refuses: one bad delivery failed
        every delivery batched with it. Any other error (an outage, a bug) is raised."""
        try:
            return list(self.store.record_deliveries(rows))
        except Exception as err:
            if not is_data_fault(err):
                raise
            if len(rows) == 1:
                return [err]
        said: list[bool | Exception] = []
        for row in rows:
            try:
                said += self.store.record_deliveries([row])
            except Exception as err:
                if not is_data_fault(err):
                    raise
                said.append(err)
        return said

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

    def _publish(self, ids: list[str]) -> str | None:
        """Publish ids as one message and mark them queued: None, or why they were not (they
        stay `received`, and the recovery sweep queues them). While the broker's back-off runs
        (after a publish that failed or was slow), none is tried: a broker that takes the
        connection and never answers held every batch for its whole timeout, and the requests
        behind it were spooled, their replays held again."""
        if not ids:
            return None
        began = time.monotonic()
        if began < self._broker_off_until:
            return (
                f"broker unavailable or slow ({self._broker_why}); the webhook does not try it for"
                f" another {self._broker_off_until - began:.0f} s (a back-off): stored, the"
                " recovery sweep will queue it"
            )
        self._publishing = True
        try:
            self.enqueue(ids)
        except QueueUnavailable as err:
            took = time.monotonic() - began
            first = BROKER_BACKOFF_SLOW_S if took >= BROKER_SLOW_S else BROKER_BACKOFF_S
            off = self._broker_failed(first, f"a publish failed after {took:.1f} s")
            log.error(
                "the broker refused or did not answer a publish (%s, after %.1f s): %d"
                " deliveries stored for the recovery sweep; none is published for %.0f s",
                err,
                took,
                len(ids),
                off,
            )
            return "broker unavailable; stored, the recovery sweep will queue it"
        finally:
            self._publishing = False
        took = time.monotonic() - began
        if took >= BROKER_SLOW_S:  # it answered: a short back-off (a loaded machine is slow too)
            off = self._broker_failed(BROKER_BACKOFF_S, f"a publish took {took:.1f} s")
            log.warning(
                "the broker took %.1f s to take a message of %d deliveries: none is published"
                " for %.0f s, the recovery sweep queues what comes meanwhile",
                took,
                len(ids),
                off,
            )
        else:
            self._broker_backoff_s = 0.0
        try:
            with self.lock:
                self.store.mark_queued(ids)
        except Exception:  # published all the same: a worker claims `received` rows too
            log.exception("deliveries published but not marked queued: %s", ids)
        return None

    def _broker_failed(self, first: float, why: str) -> float:
        """Start (or lengthen) the broker's back-off, `first` s the first time; its length."""
        off = min(BROKER_BACKOFF_MAX_S, max(first, 2 * self._broker_backoff_s))
        self._broker_backoff_s, self._broker_why = off, why
        self._broker_off_until = time.monotonic() + off
        return off


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


def _refused(p: Pending, err: Exception) -> Answer:
    """The answer of a delivery the store refused for what it holds (its batch went in)."""
    log.error(
        "the store refused delivery %s for what it holds (no outage): answered 422",
        p.delivery.id,
        exc_info=err,
    )
    return 422, {
        "delivery": p.delivery.id,
        "detail": f"the store cannot take this delivery ({type(err).__name__}: {err}) for what"
        " it holds: not recorded, and a redelivery is refused the same way; the web log has"
        " the traceback",
    }


def _to_queue(rows: list[dict[str, Any]]) -> list[str]:
    """The ids of new rows to publish: not ignored ones (the store takes no status as received)."""
    return [r["id"] for r in rows if r.get("status", "received") == "received"]


def _row(p: Pending) -> dict[str, Any]:
    d = p.delivery
    return {
        "received_at": p.arrived,
        "id": d.id,
        "event": d.event,
        "action": d.action,
        "installation_id": d.installation_id,
        "repo": d.repo,
        "number": d.number,
        "status": "ignored" if p.ignored else "received",
        "payload": p.raw.decode("utf-8", "replace"),
    }
