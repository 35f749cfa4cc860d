"""Summaries: when an unchanged thread's summary is made again — asked for over an extractive
fallback once the model is back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.core import summary as S
from bot.jobs.context import JobContext
from bot.jobs.summarize import summarize_issue
from bot.settings import load_settings
from bot.store import open_store
from tests.lifecycle.fakes import BOT, FakeGitHub, FakeRepo, ScriptedModels, day
from tests.lifecycle.test_summary import NOW

ANSWER = {
    "problem": ["The app crashes on start since 1.2 [0]"],
    "tried": ["A reinstall did not help [2]"],
    "state": ["Downgrading to 1.2 is a workaround [3]"],
    "open_questions": [],
}


def thread_repo() -> tuple[FakeGitHub, FakeRepo]:
    gh = FakeGitHub(lambda: NOW)
    repo = gh.add_repo("o/r")
    repo.add_issue(7, "alice", day(0), body="The app crashes on start. It worked in 1.2.")
    repo.say(7, "bob", "Which version of Python do you use?", day(1), "MEMBER")
    repo.say(7, "alice", "Python 3.12. I tried a reinstall, still the same crash.", day(2))
    repo.say(7, "carol", "Same here; downgrading to 1.2 is a workaround.", day(3))
    return gh, repo


def summary_body(repo: FakeRepo) -> str:
    (body,) = [c.body for c in repo.comment_list[7] if c.author == BOT]
    return body


def test_an_asked_for_summary_replaces_a_fallback_once_the_model_answers(tmp_path: Path) -> None:
    """The first summary fell back to the extractive one (the model gave nothing: down, over
    budget, unusable). The model is back and a maintainer asks `/smolbot summarize`: the job
    said 'summary up to date', as the thread's hash had not changed, and the fallback stayed."""
    gh, repo = thread_repo()
    github: Any = gh
    host: Any = repo
    s = load_settings(data_dir=tmp_path, env="test")
    store = open_store(tmp_path / "s.db")
    down: Any = ScriptedModels()  # no valid answer
    ctx = JobContext(s, store, github, down, lambda: NOW)
    assert summarize_issue(ctx, host, "o/r", 7, requested_by="bob") == "done"
    assert S.summary_kind_in(summary_body(repo)) == "extractive"
    assert summarize_issue(ctx, host, "o/r", 7) == "skipped"  # the sweep's
    # asked again while the model still gives nothing: the same kind, nothing to redo
    assert summarize_issue(ctx, host, "o/r", 7, requested_by="bob") == "skipped"
    assert [w[0] for w in repo.writes] == ["comment"] and len(down.prompts) == 2
    assert store.audit_rows("o/r", 7)[-1]["reason"].endswith("the model still gave no summary")
    back: Any = ScriptedModels(ANSWER)
    ctx.models = back  # the model is back
    assert summarize_issue(ctx, host, "o/r", 7, requested_by="bob") == "done"
    body = summary_body(repo)
    assert "written by scripted-model" in body and S.summary_kind_in(body) == "model"
    # the model's summary of the same thread is not redone, asked for or not
    assert summarize_issue(ctx, host, "o/r", 7, requested_by="bob") == "skipped"
    assert [w[0] for w in repo.writes] == ["comment", "edit"] and len(back.prompts) == 1
