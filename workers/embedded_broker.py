"""The embedded broker: kombu's SQLAlchemy transport, fitted to a long-running SQLite file.

`smolbot serve` needs no broker server: Celery's SQLAlchemy transport keeps the queues in a SQLite
file in the data directory. Three things about the stock transport matter on that path:

- Publishing looked the queue up through the ORM and added the message through a session flush:
  about 1.3 ms of CPU per message here, the largest cost the webhook paid per batch. This channel
  remembers each queue's id and inserts with one Core statement (bench/broker.py: 2.6 ms -> 0.17
  ms of CPU per message through kombu's SimpleQueue).
- A delivered message was marked invisible and kept for ever; nothing reads such a row again (a
  message that is not acked goes back as a new row), so the file grew by one row per delivery.
  This channel deletes it in the transaction that takes it, and on first opening a file removes
  the rows the stock transport left there.
- SQLite's default rollback journal synced the file several times per commit. The engine here
  runs in WAL mode, synced at checkpoints: a crash of the process loses nothing committed; only
  a power cut can lose the last transactions, and the store's recovery sweep re-queues what the
  broker lost.
- kombu caches one engine per URL for the process (a class attribute), so a process forked
  after a publish (Celery's prefork pool replacing a child) would inherit the engine with its
  pooled sqlite3 connection and use the parent's connection from two processes, which SQLite
  does not survive. A forked child starts each cached engine on a new, empty pool instead.

Tables, columns and ordering are kombu's own, so a worker on the stock transport reads what this
one writes. `use_for_sqla_urls` makes `sqla+…` URLs resolve here (configure() calls it).
"""

from __future__ import annotations

import os
from pathlib import Path
from queue import Empty
from typing import Any

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import sqlalchemy as sqla
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import dumps, loads
from sqlalchemy import delete, event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.store.store import SQLITE_FILE_PRAGMAS, sqlite_setup_lock

ALIAS = "workers.embedded_broker:Transport"


class Channel(sqla.Channel):
    """A kombu SQLAlchemy channel with a Core-statement publish and delete-on-take consume."""

    def __init__(self, connection: Any, **kwargs: Any) -> None:
        self._queue_ids: dict[str, int] = {}
        super().__init__(connection, **kwargs)

    def _engine_from_config(self) -> Any:
        engine = super()._engine_from_config()
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _wal)
        return engine

    def _open(self) -> Any:
        hostname = self.connection.client.hostname
        db_file = _sqlite_file(hostname) if hostname not in self._engines else None
        if db_file is None:
            engine, session_cls = super()._open()
        else:  # first open in this process: WAL switch and CREATE TABLE, one process at a time
            db_file.parent.mkdir(parents=True, exist_ok=True)
            with sqlite_setup_lock(db_file):
                engine, session_cls = super()._open()
        if engine.url not in _PRUNED:  # once per process and file: rows the stock transport left
            _PRUNED.add(engine.url)
            with engine.begin() as conn:
                conn.execute(delete(self.message_cls.__table__).where(_taken(self.message_cls)))
        return engine, session_cls

    def _queue_id(self, queue: str) -> int:
        qid = self._queue_ids.get(queue)
        if qid is None:
            qid = self._queue_ids[queue] = int(self._get_or_create(queue).id)
            self.session.commit()  # end the read transaction the lookup opened
        return qid

    def _get_or_create(self, queue: str) -> Any:
        """The queue's row, created if missing. Another process may create it at the same moment
        (the stock version then fails on the unique name, or returns a row with no id)."""
        session, q = self.session, self.queue_cls
        obj = session.query(q).filter(q.name == queue).first()
        if obj is None:
            session.add(q(queue))
            try:
                session.commit()
            except (IntegrityError, OperationalError):
                session.rollback()  # lost the race: the winner's row is there now
            obj = session.query(q).filter(q.name == queue).first()
            if obj is None:
                raise RuntimeError(
                    f"could not create broker queue {queue!r}: is the broker file writable?"
                )
        return obj

    def _put(self, queue: str, message: Any, **kwargs: Any) -> None:  # type: ignore[override]
        engine, _ = self._open()
        row = {"queue_id": self._queue_id(queue), "payload": dumps(message)}
        with engine.begin() as conn:
            conn.execute(insert(self.message_cls.__table__), row)

    def _get(self, queue: str, timeout: Any = None) -> Any:
        qid = self._queue_id(queue)
        session = self.session
        if session.bind.name == "sqlite":
            session.execute(text("BEGIN IMMEDIATE TRANSACTION"))
        try:
            m = self.message_cls
            msg = (
                session.query(m)
                .with_for_update()
                .filter(m.queue_id == qid)
                .filter(~_taken(m))
                .order_by(m.sent_at)
                .order_by(m.id)
                .limit(1)
                .first()
            )
            if msg is None:
                raise Empty()
            payload = msg.payload
            session.delete(msg)
            return loads(bytes_to_str(payload))
        finally:
            session.commit()


class Transport(sqla.Transport):
    Channel = Channel


_PRUNED: set[Any] = set()


def _taken(m: Any) -> Any:
    """Delivered by the stock transport: kept with visible = false, never read again."""
    return m.visible == False  # noqa: E712  (a SQL expression, not a comparison)


def _sqlite_file(url: str) -> Path | None:
    """The file behind a sqlite:///PATH engine URL (None for other databases and memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _wal(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    for pragma in SQLITE_FILE_PRAGMAS:
        cur.execute(pragma)
    cur.close()


# The pools a forked child inherited: kept referenced, never used or closed, so that the child's
# garbage collector does not close the parent's sqlite3 connections from this process either.
_INHERITED: list[Any] = []


def _new_pools_after_fork() -> None:
    """In a forked child: every cached engine gets a new, empty pool (its next publish or take
    opens a connection of its own); the parent's connections are left alone."""
    for engine, _session_cls in list(sqla.Channel._engines.values()):
        _INHERITED.append(engine.pool)
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_new_pools_after_fork)


def use_for_sqla_urls() -> None:
    """`sqla+sqlite:///…` (and any `sqla+…` URL) resolves to this transport in this process."""
    TRANSPORT_ALIASES["sqla"] = ALIAS
