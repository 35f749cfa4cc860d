"""Aggregates over the model_calls table: calls, cache hit rate, escalation share, latency percentiles."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

# One definition of "escalated", for `smolbot stats`, /metrics and the dashboard: the answer the
# caller got was the large model's. A large answer itself under the bar ends "not_escalated"
# (not acted on): its call record says escalated=1 (the large model was asked), it is not counted.
ESCALATED = "escalated"
ESCALATED_SQL = f"case when status = '{ESCALATED}' then 1 else 0 end"  # per final row, in SQL


def escalated(status: str | None) -> bool:
    """Whether an answer (a final call record) with this status counts as escalated."""
    return status == ESCALATED


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    idx = min(round(q / 100 * (len(ordered) - 1)), len(ordered) - 1)
    return round(ordered[idx], 1)


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per task: answers, escalations and their share, cache hits; per task/backend: latency."""
    tasks: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"answers": 0, "escalated": 0, "no_answer": 0, "not_escalated": 0}
    )
    lat: dict[tuple[str, str], list[float]] = defaultdict(list)
    cache_hits = 0
    for r in rows:
        lat[(r["task"], r["backend"])].append(float(r["latency_ms"] or 0.0))
        cache_hits += int(r["cache_hit"] or 0)
        if r["final"]:
            t = tasks[r["task"]]
            t["answers"] += 1
            t["escalated"] += int(escalated(r["status"]))
            t["no_answer"] += int(r["status"] == "no_answer")
            t["not_escalated"] += int(r["status"] == "not_escalated")
    for t in tasks.values():
        t["escalation_share"] = round(t["escalated"] / t["answers"], 4) if t["answers"] else 0.0
    calls = len(rows)
    backends = {
        f"{task}/{backend}": {
            "calls": len(v),
            "p50_ms": percentile(v, 50),
            "p95_ms": percentile(v, 95),
        }
        for (task, backend), v in sorted(lat.items())
    }
    return {
        "calls": calls,
        "cache_hits": cache_hits,
        "cache_hit_rate": round(cache_hits / calls, 4) if calls else 0.0,
        "escalations": sum(t["escalated"] for t in tasks.values()),
        "escalation_share": _share(tasks),
        "tasks": dict(tasks),
        "latency": backends,
    }


def _share(tasks: dict[str, dict[str, Any]]) -> float:
    answers = sum(t["answers"] for t in tasks.values())
    return round(sum(t["escalated"] for t in tasks.values()) / answers, 4) if answers else 0.0
