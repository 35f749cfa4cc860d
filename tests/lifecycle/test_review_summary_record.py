"""A summary left as it is after the model was asked again keeps the model's record on its audit
row: `/smolbot summarize` twice on an unchanged thread, the model giving nothing both times, had
`model: None` on the second row though the model was asked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.jobs import summarize as job
from bot.jobs.context import JobContext
from bot.jobs.summarize import Written, summarize_issue
from bot.settings import load_settings
from bot.store import open_store
from tests.lifecycle.fakes import ScriptedModels
from tests.lifecycle.test_summary import NOW
from tests.lifecycle.test_summary_redo import thread_repo


def _rows(store: Any) -> list[tuple[str, str, str, Any]]:
    return [
        (r["action"], r["outcome"], r["reason"], json.loads(r["detail"]).get("model"))
        for r in store.audit_rows("o/r", 7)
    ]


def test_asked_again_over_an_unchanged_thread_records_the_model(tmp_path: Path) -> None:
    gh, repo = thread_repo()
    github: Any = gh
    host: Any = repo
    store = open_store(tmp_path / "s.db")
    down: Any = ScriptedModels()  # no valid answer
    ctx = JobContext(load_settings(data_dir=tmp_path, env="test"), store, github, down, lambda: NOW)
    assert summarize_issue(ctx, host, "o/r", 7, requested_by="bob") == "done"
    assert summarize_issue(ctx, host, "o/r", 7, requested_by="bob") == "skipped"
    assert len(down.prompts) == 2  # asked both times
    (_, outcome, reason, model) = _rows(store)[-1]
    assert outcome == "skipped" and reason.endswith("the model still gave no summary")
    assert model is not None and model["model"] == "scripted-model"
    assert model["prompt_version"] == "summary_thread@1"


def test_nothing_posted_records_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing the job can stand behind (even the extractive text failed the check): the NoOp's
    row has the record of the model that was asked."""
    gh, repo = thread_repo()
    github: Any = gh
    host: Any = repo
    store = open_store(tmp_path / "s.db")
    record = {"task": "summary", "backend": "scripted", "model": "m", "confidence": 0.4}
    nothing = Written(
        None, "nothing posted: even the extractive text failed the check", "h", record, ("x",)
    )
    monkeypatch.setattr(job, "write_summary", lambda *a, **k: nothing)
    models: Any = ScriptedModels()
    ctx = JobContext(
        load_settings(data_dir=tmp_path, env="test"), store, github, models, lambda: NOW
    )
    assert summarize_issue(ctx, host, "o/r", 7, requested_by="bob") == "skipped"
    (_, outcome, reason, model) = _rows(store)[-1]
    assert outcome == "skipped" and reason.startswith("nothing posted")
    assert model == record
