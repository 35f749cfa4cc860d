"""Summaries: when the local model is unavailable, the public comment says so in general terms;
the error's details (the model file's path on the server, the operator's fix) stay in the audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.jobs.context import JobContext
from bot.jobs.summarize import summarize_issue, write_summary
from bot.llm.api import ModelUnavailable
from bot.store import open_store
from tests.lifecycle.fakes import BOT, FakeGitHub, ScriptedModels, day
from tests.lifecycle.test_summary import repo_with_thread, settings, thread_of

SECRET = "/home/deploy/.local/share/smolbot/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


class Down(ScriptedModels):
    def ask(self, *a: Any, **kw: Any) -> Any:  # as ModelLayer.ask says a missing model file
        raise ModelUnavailable(f"no model file at {SECRET}; run `smolbot models install`")


def test_a_model_outage_does_not_publish_the_server_s_paths(tmp_path: Path) -> None:
    w = write_summary(Down(), thread_of(repo_with_thread()), settings(tmp_path))
    assert w.body is not None
    assert "/home/deploy" not in w.body and "smolbot models install" not in w.body
    assert "extractive (local model unavailable)" in w.body  # still says why it is extractive
    assert "/home/deploy" not in w.how
    assert any(SECRET in p for p in w.problems)  # the operator's copy has the details


def test_the_audit_keeps_the_outage_s_details(tmp_path: Path) -> None:
    repo = repo_with_thread()
    gh = FakeGitHub(lambda: day(10))
    gh.repos["o/r"] = repo
    store = open_store(tmp_path / "s.db")
    ctx = JobContext(settings(tmp_path), store, gh, Down(), lambda: day(10))
    assert summarize_issue(ctx, repo, "o/r", 7, requested_by="bob") == "done"
    posted = [c.body for c in repo.comment_list[7] if c.author == BOT]
    assert len(posted) == 1 and SECRET not in posted[0]
    reasons = [r["reason"] for r in store.rows("select reason from audit where number = 7", [])]
    assert any(SECRET in r for r in reasons), reasons
