"""The weekly digest's audit row carries the model's record: the digest posted lines the model
wrote, and its `digest done` row held only the week; lines rejected and calls that failed were
only logged."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.core.config import parse_config
from bot.jobs.digest import post_weekly_digest
from bot.llm.api import Answer, ModelRecord
from bot.samples import SAMPLE_REPO
from bot.store import Store
from tests.digest.test_job import setup

GOOD = "Cookie lacks the Secure flag behind a TLS proxy; a fix is assigned."


class MixedModels:
    """Answers in turn: a good line, an invented number, a failure, no valid answer, then good."""

    def __init__(self) -> None:
        self.calls = 0

    def ask(self, task: str, prompt: str, variables: Mapping[str, Any], schema: Any) -> Answer[Any]:
        self.calls += 1
        record = ModelRecord(task, "scripted", "scripted-7b", "digest_line@1", 0.8, False, 2.0)
        if self.calls == 2:
            return Answer(schema(line="Same as #999, see the advisory."), 0.8, record)
        if self.calls == 3:
            raise RuntimeError("backend went away")
        if self.calls == 4:
            return Answer(None, 0.0, record, "no_answer")
        return Answer(schema(line=GOOD), 0.8, record)


def _digest_rows(store: Store) -> list[dict[str, Any]]:
    return [r for r in store.audit_rows(SAMPLE_REPO) if r["action"] == "digest"]


def test_the_digest_row_holds_the_model_record_and_why_lines_were_rejected(store: Store) -> None:
    host, clock = setup()
    cfg = parse_config(host.data["config"])
    models: Any = MixedModels()
    run = post_weekly_digest(host, store, SAMPLE_REPO, cfg, clock, models=models)
    (row,) = _digest_rows(store)
    assert row["outcome"] == "done"
    detail = json.loads(row["detail"])
    assert detail["week"] == run.digest.week
    model = detail["model"]
    asked = models.calls
    assert asked >= 5
    assert (model["task"], model["backend"], model["model"]) == (
        "digest",
        "scripted",
        "scripted-7b",
    )
    assert model["prompt_version"] == "digest_line@1" and model["confidence"] == 0.8
    assert model["latency_ms"] == 2.0 * (asked - 1)  # the failed call made no record
    assert model["lines"] == run.model_lines == asked - 3
    rejected = model["rejected"]
    assert len(rejected) == 3
    reasons = list(rejected.values())
    assert any(w.startswith("invented issue number: #999") for w in reasons), reasons
    assert "model failed: RuntimeError" in reasons
    assert "no valid answer (no_answer)" in reasons
    assert all(len(w) <= 120 for w in reasons)
    assert model["note"] == f"{asked} calls (1 failed); {asked - 3} lines the model's, 3 rejected"


def test_a_dry_run_digest_row_holds_it_too(store: Store) -> None:
    host, clock = setup()
    cfg = parse_config(host.data["config"]).model_copy(update={"dry_run": True})
    models: Any = MixedModels()
    post_weekly_digest(host, store, SAMPLE_REPO, cfg, clock, models=models)
    (row,) = _digest_rows(store)
    assert row["outcome"] == "dry-run"
    assert json.loads(row["detail"])["model"]["lines"] == models.calls - 3


def test_without_a_model_the_row_holds_only_the_week(store: Store) -> None:
    host, clock = setup()
    cfg = parse_config(host.data["config"])
    post_weekly_digest(host, store, SAMPLE_REPO, cfg, clock)
    (row,) = _digest_rows(store)
    assert set(json.loads(row["detail"])) == {"week"}
