"""Summaries of long threads (summarized in chunks, then merged): credited to the models that
wrote them, audited with every call they made, merged within the model's context, and open
questions judged by the whole thread."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from bot.core import summary as S
from bot.core.lifecycle import Thread
from bot.jobs.summarize import budget_chars, write_summary
from bot.llm import ModelLayer
from bot.settings import Settings, load_settings
from bot.store import open_store
from tests.lifecycle.fakes import BOT, FakeGitHub, FakeRepo, ScriptedModels, day
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


def question_at_a_chunk_s_end(settings: Settings) -> Thread:
    """A thread whose question ends one chunk and whose answer opens the next."""
    filler = "The crash on start happens here too with the same stack trace and the same log. " * 8
    for q in range(1, 30):
        gh = FakeGitHub(lambda: NOW)
        repo = gh.add_repo("o/r")
        repo.add_issue(7, "alice", day(0), body="The app crashes on start. It worked in 1.2.")
        for i in range(30):
            if i == q:
                repo.say(
                    7, "bob", "Which version of Python do you use?", day(1 + i * 0.1), "MEMBER"
                )
            elif i == q + 1:
                repo.say(7, "alice", "Python 3.12 on Linux.", day(1 + i * 0.1))
            else:
                repo.say(7, "carol" if i % 2 else "dave", filler.strip(), day(1 + i * 0.1))
        thread = thread_of(repo)
        parts = S.chunks(S.entries(thread, BOT), budget_chars(settings))
        if any(p[-1].text.startswith("Which version") for p in parts[:-1]):
            return thread
    raise AssertionError("no thread with the question at a chunk's end")


def said(part: list[S.Entry]) -> dict[str, list[str]]:
    """What a model may write for one chunk: its entries' first words, each cited; a question
    that ends the chunk is open as far as the chunk shows."""
    claims = [f"{' '.join(e.text.split()[:9])} [{e.n}]" for e in part]
    questions = [c for c in claims if "?" in c]
    return {"problem": claims[:1], "tried": claims[1:4], "state": [], "open_questions": questions}


@pytest.mark.parametrize("by_model", ["nothing", "chunks", "chunks and merge"])
def test_a_question_answered_in_the_next_chunk_is_not_open(tmp_path: Path, by_model: str) -> None:
    """Each chunk's summary (the model's, or the extractive one) judges 'nobody answered' within
    its chunk: merged, a question answered at the start of the next chunk was posted as open."""
    s = load_settings(data_dir=tmp_path, env="test", model_context=1024)  # 1,500 chars a call
    thread = question_at_a_chunk_s_end(s)
    items = S.entries(thread, BOT)
    parts = S.chunks(items, budget_chars(s))
    answers = [said(p) if by_model != "nothing" else None for p in parts]
    if by_model == "chunks and merge":  # a merge of every chunk's claims, the question too
        tried = [c for a in answers if a for c in a["tried"]][-6:]
        asked = [c for a in answers if a for c in a["open_questions"]]
        merge = {"problem": [f"{items[0].text[:60]} [0]"], "tried": tried, "open_questions": asked}
        answers += [merge] * len(parts)
    models: Any = ScriptedModels(*answers)  # else no answer to any merge
    w = write_summary(models, thread, s, max_chunks=len(parts))  # every chunk read
    assert w.body is not None and "chunks" in w.how, w.how
    assert ("merged without the model" in w.how) is (by_model == "chunks"), w.how
    assert ("written by" in w.how) is (by_model != "nothing"), w.how
    assert "Which version of Python" not in w.body.split("**Open questions**")[-1], w.body


def test_merging_without_the_model_keeps_the_newest_of_what_was_tried() -> None:
    thread = thread_of(long_repo(8))
    items = S.entries(thread, BOT)
    parts = [
        S.ThreadSummary(tried=[f"{' '.join(e.text.split()[:5])} [{e.n}]" for e in items[a:b]])
        for a, b in ((1, 4), (4, 9))
    ]
    merged = S.merge_locally(parts)
    assert [S.cited_entries(S.ThreadSummary(tried=[c])) for c in merged.tried] == [
        {5},
        {6},
        {7},
        {8},
    ]


def test_the_merge_prompts_of_a_long_thread_fit_the_budget_of_one_call(tmp_path: Path) -> None:
    """Chunks are cut to what one call of the model holds, but the merge prompt had every chunk's
    summary unbounded: 500 comments made 21 kB, 5,042 tokens of the default model's 4,096, so the
    model refused it (PromptTooLong) and the merge was always the one without the model. They are
    merged in rounds, each prompt within the budget."""
    gh = FakeGitHub(lambda: NOW)
    repo = gh.add_repo("o/r")
    repo.add_issue(7, "alice", day(0), body="The app crashes on start. It worked in 1.2.")
    rng = random.Random(1)
    words = [
        "crash",
        "start",
        "python",
        "version",
        "install",
        "error",
        "stack",
        "trace",
        "log",
        "linux",
        "windows",
        "build",
    ]
    for i in range(500):
        text = " ".join(rng.choice(words) for _ in range(60))
        text = f"{text}. I tried a reinstall, still the same. Does it work?"
        repo.say(7, f"u{i % 7}", text, day(1 + i * 0.05))
    s = load_settings(data_dir=tmp_path, env="test")  # the default 4,096-token context
    parts = S.chunks(S.entries(thread_of(repo), BOT), budget_chars(s))

    def piece(part: list[S.Entry]) -> dict[str, list[str]]:
        """What the model may write for one chunk within its 320 tokens: short cited sentences."""
        said = [f"{' '.join(e.text.split()[:9])} [{e.n}]" for e in part]
        return {"problem": said[:3], "tried": said[3:7], "state": said[7:9], "open_questions": []}

    merged = {**piece(parts[-1]), "problem": ["The app crashes on start. It worked in 1.2. [0]"]}
    models: Any = ScriptedModels(*[piece(p) for p in parts], *[merged] * len(parts))
    w = write_summary(models, thread_of(repo), s, max_chunks=len(parts))  # every chunk read
    merges = [v["parts"] for p, v in models.prompts if p == "summary_merge"]
    assert len(merges) >= 2 and all(len(m) <= budget_chars(s) for m in merges), [
        len(m) for m in merges
    ]
    assert w.body is not None and w.how.startswith(
        f"written by scripted-model in {len(parts)} chunks, merged"
    ), w.how
