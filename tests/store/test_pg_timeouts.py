"""Every PostgreSQL statement of the store ends in bounded time, as an outage (retried).

PgDatabase connected with connect_timeout=5 but set no lock_timeout, statement_timeout, TCP
keepalives or tcp_user_timeout (bot/store/pg.py): a statement behind a held table lock (an
operator's LOCK TABLE, VACUUM FULL, a migration's ALTER queued behind a long transaction) waited
for as long as the lock was held, and one sent to a server, link or proxy that stopped answering
waited for the kernel's retransmission limit (about 15 minutes) or, behind a proxy that still
answers TCP, for ever. The web's intake thread is the one writer: every webhook waited on it.
Here a loopback proxy that stops forwarding stands for the silent link."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bot.store import open_store
from bot.store.outage import is_outage
from bot.store.pg import LOCK_TIMEOUT_S, STATEMENT_TIMEOUT_S, PgDatabase, advisory_key


class Blackhole:
    """A TCP proxy to PostgreSQL that, once `cut`, keeps the sockets open but forwards nothing."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.cut = threading.Event()
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen()
        self.port = self.srv.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.srv.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                return
            if not self.cut.is_set():
                dst.sendall(data)


def _outcome_within(
    seconds: float, write: Callable[[], object]
) -> tuple[BaseException | None, float]:
    """What `write` ended with (None: it succeeded) and after how long; fails past `seconds`."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            write()
            outcome.append(None)
        except BaseException as err:
            outcome.append(err)

    t0 = time.monotonic()
    threading.Thread(target=run, daemon=True).start()
    while not outcome and time.monotonic() < t0 + seconds:
        time.sleep(0.1)
    waited = time.monotonic() - t0
    assert outcome, f"still waiting after {waited:.0f} s"
    return outcome[0], waited


def test_a_statement_on_a_silent_database_fails_in_bounded_time(pg_url: str) -> None:
    parts = urlsplit(pg_url)
    proxy = Blackhole(parts.hostname or "127.0.0.1", parts.port or 5432)
    store = open_store(urlunsplit(parts._replace(netloc=f"postgres@127.0.0.1:{proxy.port}")))
    assert store.record_delivery("before", "issues", "{}")
    db: PgDatabase = store.db  # type: ignore[assignment]
    assert STATEMENT_TIMEOUT_S < db.answer_within_s < 120  # the default bound
    db.answer_within_s = 3  # the same watch, sooner, for the test
    proxy.cut.set()  # the link goes silent
    err, waited = _outcome_within(30, lambda: store.record_delivery("during", "issues", "{}"))
    assert isinstance(err, psycopg.OperationalError) and is_outage(err), err
    assert "did not answer within 3 s" in str(err) and waited < 10, (waited, err)
    # the next statement opens a new connection, which fails in connect_timeout (5 s)
    err, waited = _outcome_within(30, lambda: store.delivery("before"))
    assert isinstance(err, psycopg.OperationalError) and is_outage(err), err


def test_a_write_behind_a_held_table_lock_fails_in_bounded_time(pg_url: str) -> None:
    store = open_store(pg_url)
    holder = psycopg.connect(pg_url)
    holder.execute("lock table deliveries in access exclusive mode")  # held until rollback
    try:
        err, waited = _outcome_within(40, lambda: store.record_delivery("during", "issues", "{}"))
    finally:
        holder.rollback()
        holder.close()
    assert isinstance(err, psycopg.errors.LockNotAvailable) and is_outage(err), err
    assert LOCK_TIMEOUT_S - 1 < waited < LOCK_TIMEOUT_S + 5, waited
    assert store.record_delivery("during", "issues", "{}")  # the retry, once it is let go


def test_each_session_is_bounded_and_migrations_are_not(pg_url: str) -> None:
    store = open_store(pg_url)
    db: PgDatabase = store.db  # type: ignore[assignment]

    def bounds() -> tuple[str, str]:
        row = db.execute("select current_setting('lock_timeout'),"
                         " current_setting('statement_timeout')").fetchone()  # fmt: skip
        return row[0], row[1]  # type: ignore[index]

    assert bounds() == (f"{LOCK_TIMEOUT_S}s", "1min")
    params = db.conn.info.get_parameters()
    assert params["keepalives"] == "1" and int(params["tcp_user_timeout"]) > 0, params
    with db.exclusive("smolbot-migrations"):
        assert bounds() == ("0", "0")
    assert bounds() == (f"{LOCK_TIMEOUT_S}s", "1min")
    db.conn.close()  # a reconnect keeps them
    assert bounds() == (f"{LOCK_TIMEOUT_S}s", "1min")


def test_a_process_starting_during_a_long_migration_waits_for_it(pg_url: str) -> None:
    """Several processes start at once; one migrates, the others wait for the migration lock
    past the lock timeout rather than fail."""
    open_store(pg_url).close()
    holder = psycopg.connect(pg_url, autocommit=True)
    holder.execute("select pg_advisory_lock(%s)", [advisory_key("smolbot-migrations")])
    threading.Timer(LOCK_TIMEOUT_S + 2, holder.close).start()  # the other's migration ends
    err, waited = _outcome_within(60, lambda: open_store(pg_url).close())
    assert err is None and waited > LOCK_TIMEOUT_S + 1, (err, waited)
