"""The summary's Waiting-on line: brought up to date when only the wait changed, and not judged on
a pull request."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.core import summary as S
from bot.jobs.context import JobContext
from bot.jobs.summarize import summarize_issue, write_summary
from bot.settings import load_settings
from bot.store import open_store
from tests.lifecycle.fakes import BOT, FakeGitHub, ScriptedModels, day
from tests.lifecycle.test_summary import NOW, thread_of


def _waiting(repo: Any) -> str:
    (body,) = [c.body for c in repo.comment_list[7] if c.author == BOT]
    return S.waiting_in(body) or ""


def test_a_label_or_an_assignment_brings_the_waiting_line_up_to_date(tmp_path: Path) -> None:
    """The hash covers the comments only: after a maintainer added needs-info (no comment), the
    sweep and `/smolbot summarize` both found the summary "up to date", its line still saying
    the team owed an answer. The line alone is rewritten, with no model call."""
    gh = FakeGitHub(lambda: NOW)
    repo = gh.add_repo("o/r")
    repo.add_issue(7, "alice", day(0), body="The app crashes on start. It worked in 1.2.")
    repo.say(7, "bob", "Confirmed, I can reproduce it with 1.3 as well.", day(1), "MEMBER")
    repo.say(7, "alice", "Thanks. I tried a reinstall, still the same crash.", day(2))
    answer = {
        "problem": ["The app crashes on start [0]"],
        "tried": ["Alice tried a reinstall, still the same crash [2]"],
        "state": ["Bob can reproduce it with 1.3 [1]"],
        "open_questions": [],
    }
    models = ScriptedModels(answer)
    settings = load_settings(data_dir=tmp_path, env="test")
    ctx = JobContext(settings, open_store(tmp_path / "s.db"), gh, models, lambda: NOW)
    assert summarize_issue(ctx, repo, "o/r", 7, requested_by="bob") == "done"
    assert _waiting(repo).startswith("**Waiting on:** the maintainer (`bob`)")
    (before,) = [c.body for c in repo.comment_list[7] if c.author == BOT]
    repo.issues[7] = replace(repo.issues[7], assignees=["dave"], labels=["needs-info"])
    repo.event(7, "assigned", "bob", day(3), assignee="dave")
    repo.event(7, "labeled", "bob", day(3), label="needs-info")
    assert summarize_issue(ctx, repo, "o/r", 7) == "done"  # the sweep's call: nobody asked
    assert (
        _waiting(repo)
        == "**Waiting on:** the author (`alice`) since 2026-01-04 — label needs-info is set"
    )
    (after,) = [c.body for c in repo.comment_list[7] if c.author == BOT]
    assert after.replace(S.waiting_in(after) or "", "") == before.replace(
        S.waiting_in(before) or "", ""
    )  # the claims and markers as they were
    assert len(models.prompts) == 1  # no second model call
    assert "Waiting-on line brought up to date" in ctx.store.audit_rows("o/r", 7)[-1]["reason"]
    assert summarize_issue(ctx, repo, "o/r", 7) == "skipped"  # and now it is up to date


def test_a_pull_request_s_wait_is_not_judged(tmp_path: Path) -> None:
    """The lifecycle judges no pull request: pushes and reviews answer there, and the bot reads
    neither. A summary said the PR waited on its author for a question a push had answered."""
    gh = FakeGitHub(lambda: NOW)
    repo = gh.add_repo("o/r")
    repo.add_issue(7, "alice", day(0), body="This adds a CSV export.", is_pull_request=True)
    repo.say(7, "carol", "Could you add a test for the empty report?", day(1), "MEMBER")
    w = write_summary(None, thread_of(repo), load_settings(data_dir=tmp_path, env="test"))
    assert w.body is not None
    assert S.waiting_in(w.body) == S.WAITING + S.NOT_JUDGED
    assert "from 1 comments (not its reviews)" in w.body
    assert "the author (`alice`)" not in w.body
