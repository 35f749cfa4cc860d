"""/metrics' model series summed by the database give what feeding every call to
prometheus_client's own metrics gave, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.llm.metrics import LATENCY_BUCKETS, render_metrics
from bot.llm.records import Records
from bot.store import Store

# on a bucket's bound, just past it, none at all, past the last one
LATENCIES = [None, 0.0, 5.0, 5.000001, 50.0, 250.0, 1000.0, 2500.0, 119999.9, 120000.0, 3.6e6]


def _calls(n: int) -> Iterator[dict[str, Any]]:
    rnd = random.Random(20260)
    for i in range(n):
        yield {
            "at": 1.7e9 + i,
            "call_id": f"c{i}",
            "final": rnd.choice([0, 1, 1, None]),
            "task": rnd.choice(["triage", "summary", "digest", None, ""]),
            "backend": rnd.choice(["classifier", "gpt4all", "openai", "", None]),
            "model": "m",
            "prompt_version": "p@1",
            "status": rnd.choice(["ok", "escalated", "no_answer", "not_escalated", None]),
            "confidence": rnd.random(),
            "escalated": rnd.choice([0, 1]),
            "latency_ms": rnd.choice([*LATENCIES, rnd.random() * 200_000, rnd.expovariate(1e-3)]),
            "tokens_in": rnd.choice([None, rnd.randrange(4000)]),
            "tokens_out": rnd.choice([None, rnd.randrange(400)]),
            "cache_hit": rnd.choice([0, 1, None]),
            "note": "",
        }


def per_call_metrics(store: Store) -> bytes:
    """render_metrics as it was: every call read into Python and observed one by one."""
    registry = CollectorRegistry()
    calls = Counter(
        "smolbot_model_calls",
        "Model calls by task, backend and cache hit",
        ["task", "backend", "cache_hit"],
        registry=registry,
    )
    answers = Counter(
        "smolbot_model_answers",
        "Answers returned to callers by task and status",
        ["task", "status"],
        registry=registry,
    )
    latency = Histogram(
        "smolbot_model_latency_seconds",
        "Latency of one model call",
        ["task", "backend"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    tokens = Counter(
        "smolbot_model_tokens",
        "Tokens in and out",
        ["task", "backend", "direction"],
        registry=registry,
    )
    share = Gauge(
        "smolbot_escalation_share",
        "Share of answers that escalated to the large model",
        ["task"],
        registry=registry,
    )
    per_task: dict[str, list[int]] = {}
    for r in Records(store).calls():
        task, backend = r["task"] or "", r["backend"] or ""
        calls.labels(task, backend, str(bool(r["cache_hit"])).lower()).inc()
        latency.labels(task, backend).observe(float(r["latency_ms"] or 0) / 1000)
        tokens.labels(task, backend, "in").inc(int(r["tokens_in"] or 0))
        tokens.labels(task, backend, "out").inc(int(r["tokens_out"] or 0))
        if r["final"]:
            answers.labels(task, r["status"] or "").inc()
            counts = per_task.setdefault(task, [0, 0])
            counts[0] += 1
            counts[1] += int(r["status"] == "escalated")
    for task, (n, esc) in per_task.items():
        share.labels(task).set(esc / n if n else 0.0)
    return bytes(generate_latest(registry))


def _same_exposition(before: str, after: str) -> None:
    """Line for line the same, but for `_created` (the scrape's time) and `_sum`, which the
    database adds in another order than one call after another (the last digit may differ)."""
    old, new = before.splitlines(), after.splitlines()
    assert len(old) == len(new)
    for was, now in zip(old, new, strict=True):
        was_series, _, was_value = was.rpartition(" ")
        now_series, _, now_value = now.rpartition(" ")
        if was.startswith("#") or not (
            was_series.startswith("smolbot_model_latency_seconds_sum") or "_created{" in was
        ):
            assert now == was
        else:
            assert now_series == was_series
            if "_sum{" in was:
                assert float(now_value) == pytest.approx(float(was_value), rel=1e-12)


def test_summed_by_the_database_the_exposition_is_what_per_call_metrics_gave(
    any_store: Store,
) -> None:
    any_store.db.table("model_calls").insert_all(_calls(3000))
    text = render_metrics(any_store).decode()
    _same_exposition(per_call_metrics(any_store).decode(), text)
    assert 'smolbot_model_latency_seconds_bucket{backend="",le="0.005",task=""}' in text


def test_no_calls_yet_gives_the_same_empty_families(any_store: Store) -> None:
    assert render_metrics(any_store) == per_call_metrics(any_store)


def test_the_database_sums_by_group_in_first_seen_order(any_store: Store) -> None:
    any_store.db.table("model_calls").insert_all(
        [
            {"task": "b", "backend": "x", "final": 1, "status": "ok", "latency_ms": 40.0},
            {"task": "a", "backend": "x", "final": 1, "status": "ok", "latency_ms": 600.0},
            {"task": "b", "backend": "x", "final": 1, "status": "ok", "latency_ms": None},
        ]
    )
    groups = Records(any_store).call_totals([0.05, 1.0])
    assert [(g["task"], int(g["calls"]), int(g["le0"]), int(g["le1"])) for g in groups] == [
        ("b", 2, 2, 2),
        ("a", 1, 0, 1),
    ]
    assert [float(g["seconds"]) for g in groups] == [0.04, 0.6]
