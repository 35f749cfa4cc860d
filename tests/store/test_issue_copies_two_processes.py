"""Two processes store copies of one issue at once (a backfill's page, an edit's delivery): the
newest copy an upsert accepted is the one that stays, on SQLite and on PostgreSQL."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import threading
import time
from typing import Any

import psycopg

from bot.store import open_store

ROUNDS, WRITES = 6, 300


def _issue(n: int, updated: str, title: str) -> dict[str, Any]:
    return {"number": n, "title": title, "state": "open", "updated_at": updated, "labels": []}


def _stamp(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _epoch(stamp: str) -> float:
    return time.mktime(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone


def _edits(url: str, base: float, q: Any) -> None:
    """A delivery per edit, each newer than the last."""
    s, took = open_store(url), []
    for i in range(1, WRITES + 1):
        stamp = _stamp(base + 100 * i)
        if s.upsert_issue("o/r", _issue(1, stamp, stamp)):
            took.append(stamp)
    q.put(took)


def _listings(url: str, q: Any) -> None:
    """A backfill: a copy a little newer than the one it read (listed after that, before the
    next edit), written when that edit may have landed meanwhile."""
    s, took = open_store(url), []
    for _ in range(WRITES):
        row = s.issue("o/r", 1)
        stamp = _stamp(_epoch(row["updated_at"]) + 1) if row else _stamp(0)
        if s.upsert_issue("o/r", _issue(1, stamp, stamp)):
            took.append(stamp)
    q.put(took)


def test_two_processes_upserting_one_issue_keep_the_newest_copy(store_url: str) -> None:
    """Rounds of writes from two real processes, no hooks: none may end with an older copy
    stored than the newest one an upsert said it stored."""
    ctx = mp.get_context("fork")
    base = 1_700_000_000.0
    for round_ in range(ROUNDS):
        url = store_url if "://" in store_url else f"{store_url}.{round_}"
        first = open_store(url)
        first.db.execute("delete from issues")
        first.db.conn.commit()
        first.upsert_issue("o/r", _issue(1, _stamp(base), "first"))
        first.close()
        q = ctx.Queue()
        procs = [
            ctx.Process(target=_edits, args=(url, base, q)),
            ctx.Process(target=_listings, args=(url, q)),
        ]
        for p in procs:
            p.start()
        accepted = q.get(timeout=120) + q.get(timeout=120)
        for p in procs:
            p.join(30)
        stored = open_store(url).issue("o/r", 1)
        assert stored is not None
        assert stored["updated_at"] == max(accepted), f"round {round_}: newest accepted lost"


def test_an_older_copy_waits_for_a_newer_one_being_written_and_is_dropped(store_url: str) -> None:
    """Another connection is storing a newer edit (its transaction not committed yet) when an
    older copy comes: the older one waits for it, sees it, and is dropped, not written over it."""
    open_store(store_url).upsert_issue("o/r", _issue(1, "2026-01-01T00:00:00Z", "first"))
    edit = (
        "update issues set title = 'edited', updated_at = '2026-01-03T00:00:00Z'"
        " where repo = 'o/r' and number = 1"
    )
    other: Any
    if "://" in store_url:
        other = psycopg.connect(store_url)  # a transaction opens with the first statement
    else:
        other = sqlite3.connect(store_url, isolation_level=None)
        other.execute("begin immediate")
    other.execute(edit)
    backfill, answers = open_store(store_url), []
    older = _issue(1, "2026-01-02T00:00:00Z", "listed before the edit")
    writer = threading.Thread(target=lambda: answers.append(backfill.upsert_issue("o/r", older)))
    writer.start()
    time.sleep(1.0)  # the older copy's upsert has read (or waits to read) the stored copy
    other.commit()
    writer.join(30)
    other.close()
    stored = open_store(store_url).issue("o/r", 1)
    assert stored is not None
    assert (stored["title"], answers) == ("edited", [False])
