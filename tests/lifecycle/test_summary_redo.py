"""Summaries: when an unchanged thread's summary is made again — asked for over an extractive
fallback once the model is back, and by the sweep once the repository is out of dry-run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.core import summary as S
from bot.core.markers import markers_in
from bot.github import GitHubApp
from bot.jobs.context import JobContext
from bot.jobs.lifecycle import sweep_installation
from bot.jobs.summarize import auto_summarize, summarize_issue
from bot.sandbox.fake_github.server import FakeGitHubServer
from bot.settings import load_settings
from bot.store import open_store
from tests.fake_github.plugin import make_settings
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


def test_turning_dry_run_off_lets_the_sweep_post_the_summary(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """In dry-run the sweep's summary is audited, not posted; it was remembered as made (the
    thread's hash and updated_at), so after `dry_run: false` the sweep skipped the thread and
    no summary came until someone commented again."""
    state, repo, day_s = fake_github.state, "octo/app", 86400.0
    state.add_installation(1, [repo])
    t0 = state.now() - 3 * day_s
    state.add_issue(repo, "Crash on start", "It crashes on start.", user="alice", created_at=t0)
    for i in range(22):
        who = ["bob", "carol", "dave", "erin"][i % 4]
        text = f"Same here, case {i}: it crashes with error E{i}."
        state.add_comment(repo, 1, text, user=who, created_at=t0 + (i + 1) * 600)
    state.put_file(repo, ".github/smolbot.yml", "dry_run: true\n")
    settings = make_settings(fake_github, tmp_path)
    store = open_store(settings.db_path)
    store.upsert_installation(1, "octo")
    store.add_repositories(1, [{"full_name": repo, "id": 1}])
    github = GitHubApp(settings, clock=state.now)
    ctx = JobContext(settings, store, github, now=lambda: datetime.fromtimestamp(state.now(), UTC))

    def summaries() -> list[str]:
        return [
            r["outcome"] for r in store.audit_rows(repo, 1, limit=200) if r["task"] == "summary"
        ]

    sweep_installation(ctx, 1, run_id="day-1", summarize=auto_summarize)
    sweep_installation(ctx, 1, run_id="day-1b", summarize=auto_summarize)
    assert summaries() == ["dry-run"] and state.writes() == []  # made once, not again and again

    state.put_file(repo, ".github/smolbot.yml", "dry_run: false\n")  # the maintainer is happy
    state.advance(day_s)
    sweep_installation(ctx, 1, run_id="day-2", summarize=auto_summarize)
    assert summaries() == ["dry-run", "done"]
    assert [c for c in state.comments(repo, 1) if S.SUMMARY_MARK in markers_in(c.body)]
