"""Keep a long run's leases while it works, so nobody takes it for a dead one.

A claimed delivery or job holds two leases of `recovery_after_s`: its row's (`updated_at`, which
the recovery sweep and another worker's claim read) and, on SQLite, its lock's. A run that works
longer than that (a lifecycle sweep of a large installation, with model summaries) was re-queued
and run a second time beside itself. While a run works, a thread with its own store connection
(one connection must not carry two threads' transactions) pushes both leases forward every third
of the lease; when the run ends, or its worker dies, the pushing stops and the leases run out.
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType

from bot.coord.locks import Locks, is_postgres
from bot.store import Store, open_store

log = logging.getLogger(__name__)


class Heartbeat:
    """`with Heartbeat(url, "jobs", jid, lease_s, lock=(key, owner)):` around a claimed run."""

    def __init__(
        self,
        url: str,
        table: str,
        row_id: str,
        lease_s: float,
        *,
        lock: tuple[str, str] | None = None,
        every_s: float | None = None,
    ) -> None:
        self.url, self.table, self.row_id, self.lease_s = url, table, row_id, lease_s
        self.lock, self.every_s = lock, every_s or lease_s / 3
        self.beats = 0
        self._said: set[str] = set()  # what was lost and logged already (said once, not per beat)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        if self.url not in (":memory:", "sqlite:///:memory:"):  # no second connection to it
            self._thread = threading.Thread(
                target=self._run, name=f"lease-{self.table}-{self.row_id[:12]}", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        store: Store | None = None
        locks: Locks | None = None
        try:
            while not self._stop.wait(self.every_s):
                try:
                    if store is None:
                        store = open_store(self.url, migrate=False)
                        locks = Locks(store, lease_s=self.lease_s)
                    self._beat(store, locks)
                except Exception:  # a store hiccup: the next beat tries again
                    log.warning(
                        "lease of %s %s not renewed", self.table, self.row_id, exc_info=True
                    )
        finally:
            if store is not None:
                store.db.conn.close()

    def _beat(self, store: Store, locks: Locks | None) -> None:
        cur = store.db.execute(
            f"update {self.table} set updated_at = ? where id = ? and status = 'running'",
            [time.time(), self.row_id],
        )
        store.db.conn.commit()
        if cur.rowcount == 0:  # the recovery sweep re-queued or parked it: its lease had lapsed
            self._lost(
                "row",
                "%s %s is no longer running (its lease lapsed: the recovery sweep re-queued or"
                " parked it); this run goes on, and another may run it too",
                self.table,
                self.row_id,
            )
        # PostgreSQL's advisory lock has no lease to push, and it is held by the worker's session,
        # not this thread's: asking here would always answer "not held". A holder whose session
        # ends learns it there (SessionLocksLost on its next statement).
        if self.lock is not None and locks is not None and not is_postgres(store):
            key, locks.owner = self.lock  # renewed as the run's own lock holder
            if not locks.renew(key):
                self._lost(
                    "lock",
                    "lock %s of %s %s lost (its lease lapsed and another worker took it): another"
                    " run may work on the same issue beside this one",
                    key,
                    self.table,
                    self.row_id,
                )
        self.beats += 1

    def _lost(self, what: str, msg: str, *args: object) -> None:
        if what not in self._said:
            self._said.add(what)
            log.warning(msg, *args)
