"""Summaries: two runs on one issue at once (the sweep's auto-summary takes no issue lock, a
`/smolbot summarize` job does) leave one summary comment, not two."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.core import summary as S
from bot.core.markers import with_marker
from bot.jobs.context import JobContext
from bot.jobs.summarize import summarize_issue, write_summary
from bot.store import open_store
from tests.lifecycle.fakes import BOT, FakeGitHub, ScriptedModels, day
from tests.lifecycle.test_summary import repo_with_thread, settings, thread_of


def test_a_summary_posted_while_the_model_ran_is_edited_not_duplicated(tmp_path: Path) -> None:
    """Each run reads the thread, then asks the model for seconds to minutes: the one that posts
    second must find the first one's comment, not the thread as it read it before the call."""
    repo = repo_with_thread()
    gh = FakeGitHub(lambda: day(10))
    gh.repos["o/r"] = repo
    ctx = JobContext(settings(tmp_path), open_store(tmp_path / "s.db"), gh, None, lambda: day(10))
    thread = thread_of(repo)  # read before the model call, as the sweep passes it
    answer = {
        "problem": ["The app crashes on start [0]"],
        "tried": [],
        "state": [],
        "open_questions": [],
    }

    class Racing(ScriptedModels):
        def ask(self, *a: Any, **kw: Any) -> Any:  # meanwhile another run posts its summary
            other = write_summary(None, thread, ctx.settings)
            assert other.body is not None
            repo.create_comment(7, with_marker(other.body, S.SUMMARY_MARK))
            return super().ask(*a, **kw)

    ctx.models = Racing(answer)
    outcome = summarize_issue(ctx, repo, "o/r", 7, thread=thread, requested_by="bob")
    assert outcome == "done"
    summaries = [c for c in repo.comment_list[7] if c.author == BOT]
    assert len(summaries) == 1, [w[0] for w in repo.writes]
    assert [w[0] for w in repo.writes] == ["comment", "edit"]  # the other run's, then ours
