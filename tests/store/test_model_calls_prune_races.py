"""/metrics' model-call counters and the daily prune in another process at the same time.

call_totals read model_calls, then model_call_totals, in two statements: a prune committing in
between counted the calls it folded twice, and the next scrape went back. Two prunes at once on
PostgreSQL (the beat's, a second worker's) each rewrote the totals from what they had read
before the other committed: those calls were counted twice for good."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from typing import Any

import psycopg
import pytest

from bot.llm.metrics import LATENCY_BUCKETS
from bot.llm.records import Records
from bot.store import Store, open_store

CALL = {"call_id": "c", "final": 1, "task": "triage", "backend": "local", "status": "ok",
        "latency_ms": 125.0, "tokens_in": 10, "tokens_out": 2, "cache_hit": 0, "escalated": 0}  # fmt: skip
OLD = time.time() - 90 * 86400
CUTOFF = time.time() - 30 * 86400


def _calls(store: Store) -> int:
    return sum(int(g["calls"]) for g in Records(store).call_totals(LATENCY_BUCKETS))


def _seed(store: Store) -> None:
    t = store.db.table("model_calls")
    t.insert_all([{**CALL, "at": OLD + i, "call_id": f"o{i}"} for i in range(10)])
    t.insert({**CALL, "at": time.time(), "call_id": "new"})


def test_two_prunes_at_once_count_each_call_once(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = open_store(store_url)
    second = open_store(store_url, migrate=False)  # another process's connection
    _seed(first)
    assert _calls(first) == 11
    real = Records._folded
    other: list[threading.Thread] = []

    def folded(self: Records, bounds: Any) -> list[dict[str, Any]]:
        """The other prune starts while this one is inside its fold, and has time to commit."""
        if self.store is second and not other:
            other.append(threading.Thread(target=first.prune, args=[CUTOFF]))
            other[0].start()
            time.sleep(0.5)
        return real(self, bounds)

    monkeypatch.setattr(Records, "_folded", folded)
    # on SQLite the later writer fails as an outage (database is locked), retried next day
    with contextlib.suppress(sqlite3.OperationalError, psycopg.OperationalError):
        second.prune(CUTOFF)
    other[0].join(timeout=30)
    monkeypatch.undo()
    assert _calls(first) == 11, "calls counted twice by two prunes at once"
    second.close()
    first.close()


def test_metrics_counters_never_go_back_during_a_prune(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = open_store(store_url)
    reads = open_store(store_url, migrate=False)  # the web's read connection (/metrics)
    _seed(writer)
    real = reads.db.query
    pruned: list[dict[str, int]] = []

    def query(*args: Any, **kwargs: Any) -> Any:
        """The worker's prune commits just after /metrics' first statement."""
        rows = list(real(*args, **kwargs))
        if not pruned:
            pruned.append(writer.prune(CUTOFF))
        return iter(rows)

    monkeypatch.setattr(reads.db, "query", query)
    during = _calls(reads)  # a scrape while the worker's prune commits
    monkeypatch.undo()
    assert pruned and pruned[0]["model_calls"] == 10
    after = _calls(reads)  # the next scrape
    assert during == after == 11, f"scrape during the prune {during}, next scrape {after}"
    reads.close()
    writer.close()
