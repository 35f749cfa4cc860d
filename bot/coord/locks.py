"""Per-issue locks across worker processes and machines, kept in the store every worker shares.

PostgreSQL: a session advisory lock. The server drops it when the holder's connection dies (a
worker killed with SIGKILL), so there is no expiry to guess. It drops it too when the connection
of a live holder is cut (a server restart or failover, an idle connection killed): the holder's
next statement fails (bot.store.pg.SessionLocksLost, a database error, so the queue retries the
work) instead of going on quietly on a new session; after that, `renew` takes the key again on
the new session if nobody else has, else answers False and the holder must stop.
SQLite (one machine): a row in `coord_locks` with a lease, taken with one atomic upsert; a dead
holder's lease runs out.
A thread lock per key also guards threads of one process, which share one connection.

That failing statement can be missed: work that reads the store best effort (a check it may skip)
swallows it, or another thread of the process meets it. So every GitHub write asks first
(`check_held`, called by bot.github): each lock the work holds must still be held as it was taken
(PostgreSQL: on the same session; SQLite: its lease unexpired), else LockLost and no write. The
window left is one statement to the store.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, cast

from bot.ports import Unavailable
from bot.store import Store

if TYPE_CHECKING:
    from bot.store.pg import PgDatabase

_LOST = -1  # a PostgreSQL key this Locks took and lost: its session ended, another took it
# This session holds the advisory lock of a bigint key (split over classid and objid, objsubid 1).
_HELD = (
    "select exists (select 1 from pg_locks where locktype = 'advisory' and granted"
    " and pid = pg_backend_pid() and classid::bigint = ? and objid::bigint = ? and objsubid = 1)"
)

# the locks the running work holds (this thread's, or this task's), which a GitHub write checks
_holding: ContextVar[tuple[tuple[Locks, str], ...]] = ContextVar("smolbot_locks_held", default=())

_local_guard = threading.Lock()
# a key's thread lock lives while a holder or a waiter has it: one per issue ever touched, kept
# for the life of a worker, added up to megabytes
_local: weakref.WeakValueDictionary[str, threading.Lock] = weakref.WeakValueDictionary()


def is_postgres(store: Store) -> bool:
    return type(store.db).__name__ == "PgDatabase"


def issue_key(repo: str, number: int) -> str:
    return f"issue:{repo.lower()}#{number}"


def _ask(pg: PgDatabase, sql: str, params: list[int]) -> tuple[bool, int]:
    """A yes-or-no statement's answer, and the store's session generation that gave it."""
    cur, gen = pg.execute_session(sql, params)
    row = cur.fetchone()
    return bool(row and row[0]), gen


class LockLost(Unavailable):
    """A lock the work holds is no longer its own (its PostgreSQL session ended, its SQLite lease
    ran out): whatever it read from GitHub may be stale, so it writes nothing more. Retried by the
    queue as an unavailable GitHub is; the retry takes the lock and reads GitHub again."""


def check_held() -> None:
    """Raise LockLost unless every lock the running work holds is still held as it was taken."""
    for locks, key in _holding.get():
        if not locks.held_as_taken(key):
            raise LockLost(
                f"the lock on {key} was lost before a GitHub write (its database session ended"
                " or its lease ran out; another worker may hold it): the write was not made and"
                " the work is retried"
            )


def _held_here(pg: PgDatabase, key: str) -> tuple[bool, int]:
    """Whether the store's session holds `key`, and that session's generation (asking also finds
    out whether the connection died, and reconnects: a new generation)."""
    from bot.store.pg import advisory_key

    k = advisory_key(key)
    return _ask(pg, _HELD, [(k >> 32) & 0xFFFFFFFF, k & 0xFFFFFFFF])


def _thread_lock(key: str) -> threading.Lock:
    with _local_guard:
        lock = _local.get(key)
        if lock is None:
            lock = _local[key] = threading.Lock()
        return lock


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
        # PostgreSQL: per key taken here, the store's session generation it is held on (or _LOST)
        self._sessions: dict[str, int] = {}

    def _pg(self) -> PgDatabase | None:
        return cast("PgDatabase", self.store.db) if is_postgres(self.store) else None

    @contextmanager
    def hold(self, key: str, wait_s: float = 10.0) -> Iterator[bool]:
        local = _thread_lock(key)
        if not local.acquire(timeout=max(wait_s, 0.001)):
            yield False
            return
        try:
            got = self._acquire(key, wait_s)
            held = _holding.set((*_holding.get(), (self, key))) if got else None
            try:
                yield got
            finally:
                if held is not None:
                    _holding.reset(held)
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
        pg = self._pg()
        if pg is not None:
            from bot.store.pg import advisory_key

            got, gen = _ask(pg, "select pg_try_advisory_lock(?)", [advisory_key(key)])
            if not got:
                return False
            self._sessions[key] = gen
            pg.lock_taken(gen)
            return True
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
        the lease ran out and another holder took the key. PostgreSQL's lock has no lease: True
        while this store's session still holds it; after a reconnect the old session's lock is
        gone, so the key is taken again on the new one, and False if another holder has it."""
        pg = self._pg()
        if pg is not None:
            return self._still_held(pg, key)
        cur = self.store.db.execute(
            "update coord_locks set expires_at = ? where key = ? and owner = ?",
            [self._clock() + self.lease_s, key, self.owner],
        )
        self.store.db.conn.commit()
        return cur.rowcount == 1

    def held_as_taken(self, key: str) -> bool:
        """Whether this holder still has `key` as it took it. Unlike `renew`, a PostgreSQL key lost
        with its session is not taken again: what was read under the old one may be stale."""
        pg = self._pg()
        if pg is None:
            row = self.store.db.execute(
                "select 1 from coord_locks where key = ? and owner = ? and expires_at > ?",
                [key, self.owner, self._clock()],
            ).fetchone()
            return row is not None
        taken = self._sessions.get(key)
        if taken is None or taken == _LOST:
            return False
        held, gen = _held_here(pg, key)
        return held and gen == taken

    def _still_held(self, pg: PgDatabase, key: str) -> bool:
        from bot.store.pg import advisory_key

        taken = self._sessions.get(key)
        if taken == _LOST:
            return False
        held, gen = _held_here(pg, key)
        if taken is None:  # not taken through this Locks: only say whether this session holds it
            return held
        if gen != taken:  # a new session: the old one's lock went with it; ours if still free
            held, gen = _ask(pg, "select pg_try_advisory_lock(?)", [advisory_key(key)])
            if held:
                pg.lock_taken(gen)
        self._sessions[key] = gen if held else _LOST
        return held

    def _release(self, key: str) -> None:
        pg = self._pg()
        if pg is not None:
            from bot.store.pg import advisory_key

            taken = self._sessions.pop(key, None)
            if taken is None:  # not taken through this Locks (another one on this store did)
                pg.execute("select pg_advisory_unlock(?)", [advisory_key(key)])
            elif taken != _LOST:  # on the session that took it; if that one ended, so did its lock
                pg.execute_on(taken, "select pg_advisory_unlock(?)", [advisory_key(key)])
                pg.lock_released(taken)
            return
        self.store.db.execute(
            "delete from coord_locks where key = ? and owner = ?", [key, self.owner]
        )
        self.store.db.conn.commit()
