"""The daily prune keeps the model call log bounded, and /metrics' counters never go back.

Store.prune (SMOLBOT_RETENTION_DAYS) dropped delivery payloads and cached answers, but not
model_calls: a row per model call, for ever, and Records.call_totals (/metrics) summed the whole
table on every scrape: 3.7 s a scrape at 1,000,000 calls (0.6 s at 100,000), 128 MB of file. Now
the rows past the retention are summed into model_call_totals, then deleted."""

from __future__ import annotations

import time

from bot.llm.metrics import LATENCY_BUCKETS, render_metrics
from bot.llm.records import Records
from bot.store import Store
from tests.llm.test_metrics_sql import _calls, _same_exposition

CALL = {"call_id": "c", "final": 1, "task": "triage", "backend": "local", "status": "ok",
        "latency_ms": 125.0, "tokens_in": 10, "tokens_out": 2, "cache_hit": 0, "escalated": 0}  # fmt: skip


def _count(store: Store) -> int:
    return int(store.db.execute("select count(*) from model_calls").fetchone()[0])


def test_prune_keeps_the_call_log_bounded_without_changing_the_totals(any_store: Store) -> None:
    old, now = time.time() - 90 * 86400, time.time()
    t = any_store.db.table("model_calls")
    t.insert_all([{**CALL, "at": old + i, "call_id": f"o{i}"} for i in range(50)])
    t.insert({**CALL, "at": now, "call_id": "new"})
    before = Records(any_store).call_totals(LATENCY_BUCKETS)
    assert any_store.prune(now - 30 * 86400)["model_calls"] == 50
    assert Records(any_store).call_totals(LATENCY_BUCKETS) == before  # counters never go back
    assert _count(any_store) == 1, "only the recent call is kept"
    assert any_store.prune(now - 30 * 86400)["model_calls"] == 0  # the next day: nothing new


def test_every_series_of_metrics_is_unchanged_by_two_prunes(any_store: Store) -> None:
    """3,000 calls with every odd value (no task, no final, no latency; on a bucket's bound),
    folded in two daily prunes: the exposition stays what summing each call gave."""
    any_store.db.table("model_calls").insert_all(_calls(3000))  # at 1.7e9 + i
    text = render_metrics(any_store).decode()
    any_store.prune(1.7e9 + 1000)
    _same_exposition(text, render_metrics(any_store).decode())
    assert _count(any_store) == 2000
    any_store.prune(1.7e9 + 2500)  # folded into the totals already there
    _same_exposition(text, render_metrics(any_store).decode())
    assert _count(any_store) == 500
    assert len(list(any_store.db.table("model_call_totals").rows)) <= 5 * 5 * 3 * 3 * 5
