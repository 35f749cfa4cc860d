"""Commands on a locked issue: GitHub refuses an App's comment there (403 "Unable to create
comment because issue is locked.", as the fake answers too). What is no comment is still done
(the label, the close); each comment not posted is an audited decision, never a failure the
worker retries or dead-letters: known from the issue as read, or from GitHub's refusal when the
issue was not read (or was locked after)."""

from __future__ import annotations

from typing import Any

import pytest
from github import GithubException

from bot.github.errors import translate_exception
from bot.jobs.commands import handle_comment_event
from bot.jobs.lifecycle import load_thread
from bot.jobs.summarize import summarize_issue
from bot.ports import GitHubError, Locked
from tests.commands.conftest import REPO, bot_comments, comment_payload, repo_writes

LOCKED = "issue is locked: no comment posted"


def _rows(ctx: Any, number: int) -> list[tuple[str, str, str]]:
    return [(r["action"], r["outcome"], r["reason"]) for r in ctx.store.audit_rows(REPO, number)]


def _comment_posts(state: Any, number: int) -> list[str]:
    return [w for w in repo_writes(state) if w == f"POST /repos/{REPO}/issues/{number}/comments"]


def test_the_fake_refuses_an_app_s_comment_on_a_locked_issue_as_github_does(world: Any) -> None:
    state, ctx = world
    n = state.add_issue(REPO, "Crash", locked=True).number
    with pytest.raises(Locked, match="Unable to create comment because issue is locked"):
        ctx.github.repo(1, REPO).create_comment(n, "Hello")
    assert state.comments(REPO, n) == []


def test_a_duplicate_command_on_a_locked_issue_labels_and_closes_it_without_a_comment(
    world: Any,
) -> None:
    state, ctx = world
    original = state.add_issue(REPO, "Crash").number
    n = state.add_issue(REPO, "Crash again").number
    payload = comment_payload(n, f"/smolbot duplicate #{original}", "maint", on=state)
    state.issue(REPO, n).locked = True  # a maintainer locked the heated thread
    handle_comment_event(ctx, "c1", payload)
    issue = state.issue(REPO, n)
    assert (issue.state, issue.state_reason, issue.labels) == ("closed", "duplicate", ["duplicate"])
    assert _comment_posts(state, n) == []  # known locked from the issue read for its labels
    reason = f"{LOCKED} (maint marked it a duplicate of #{original})"
    assert ("comment", "skipped", reason) in _rows(ctx, n)


def test_a_refusal_on_an_issue_locked_unseen_is_audited_not_retried(world: Any) -> None:
    """The refusal's reply is the only write, and nothing read the issue first: GitHub's 403
    says it is locked, and that is the audited decision."""
    state, ctx = world
    n = state.add_issue(REPO, "Crash").number
    payload = comment_payload(n, f"/smolbot duplicate #{n}", "maint", on=state)
    state.issue(REPO, n).locked = True
    handle_comment_event(ctx, "c1", payload)
    assert _comment_posts(state, n) == [f"POST /repos/{REPO}/issues/{n}/comments"]
    assert bot_comments(state, n) == [] and state.issue(REPO, n).state == "open"
    rows = _rows(ctx, n)
    assert [r for r in rows if r[0] == "comment"] == [
        ("comment", "skipped", f"{LOCKED} (maint: #{n} is this issue itself)")
    ], rows


def test_a_summary_asked_for_on_a_locked_issue_is_not_written(world: Any) -> None:
    state, ctx = world
    n = state.add_issue(REPO, "Crash", "It crashes on start.").number
    payload = comment_payload(n, "/smolbot summarize", "maint", on=state)
    state.issue(REPO, n).locked = True
    handle_comment_event(ctx, "c1", payload)
    assert repo_writes(state) == []
    assert ("summary", "skipped", f"{LOCKED} (asked by maint)") in _rows(ctx, n)


def test_a_summary_of_an_issue_locked_after_its_thread_was_read_is_not_remembered(
    world: Any,
) -> None:
    state, ctx = world
    n = state.add_issue(REPO, "Crash", "It crashes on start.").number
    state.add_comment(REPO, n, "Same here, since 2.0.", user="bob")
    host = ctx.github.repo(1, REPO)
    thread = load_thread(host, n)
    state.issue(REPO, n).locked = True
    outcome = summarize_issue(ctx, host, REPO, n, requested_by="maint", thread=thread)
    assert outcome == "skipped" and bot_comments(state, n) == []
    assert _comment_posts(state, n) == [f"POST /repos/{REPO}/issues/{n}/comments"]
    (row,) = [r for r in _rows(ctx, n) if r[0] == "upsert_comment"]
    assert row[1] == "skipped" and row[2].startswith(LOCKED), row
    # nothing was posted, so nothing is remembered as posted: unlocked, it is summarized again
    assert list(ctx.store.db.table("summaries").rows) == []


@pytest.mark.parametrize(
    ("message", "locked"),
    [
        ("Unable to create comment because issue is locked.", True),
        ("Repository is locked for migration", False),
        ("Resource not accessible by integration", False),
    ],
)
def test_only_github_s_locked_issue_refusal_is_a_locked_issue(message: str, locked: bool) -> None:
    mapped = translate_exception(GithubException(403, {"message": message}, {}))
    assert isinstance(mapped, GitHubError) and isinstance(mapped, Locked) == locked
