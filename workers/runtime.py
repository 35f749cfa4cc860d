"""Per-process worker runtime: the jobs Runtime on the configured database, plus coordination."""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass

from sqlite_utils import Database

from bot.coord.locks import Locks
from bot.coord.pacing import SharedPacer
from bot.jobs.runtime import Runtime
from bot.settings import Settings
from bot.store import Store, open_store
from bot.store.store import SQLITE_FILE_PRAGMAS

_guard = threading.Lock()
_cache: dict[tuple[int, str], WorkerRuntime] = {}


@dataclass
class WorkerRuntime:
    rt: Runtime
    locks: Locks
    pacer: SharedPacer


def worker_runtime(settings: Settings) -> WorkerRuntime:
    """One per process and database (a forked child opens its own connection).

    The GitHub client's per-process write pacer is replaced by the shared one, so every worker
    on every machine keeps the same per-installation spacing and pauses.

    On a SQLite file the store gives each thread its own connection (ConnectionPerThread): a
    `--pool threads` worker runs several tasks at once, and one sqlite3 connection carries one
    transaction at a time. Everything else (the store object, GitHub client, model layer, locks,
    pacer) stays one per process.
    """
    url = settings.effective_database_url
    key = (os.getpid(), url)
    with _guard:
        wr = _cache.get(key)
        if wr is None:
            store = _per_thread(open_store(url))
            rt = Runtime(settings, store)
            wr = WorkerRuntime(
                rt,
                Locks(store, lease_s=settings.recovery_after_s),
                SharedPacer(store, settings.write_interval_s),
            )
            _install_pacer(rt, wr.pacer)
            _cache[key] = wr
        return wr


class ConnectionPerThread(Database):
    """A sqlite-utils Database whose `conn` is the calling thread's own connection to one file.

    sqlite-utils' atomic() and the Store's commit() calls act on `db.conn`; two threads on one
    connection commit each other's half-done work ('cannot commit - no transaction is active',
    'no such savepoint'). Here a thread's first statement opens its connection, set up as
    open_store sets up its own; the thread's end drops it. Objects that keep `store.db` (the model
    layer's Records, Locks, the pacer) follow the calling thread too.
    """

    def __init__(self, path: str, first: sqlite3.Connection) -> None:
        self._path = path
        self._local = threading.local()
        super().__init__(first)  # the opening thread's (set up and migrated by open_store)

    @property
    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    @conn.setter
    def conn(self, conn: sqlite3.Connection) -> None:
        self._local.conn = conn

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, timeout=30, check_same_thread=False)
        for pragma in SQLITE_FILE_PRAGMAS:
            conn.execute(pragma)
        Database(conn)  # what sqlite-utils does to a connection it is given (recursive triggers)
        return conn


def _per_thread(store: Store) -> Store:
    """The store on a ConnectionPerThread when it is a SQLite file; other stores as they are
    (PostgreSQL's PgDatabase serializes its threads itself; ':memory:' has no second connection)."""
    db = store.db
    if type(db) is not Database:
        return store
    path = next((row[2] for row in db.conn.execute("pragma database_list") if row[1] == "main"), "")
    if not path:
        return store
    return Store(ConnectionPerThread(path, db.conn))


def _install_pacer(rt: Runtime, pacer: SharedPacer) -> None:
    gh = rt.github  # built lazily; constructing it makes no request
    if hasattr(gh, "pacer"):
        gh.pacer = pacer
