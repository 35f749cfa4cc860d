"""PostgreSQL behind the subset of sqlite-utils' Database/Table API that smolbot's store code uses."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg.types.numeric import FloatLoader

from bot.store.outage import LocksLost, hide_password

TYPES: dict[Any, str] = {
    str: "text",
    int: "bigint",
    float: "double precision",
    bool: "bigint",
    bytes: "bytea",
    dict: "text",
    list: "text",
}
T = TypeVar("T")
# Every session's bounds: a write queued behind a held lock (an operator's LOCK TABLE, a VACUUM
# FULL, a migration's ALTER behind a long transaction) fails after LOCK_TIMEOUT_S, and any
# statement after STATEMENT_TIMEOUT_S; both are outages (retried). Migrations and the daily
# prune run without them (`unbounded()`).
LOCK_TIMEOUT_S = 5
STATEMENT_TIMEOUT_S = 60
# A server, link or proxy that stops answering cancels nothing: TCP notices a dead peer or
# dropped packets in about 25-30 s (libpq's settings below, unless the URL sets its own); past
# ANSWER_WITHIN_S, the watch thread cuts the connection (a proxy still answers TCP for the
# server behind it).
ANSWER_WITHIN_S = STATEMENT_TIMEOUT_S + 15.0
TCP_PARAMS: dict[str, Any] = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,  # ms; libpq 12+
}
_UPSERT_SELF = re.compile(
    r"insert\s+into\s+(\w+).*?do\s+update\s+set\s+(\w+)\s*=\s*(\w+)\b", re.I | re.S
)


class IntegrityError(sqlite3.IntegrityError):
    """A PostgreSQL constraint violation, as the sqlite3 error the store code already catches."""


_SQLITE_DATE = re.compile(r"\bdate\(\s*([\w.]+)\s*,\s*'unixepoch'\s*\)", re.I)


def translate(sql: str) -> str:
    """SQLite's `?` placeholders to psycopg's `%s` (outside quotes); literal `%` escaped.

    Also the few SQLite idioms the code base uses: `date(ts, 'unixepoch')` and a self-referencing
    `on conflict … do update set n = n + 1`.
    """
    sql = _SQLITE_DATE.sub(r"to_char(to_timestamp(\1) at time zone 'UTC', 'YYYY-MM-DD')", sql)
    out: list[str] = []
    quote: str | None = None
    for ch in sql:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return _qualify_upsert("".join(out))


def _qualify_upsert(sql: str) -> str:
    """`do update set n = n + 1` is ambiguous in PostgreSQL: the right side means the old row."""
    m = _UPSERT_SELF.search(sql)
    if m and m.group(2) == m.group(3):
        start = m.start(3)
        return sql[:start] + f"{m.group(1)}.{m.group(3)}" + sql[m.end(3) :]
    return sql


def _value(v: Any) -> Any:
    """A parameter as PostgreSQL takes it. Its text refuses U+0000, which SQLite stores (a log
    pasted in an issue, a UTF-16 file read as UTF-8): it becomes U+FFFD, as undecodable bytes do.
    JSON needs nothing: json.dumps writes the character as the escape \\u0000."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, str):
        return v.replace("\x00", "\ufffd")
    if isinstance(v, dict | list | tuple):
        return json.dumps(v, default=str)
    return v


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SessionLocksLost(psycopg.OperationalError, LocksLost):
    """The connection died while this process held session advisory locks on it: the server
    released them, so the work they guarded must stop (the queue retries it), not go on quietly
    on a new connection while another worker may hold the same lock."""


class PgDatabase:
    """One psycopg connection in autocommit mode; `atomic()` opens a transaction (nests).

    A dead connection is replaced at the next statement. `generation` counts those replacements:
    each is a new server session, which holds none of the old one's session advisory locks (the
    server released them when the old session ended), so a lock holder compares generations.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._guard = threading.RLock()
        self._unbounded = 0  # unbounded() nesting
        self.answer_within_s = ANSWER_WITHIN_S
        self.waiting_since: float | None = None  # when the statement waiting now was sent
        self._cut = False  # the watch thread cut the connection
        self.conn = self._connect()
        _WATCHED.add(self)
        self.generation = 0  # bumped at each reconnect
        self.session_locks = 0  # advisory locks bot.coord.locks holds on this session
        self._meta: dict[str, tuple[list[str], list[str]]] = {}
        self._depth = 0  # atomic() nesting

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            given = conninfo_to_dict(self.url)
            tcp = {k: v for k, v in TCP_PARAMS.items() if k not in given}
            if psycopg.pq.version() < 120000:
                tcp.pop("tcp_user_timeout", None)
            conn = psycopg.connect(self.url, autocommit=True, **tcp)
        except psycopg.Error as err:  # it quotes a password it cannot parse (a bad %-escape)
            raise type(err)(hide_password(str(err), self.url)) from None
        conn.adapters.register_loader("numeric", FloatLoader)  # avg() etc.: floats, as in SQLite
        self._set_bounds(conn)
        self._cut = False
        return conn

    def _set_bounds(self, conn: psycopg.Connection[Any]) -> None:
        lock, statement = (0, 0) if self._unbounded else (LOCK_TIMEOUT_S, STATEMENT_TIMEOUT_S)
        conn.execute(
            "select set_config('lock_timeout', %s, false),"
            " set_config('statement_timeout', %s, false)",
            [f"{lock}s", f"{statement}s"],
        )

    @contextmanager
    def unbounded(self) -> Iterator[None]:
        """No lock, statement or answer timeout inside: a migration or the daily prune over a
        long history is work that may take minutes, not a server that stopped answering."""
        with self._guard:
            self._unbounded += 1
            try:
                self._once_more(self._set_bounds)
                yield
            finally:
                self._unbounded -= 1
                if not (self.conn.closed or self.conn.broken):
                    self._set_bounds(self.conn)

    @contextmanager
    def _waiting(self) -> Iterator[None]:
        """A statement sent: the watch thread cuts the connection if no answer comes in time."""
        _watch()
        self.waiting_since = time.monotonic()
        try:
            yield
        except psycopg.OperationalError as err:
            if self._cut:
                raise psycopg.OperationalError(
                    f"PostgreSQL did not answer within {self.answer_within_s:.0f} s (a server,"
                    " link or proxy that stopped answering): the connection was closed, the next"
                    " statement opens a new one"
                ) from err
            raise
        finally:
            self.waiting_since = None

    def cut_if_silent(self, now: float) -> None:
        """Called by the watch thread: shut the socket of a statement waiting past its bound, so
        it fails now (an outage, retried) instead of waiting on for ever."""
        since = self.waiting_since
        if since is None or self._unbounded or now - since <= self.answer_within_s:
            return
        self._cut = True
        with (
            contextlib.suppress(OSError, psycopg.Error),
            socket.socket(fileno=os.dup(self.conn.fileno())) as sock,
        ):
            sock.shutdown(socket.SHUT_RDWR)

    def _reconnect(self) -> psycopg.Connection[Any]:
        """A new session. If the old one held locks, the statement that found it dead fails with
        SessionLocksLost (the next one runs on the new session). They are counted lost only once
        the new session is open: a reconnect refused (the server still down) says nothing of them,
        and the first statement that gets through must still fail."""
        self.conn = self._connect()
        lost, self.session_locks = self.session_locks, 0
        self.generation += 1
        if lost:
            raise SessionLocksLost(
                f"the PostgreSQL connection was lost while holding {lost} lock(s) (a server"
                " restart, a failover or a killed idle connection): the work they guarded stops"
                " here and is retried"
            )
        return self.conn

    def lock_taken(self, generation: int) -> None:
        """bot.coord.locks took a session lock on session `generation`."""
        with self._guard:
            if generation == self.generation:
                self.session_locks += 1

    def lock_released(self, generation: int) -> None:
        """bot.coord.locks let go of a session lock it took on session `generation`."""
        with self._guard:
            if generation == self.generation and self.session_locks:
                self.session_locks -= 1

    def _live(self) -> psycopg.Connection[Any]:
        """Reconnect after the server went away (a restart, a network blip) between calls."""
        if self.conn.closed or self.conn.broken:
            self._reconnect()
        return self.conn

    def _once_more(self, fn: Callable[[psycopg.Connection[Any]], T]) -> T:
        """Run fn on the connection; if the connection died, retry once on a fresh one.

        Never inside atomic(): a transaction cut in half must fail, not half-replay.
        """
        with self._guard:
            try:
                with self._waiting():
                    return fn(self._live())
            except pg_errors.IntegrityError as err:
                raise IntegrityError(str(err)) from err
            except psycopg.OperationalError:
                if self._depth or self._cut or not (self.conn.closed or self.conn.broken):
                    raise
                with self._waiting():
                    return fn(self._reconnect())

    # --- sqlite-utils Database API ------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> psycopg.Cursor[Any]:
        args = [_value(p) for p in params or []]
        return self._once_more(lambda conn: conn.execute(translate(sql), args))

    def execute_session(
        self, sql: str, params: Sequence[Any] | None = None
    ) -> tuple[psycopg.Cursor[Any], int]:
        """execute(), and the generation of the session that ran it (after a reconnect, if any)."""
        with self._guard:
            cur = self.execute(sql, params)
            return cur, self.generation

    def execute_on(
        self, generation: int, sql: str, params: Sequence[Any] | None = None
    ) -> psycopg.Cursor[Any] | None:
        """execute() on session `generation` only; None when that session has ended. Never
        reconnects: a statement about the old session's locks means nothing on a new one."""
        args = [_value(p) for p in params or []]
        with self._guard:
            if generation != self.generation or self.conn.closed or self.conn.broken:
                return None
            try:
                with self._waiting():
                    return self.conn.execute(translate(sql), args)
            except psycopg.OperationalError:
                if self.conn.closed or self.conn.broken:
                    return None  # the next statement reconnects
                raise

    def query(self, sql: str, params: Sequence[Any] | None = None) -> Iterator[dict[str, Any]]:
        args = [_value(p) for p in params or []]

        def fetch(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
            cur = conn.cursor(row_factory=dict_row)
            cur.execute(translate(sql), args)
            return cur.fetchall()

        yield from self._once_more(fetch)

    def table_names(self) -> list[str]:
        sql = "select tablename from pg_tables where schemaname = current_schema() order by 1"
        return [r[0] for r in self.execute(sql).fetchall()]

    def table(self, name: str) -> PgTable:
        return PgTable(self, name)

    def __getitem__(self, name: str) -> PgTable:
        return PgTable(self, name)

    @contextmanager
    def atomic(self) -> Iterator[None]:
        with self._guard:
            if self._depth == 0:
                self._once_more(lambda conn: conn.execute("select 1"))  # a dead link reconnects
            self._depth += 1
            try:
                with self.conn.transaction():
                    try:
                        yield
                    finally:
                        _watch()
                        self.waiting_since = time.monotonic()  # the commit (or rollback) next
            finally:
                self.waiting_since = None
                self._depth -= 1

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """A session advisory lock (e.g. around migrations when several processes start at once),
        waited for and held without time bounds (another process may be migrating)."""
        key = advisory_key(name)
        with self._guard, self.unbounded():
            self.execute("select pg_advisory_lock(?)", [key])
            try:
                yield
            finally:
                self.execute("select pg_advisory_unlock(?)", [key])

    def forget_schema(self, name: str | None = None) -> None:
        if name is None:
            self._meta.clear()
        else:
            self._meta.pop(name, None)

    def meta(self, name: str) -> tuple[list[str], list[str]]:
        """(columns, primary-key columns) of a table, cached until DDL changes it."""
        if name not in self._meta:
            cols = self.execute(
                "select column_name from information_schema.columns"
                " where table_schema = current_schema() and table_name = ? order by ordinal_position",
                [name],
            ).fetchall()
            pks = self.execute(
                "select a.attname from pg_index i join pg_attribute a"
                " on a.attrelid = i.indrelid and a.attnum = any(i.indkey)"
                " where i.indrelid = to_regclass(?) and i.indisprimary"
                " order by array_position(i.indkey, a.attnum)",
                [_q(name)],
            ).fetchall()
            self._meta[name] = ([c[0] for c in cols], [p[0] for p in pks])
        return self._meta[name]


_WATCHED: weakref.WeakSet[PgDatabase] = weakref.WeakSet()
_watcher: list[threading.Thread] = []  # this process's watch thread (none after a fork)
_watcher_lock = threading.Lock()


def _watch() -> None:
    """Start this process's watch thread if it is not running (first statement, or a fork)."""
    if _watcher and _watcher[0].is_alive():
        return
    with _watcher_lock:
        if not (_watcher and _watcher[0].is_alive()):
            _watcher[:] = [threading.Thread(target=_watch_all, name="pg-watch", daemon=True)]
            _watcher[0].start()


def _watch_all() -> None:
    while True:
        time.sleep(1.0)
        now = time.monotonic()
        for db in list(_WATCHED):
            db.cut_if_silent(now)


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock from any string."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


from bot.store.pg_table import PgTable  # noqa: E402  (the table half lives next door)

__all__ = ["IntegrityError", "PgDatabase", "PgTable", "advisory_key", "translate"]
