"""Summaries of long threads (summarized in chunks, then merged): credited to the models that
wrote them, audited with every call they made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.jobs.summarize import write_summary
from bot.llm import ModelLayer
from bot.settings import load_settings
from bot.store import open_store
from tests.lifecycle.fakes import FakeGitHub, FakeRepo, day
from tests.lifecycle.test_summary import NOW, thread_of
from tests.llm import fake_local
from tests.llm.fake_openai import Behaviour, serve


def long_repo(n: int = 60) -> FakeRepo:
    gh = FakeGitHub(lambda: NOW)
    repo = gh.add_repo("o/r")
    repo.add_issue(7, "alice", day(0), body="The app crashes on start. It worked in 1.2.")
    for i in range(n):
        who, assoc = ("bob", "MEMBER") if i % 2 else ("carol", "NONE")
        text = f"Comment number {i} about the crash on start, with some detail words {i}. " * 4
        repo.say(7, who, text.strip(), day(1 + i * 0.1), assoc)
    return repo


def test_a_summary_no_model_wrote_is_not_credited_to_a_model(tmp_path: Path) -> None:
    """Every call fails (the large model answers 500, there is no local model): each chunk is
    its extractive text, merged without the model, and the comment said 'written by big-test'."""
    repo = long_repo()
    store = open_store(tmp_path / "s.db")
    with serve(Behaviour(mode="fail")) as url:
        settings = load_settings(
            data_dir=tmp_path / "data",
            env="test",
            model_path=tmp_path / "no-such-model.gguf",  # large-model-only set-up
            model_context=1024,  # a few chunks
            large_provider="openai",
            large_model="big-test",
            large_base_url=url,
            large_timeout_s=5,
            large_max_retries=0,
        )
        w = write_summary(ModelLayer(settings, store), thread_of(repo), settings)
    calls = list(store.rows("select status from model_calls where final = 1", []))
    assert len(calls) > 2 and {c["status"] for c in calls} == {"no_answer"}
    assert w.body is not None and w.how.startswith("extractive (") and "chunks" in w.how, w.how
    assert "written by" not in w.body
    assert (
        w.model is not None and w.model["model"] == "" and w.model["note"] == f"{len(calls)} calls"
    )


def test_a_long_summary_s_audit_record_names_every_model_that_wrote_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The large model writes the chunks (the local answers name an issue the thread does not,
    so they are escalated) and the local model merges. The audit record was the merge's alone:
    the local model, not escalated, so the digest's escalation count (read from the audit)
    missed the large model's calls."""
    script = fake_local.install(monkeypatch)

    def local(_backend: object, user: str) -> str:
        if "Partial summaries" in user:  # the merge: a clean, grounded answer
            return json.dumps(
                {
                    "problem": ["The app crashes on start. It worked in 1.2. [0]"],
                    "state": ["about the crash on start with some detail words [20]"],
                }
            )
        return json.dumps({"problem": ["the crash on start is #999 [1]"]})  # ungrounded

    script.replies = [local]
    path = fake_local.model_file(tmp_path / "m.gguf", b"qwen")
    repo = long_repo(24)
    store = open_store(tmp_path / "s.db")
    large = json.dumps({"problem": ["about the crash on start with some detail words [1]"]})
    with serve(Behaviour(replies=[large])) as url:
        s = load_settings(
            data_dir=tmp_path / "d",
            env="test",
            model_path=path,
            model_context=1024,
            large_provider="openai",
            large_model="big-test",
            large_base_url=url,
            large_max_retries=0,
        )
        w = write_summary(ModelLayer(s, store), thread_of(repo), s)
    escalated = store.rows(
        "select call_id from model_calls where backend = 'openai' and status = 'escalated'", []
    )
    assert len(list(escalated)) >= 2  # the large model answered the chunks
    assert w.body is not None and "chunks, merged" in w.how, w.how
    assert w.model is not None and w.model["escalated"], w.model
    local_name = next(r["model"] for r in store.rows("select model from model_calls", []))
    assert w.model["model"] == f"big-test, {local_name}", w.model
    assert w.how.startswith(f"written by big-test, {local_name} in ")
