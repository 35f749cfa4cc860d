"""A repository's digest counts its own model escalations, from its own audit rows: never another
installation's (the model_calls table has no repository column)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from bot.core.config import parse_config
from bot.core.digest import render_body
from bot.jobs.digest import build_digest, parse_ts
from bot.samples import SAMPLE_REPO, load_sample
from bot.samples.host import SampleHost
from bot.store import open_store


def _record(escalated: bool, latency: float) -> dict[str, object]:
    return {
        "task": "triage",
        "backend": "gpt4all",
        "model": "q",
        "prompt_version": "p@1",
        "confidence": 0.3,
        "escalated": escalated,
        "latency_ms": latency,
    }


def test_only_this_repository_s_escalations_are_counted(tmp_path: Path) -> None:
    store = open_store(tmp_path / "bot.db")
    now = time.time()
    others = [
        {"at": now - 60 * i, "call_id": f"x{i}", "final": 1, "task": "triage", "escalated": 1}
        for i in range(40)
    ]
    store.db.table("model_calls").insert_all(others)  # another installation's private repository
    store.audit("add_labels", "done", "bug", task="triage", repo="someone/private", number=3,
                detail={"model": _record(True, 5.0)})  # fmt: skip
    escalated = _record(True, 812.5)  # one answer behind two actions: counted once
    store.audit("add_labels", "done", "bug", task="triage", repo=SAMPLE_REPO, number=7,
                detail={"model": escalated})  # fmt: skip
    store.audit("comment", "done", "asked", task="triage", repo=SAMPLE_REPO, number=7,
                detail={"model": escalated})  # fmt: skip
    store.audit("add_labels", "done", "docs", task="triage", repo=SAMPLE_REPO, number=8,
                detail={"model": _record(False, 301.0)})  # fmt: skip
    store.audit("close", "done", "stale", task="lifecycle.sweep", repo=SAMPLE_REPO, number=9)
    data = load_sample()
    d = build_digest(
        SampleHost(data),
        store,
        SAMPLE_REPO,
        parse_config(data["config"]),
        parse_ts(data["now"]),
        audit_until=datetime.now(UTC),
    )
    assert (d.counts["escalations"], d.counts["model_calls"]) == (1, 2)
    assert "- model escalations: 1\n" in render_body(d)
