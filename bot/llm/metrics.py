"""Prometheus metrics of the model layer, built from the model_calls table (so every process counts)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

from bot.llm.records import Records
from bot.llm.stats import escalated
from bot.store import Store

LATENCY_BUCKETS = (0.005, 0.05, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


def render_metrics(store: Store) -> bytes:
    """Prometheus text exposition of model calls, answers, escalations, cache hits and latency.

    The database sums the call log (Records.call_totals): a scrape reads a few dozen groups, not
    every call (at 300,000 calls, 0.75 s instead of 2.7 s here; 5.7 s on a busier machine). The
    text is what prometheus_client's Counter, Histogram and Gauge gave when fed each call, series
    in the order they first appear; a `_sum` may differ in its last digits (another order of
    addition), and the `_created` series are, as they were, the time of the scrape.
    """
    totals = Totals()
    for group in Records(store).call_totals(LATENCY_BUCKETS):
        totals.add(group)
    registry = CollectorRegistry()
    registry.register(_Collected(totals.families(time.time())))
    return bytes(generate_latest(registry))


@dataclass
class Totals:
    """The metrics' values, summed from call_totals' groups (dicts keep first-seen order)."""

    calls: dict[tuple[str, str, str], int] = field(default_factory=dict)
    answers: dict[tuple[str, str], int] = field(default_factory=dict)
    backends: dict[tuple[str, str], list[float]] = field(default_factory=dict)  # le…, +Inf, sum
    tokens: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # in, out
    escalated: dict[str, list[int]] = field(default_factory=dict)  # answers, escalated

    def add(self, g: dict[str, Any]) -> None:
        task, backend, n = g["task"] or "", g["backend"] or "", int(g["calls"])
        hit = str(bool(g["cache_hit"])).lower()
        self.calls[(task, backend, hit)] = self.calls.get((task, backend, hit), 0) + n
        under = [int(g[f"le{i}"] or 0) for i in range(len(LATENCY_BUCKETS))]
        lat = self.backends.setdefault((task, backend), [0.0] * (len(LATENCY_BUCKETS) + 2))
        for i, v in enumerate([*under, n, float(g["seconds"] or 0)]):
            lat[i] += v
        tok = self.tokens.setdefault((task, backend), [0, 0])
        tok[0] += int(g["tokens_in"] or 0)
        tok[1] += int(g["tokens_out"] or 0)
        if g["final"]:
            status = g["status"] or ""
            self.answers[(task, status)] = self.answers.get((task, status), 0) + n
            esc = self.escalated.setdefault(task, [0, 0])
            esc[0] += n
            esc[1] += n if escalated(status) else 0

    def families(self, created: float) -> list[Metric]:
        calls = CounterMetricFamily(
            "smolbot_model_calls",
            "Model calls by task, backend and cache hit",
            labels=["task", "backend", "cache_hit"],
        )
        for series, n in self.calls.items():
            calls.add_metric(series, float(n), created=created)
        answers = CounterMetricFamily(
            "smolbot_model_answers",
            "Answers returned to callers by task and status",
            labels=["task", "status"],
        )
        for pair, n in self.answers.items():
            answers.add_metric(pair, float(n), created=created)
        return [calls, answers, self._latency(created), self._tokens(created), self._share()]

    def _latency(self, created: float) -> Metric:
        name = "smolbot_model_latency_seconds"
        latency = HistogramMetricFamily(
            name, "Latency of one model call", labels=["task", "backend"]
        )
        # the `le` labels as prometheus_client's Histogram writes them (untyped there)
        les = [floatToGoString(b) for b in LATENCY_BUCKETS] + ["+Inf"]  # type: ignore[no-untyped-call]
        for (task, backend), values in self.backends.items():
            buckets = [(le, float(n)) for le, n in zip(les, values[:-1], strict=True)]
            latency.add_metric([task, backend], buckets, values[-1])
            labels = {"task": task, "backend": backend}
            latency.samples.append(Sample(name + "_created", labels, created))
        return latency

    def _tokens(self, created: float) -> Metric:
        tokens = CounterMetricFamily(
            "smolbot_model_tokens", "Tokens in and out", labels=["task", "backend", "direction"]
        )
        for (task, backend), counts in self.tokens.items():
            for direction, n in zip(("in", "out"), counts, strict=True):
                tokens.add_metric([task, backend, direction], float(n), created=created)
        return tokens

    def _share(self) -> Metric:
        share = GaugeMetricFamily(
            "smolbot_escalation_share",
            "Share of answers that escalated to the large model",
            labels=["task"],
        )
        for task, (n, esc) in self.escalated.items():
            share.add_metric([task], esc / n if n else 0.0)
        return share


class _Collected:
    """A collector over metric families computed before the scrape's registry collects them."""

    def __init__(self, metrics: Sequence[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return iter(self.metrics)

    def describe(self) -> Iterator[Metric]:
        return iter(self.metrics)
