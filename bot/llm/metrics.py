"""Prometheus metrics of the model layer, built from the model_calls table (so every process counts)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.llm.records import Records
from bot.store import Store

LATENCY_BUCKETS = (0.005, 0.05, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


def render_metrics(store: Store) -> bytes:
    """Prometheus text exposition of model calls, answers, escalations, cache hits and latency."""
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
