"""An upgrade restarts one service while the others still write: its migrations of the SQLite
store must wait for the writers, not fail at once with "database is locked" (WAL cannot upgrade
a read snapshot another process's commit made stale, and SQLite then skips the busy timeout).
Retrying the migration until a deadline was not enough: one busy writer starved it for 30 s in
a loaded CI run; each migration now takes the write lock before it reads."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

from sqlite_utils import Database

from bot.store import open_store
from bot.store.migrations import migrations
from bot.store.store import SQLITE_FILE_PRAGMAS

OLD = "m110_write_window"  # a store from before this migration; it reads, then creates
WRITERS = 2


def _write(path: str, stop, started) -> None:  # type: ignore[no-untyped-def]
    store = open_store(path, migrate=False)
    i = 0
    while not stop.is_set():
        i += 1
        store.record_delivery(f"w{i}", "issues", "{}")
        started.set()


def test_migrations_wait_for_another_process_s_writes(tmp_path: Path) -> None:
    ctx = mp.get_context("fork")
    for trial in range(6):  # failed 2-5 of 6 before
        path = str(tmp_path / f"old{trial}.db")
        db = Database(path)
        for pragma in SQLITE_FILE_PRAGMAS:
            db.execute(pragma)
        migrations.apply(db, stop_before=OLD)
        db.conn.close()
        stop = ctx.Event()
        started = [ctx.Event() for _ in range(WRITERS)]
        writers = [ctx.Process(target=_write, args=(path, stop, s)) for s in started]
        for writer in writers:
            writer.start()
        try:
            assert all(s.wait(30) for s in started)
            time.sleep(0.2)
            store = open_store(path, migrate=False)
            store.migrate()  # raised OperationalError: database is locked (open_store retried it)
            names = {m.name for m in migrations.applied(store.db)}
            assert names == {m.name for m in migrations._migrations}
        finally:
            stop.set()
            for writer in writers:
                writer.join(30)
        assert [w.exitcode for w in writers] == [0] * WRITERS
