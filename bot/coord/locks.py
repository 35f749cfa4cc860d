"""Per-issue locks across worker processes and machines, kept in the store every worker shares.

PostgreSQL: a session advisory lock. The server drops it when the holder's connection dies (a
worker killed with SIGKILL), so there is no expiry to guess. SQLite (one machine): a row in
`coord_locks` with a lease, taken with one atomic upsert; a dead holder's lease runs out.
A thread lock per key also guards threads of one process, which share one connection.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bot.store import Store

_local_guard = threading.Lock()
_local: dict[str, threading.Lock] = {}


def is_postgres(store: Store) -> bool:
    return type(store.db).__name__ == "PgDatabase"


def issue_key(repo: str, number: int) -> str:
    return f"issue:{repo.lower()}#{number}"


def _thread_lock(key: str) -> threading.Lock:
    with _local_guard:
        return _local.setdefault(key, threading.Lock())


class Locks:
    """Try-locks with a bounded wait: `with locks.hold(key, wait_s) as got:` (got is a bool)."""

    def __init__(
        self,
        store: Store,
        lease_s: float = 600.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store, self.lease_s, self._clock, self._sleep = store, lease_s, clock, sleep
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

    @contextmanager
    def hold(self, key: str, wait_s: float = 10.0) -> Iterator[bool]:
        local = _thread_lock(key)
        if not local.acquire(timeout=max(wait_s, 0.001)):
            yield False
            return
        try:
            got = self._acquire(key, wait_s)
            try:
                yield got
            finally:
                if got:
                    self._release(key)
        finally:
            local.release()

    def _acquire(self, key: str, wait_s: float) -> bool:
        deadline = self._clock() + wait_s
        delay = 0.02
        while True:
            if self.try_acquire(key):
                return True
            if self._clock() >= deadline:
                return False
            self._sleep(delay)
            delay = min(delay * 2, 0.5)

    def try_acquire(self, key: str) -> bool:
        if is_postgres(self.store):
            from bot.store.pg import advisory_key

            row = self.store.db.execute("select pg_try_advisory_lock(?)", [advisory_key(key)])
            return bool(row.fetchone()[0])
        now = self._clock()
        cur = self.store.db.execute(
            "insert into coord_locks (key, owner, expires_at) values (?, ?, ?)"
            " on conflict(key) do update set owner = excluded.owner,"
            " expires_at = excluded.expires_at where coord_locks.expires_at < ?",
            [key, self.owner, now + self.lease_s, now],
        )
        self.store.db.conn.commit()
        return cur.rowcount == 1

    def renew(self, key: str) -> bool:
        """Extend a held lock's lease (SQLite) for a holder that keeps working past lease_s; False:
        the lease ran out and another holder took the key. PostgreSQL's lock has no lease."""
        if is_postgres(self.store):
            return True
        cur = self.store.db.execute(
            "update coord_locks set expires_at = ? where key = ? and owner = ?",
            [self._clock() + self.lease_s, key, self.owner],
        )
        self.store.db.conn.commit()
        return cur.rowcount == 1

    def _release(self, key: str) -> None:
        if is_postgres(self.store):
            from bot.store.pg import advisory_key

            self.store.db.execute("select pg_advisory_unlock(?)", [advisory_key(key)])
            return
        self.store.db.execute(
            "delete from coord_locks where key = ? and owner = ?", [key, self.owner]
        )
        self.store.db.conn.commit()
