"""Only a database that is away counts as an outage; a statement's own error parks the delivery.

bot/store/outage.py listed sqlite3.OperationalError whole as "unreachable for now (retry later,
never give up)". SQLite raises that class for bugs and schema mismatches too: "no such column",
"no such table", "near …: syntax error", "too many SQL variables". A delivery that met one was
retried every minute for ever (max_retries=None), logged as "database unavailable
(OperationalError)" with no traceback, never parked. The same bug on PostgreSQL
(psycopg.errors.UndefinedColumn, a ProgrammingError) was parked as a dead letter at once; and
PostgreSQL's own program-limit errors (class 54, an OperationalError) looped like SQLite's."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from celery.exceptions import Retry

from bot.coord.locks import Locks
from bot.coord.pacing import SharedPacer
from bot.jobs.runtime import Runtime
from bot.settings import load_settings
from bot.store import Store
from bot.store.outage import is_outage
from workers.runtime import WorkerRuntime
from workers.tasks import _run_delivery


class _Task:
    request = SimpleNamespace(retries=0)

    def retry(self, countdown: float = 0, exc: Exception | None = None, **_: Any) -> Retry:
        return Retry(exc=exc, when=countdown)


def _outcome(store: Store, url: str, tmp_path: Path, dispatch: Callable[[str], None]) -> str:
    settings = load_settings(env="test", data_dir=tmp_path / "d", database_url=url)
    rt = Runtime(settings, store)
    wr = WorkerRuntime(rt, Locks(store), SharedPacer(store, 0.0))
    store.record_delivery("d1", "issues", "{}", repo="o/r", number=1)
    rt.dispatch = dispatch  # type: ignore[method-assign]
    try:
        return _run_delivery(_Task(), wr, "d1", None, "delivery:d1")  # type: ignore[arg-type]
    except Retry:
        return "retried as a database outage"


def test_a_bad_statement_parks_the_delivery_on_both_stores(
    any_store: Store, store_url: str, tmp_path: Path
) -> None:
    def buggy(delivery_id: str) -> None:  # e.g. code that names a column a migration renamed
        any_store.db.execute("select no_such_column from deliveries").fetchall()

    assert _outcome(any_store, store_url, tmp_path, buggy) == "dead"
    row = any_store.delivery("d1")
    assert row is not None and "no_such_column" in row["error"], row
    assert any_store.dead_letters(), "parked where `smolbot retry` finds it"


def test_a_locked_database_is_still_retried(store: Store, tmp_path: Path) -> None:
    path = str(store.db.execute("pragma database_list").fetchone()[2])

    def blocked(delivery_id: str) -> None:
        holder = sqlite3.connect(path, timeout=0)
        holder.execute("begin immediate")  # another process writing
        try:
            sqlite3.connect(path, timeout=0).execute("insert into audit (at) values (0)")
        finally:
            holder.rollback()
            holder.close()

    assert _outcome(store, path, tmp_path, blocked) == "retried as a database outage"


def _limited(db: Path) -> sqlite3.Connection:
    """A connection that takes 2 variables a statement (SQLite's default here: 250,000)."""
    conn = sqlite3.connect(db)
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 2)
    return conn


def _sqlite_error(tmp_path: Path, what: str) -> sqlite3.OperationalError:
    db = tmp_path / "e.db"
    sqlite3.connect(db).executescript("create table t (a); insert into t values (1);")
    statements: dict[str, Callable[[], object]] = {
        "no such column": lambda: sqlite3.connect(db).execute("select b from t"),
        "syntax error": lambda: sqlite3.connect(db).execute("selec 1"),
        "too many SQL variables": lambda: _limited(db).execute(
            "select * from t where a in (?, ?, ?)", [0, 1, 2]
        ),
        "readonly": lambda: sqlite3.connect(f"file:{db}?mode=ro", uri=True).execute(
            "insert into t values (2)"
        ),
        "unable to open": lambda: sqlite3.connect(tmp_path / "gone" / "x.db").execute("select 1"),
    }
    with pytest.raises(sqlite3.OperationalError) as caught:
        statements[what]()
    return caught.value


@pytest.mark.parametrize(
    ("what", "outage"),
    [
        ("no such column", False),
        ("syntax error", False),
        ("too many SQL variables", False),
        ("readonly", True),
        ("unable to open", True),
    ],
)
def test_which_sqlite_errors_are_an_outage(tmp_path: Path, what: str, outage: bool) -> None:
    err = _sqlite_error(tmp_path, what)
    assert is_outage(err) is outage, err
    assert is_outage(sqlite3.OperationalError(str(err))) is outage  # no result code: its words


def test_a_postgres_program_limit_is_no_outage(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn, pytest.raises(psycopg.OperationalError) as caught:
        conn.execute("select " + ",".join(["1"] * 1700))  # too many columns (54011)
    assert not is_outage(caught.value)
    assert is_outage(psycopg.errors.QueryCanceled("canceling statement due to statement timeout"))
