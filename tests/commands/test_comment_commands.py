"""`/smolbot` commands in comments, through handle_comment_event, the real store and the GitHub
adapter over HTTP against the fake GitHub: who may run them, what is not a command, and what a
refused or ambiguous command answers."""

from __future__ import annotations

from typing import Any

import pytest

from bot.jobs.commands import handle_comment_event
from bot.jobs.triage import handle_issue_event
from tests.commands.conftest import (
    CONFIG,
    REPO,
    bot_comments,
    comment_payload,
    issue_payload,
    repo_writes,
)


@pytest.mark.parametrize(
    "role,custom", [("read", None), ("triage", None), ("none", None), ("read", "contractor")]
)
def test_commands_of_people_without_write_access_do_nothing_and_are_audited(
    world: Any, role: str, custom: str | None
) -> None:
    state, ctx = world
    if role != "none":
        state.set_permission(REPO, "bob", role, custom=custom)
    first = state.add_issue(REPO, "Crash").number
    n = state.add_issue(REPO, "Crash again").number
    body = f"/smolbot duplicate #{first}\n/smolbot ignore\n/smolbot retriage\n/smolbot summarize"
    handle_comment_event(ctx, "c1", comment_payload(n, body, "bob", on=state))
    assert repo_writes(state) == [] and ctx.store.ignored_by(REPO, n) is None
    reasons = [r["reason"] for r in ctx.store.audit_rows(REPO, n)]
    assert len([r for r in reasons if "commands need write" in r]) == 4, reasons


def test_a_custom_role_based_on_write_may_run_commands(world: Any) -> None:
    state, ctx = world
    state.set_permission(REPO, "carol", "write", custom="release-manager")
    n = state.add_issue(REPO, "Crash").number
    handle_comment_event(ctx, "c1", comment_payload(n, "/SMOLBOT   Ignore  ", "carol", on=state))
    assert ctx.store.ignored_by(REPO, n) == "carol"


@pytest.mark.parametrize(
    "body",
    [
        "> /smolbot ignore",
        "```\n/smolbot ignore\n```",
        "~~~~\n```\n/smolbot ignore\n~~~~",
        "<!-- /smolbot ignore -->",
        "<!--\n/smolbot ignore\n",
        "    /smolbot ignore",
        "\t/smolbot ignore",
        "text /smolbot ignore",
        "`/smolbot ignore`",
    ],
)
def test_quoted_shown_or_hidden_commands_do_not_run(world: Any, body: str) -> None:
    state, ctx = world
    n = state.add_issue(REPO, "Crash").number
    handle_comment_event(ctx, "c1", comment_payload(n, body, "maint", on=state))
    assert ctx.store.ignored_by(REPO, n) is None


def test_commands_written_by_bots_or_the_bot_itself_do_not_run(world: Any) -> None:
    state, ctx = world
    state.set_permission(REPO, "smolbot[bot]", "admin")
    n = state.add_issue(REPO, "Crash").number
    for login in ("smolbot[bot]", "SmolBot[bot]"):
        handle_comment_event(ctx, "c1", comment_payload(n, "/smolbot ignore", login, on=state))
    p = comment_payload(n, "/smolbot ignore", "maint", on=state)
    p["comment"]["user"]["type"] = "Bot"
    handle_comment_event(ctx, "c2", p)
    assert ctx.store.ignored_by(REPO, n) is None and repo_writes(state) == []


@pytest.mark.parametrize("target", ["self", "pr", "missing", "deleted"])
def test_a_refused_duplicate_target_gets_one_reply_also_when_the_job_is_retried(
    world: Any, target: str
) -> None:
    state, ctx = world
    pr = state.add_issue(REPO, "A PR", is_pr=True).number
    gone = state.add_issue(REPO, "gone").number
    state.delete_issue(REPO, gone)
    n = state.add_issue(REPO, "Crash").number
    num = {"self": n, "pr": pr, "missing": 999, "deleted": gone}[target]
    payload = comment_payload(n, f"/smolbot duplicate #{num}", "maint", on=state)
    for d in ("c1", "c2"):  # the same comment handled twice (a retried job)
        handle_comment_event(ctx, d, payload)
    assert state.issue(REPO, n).state == "open"
    assert len(bot_comments(state, n)) == 1


def test_a_duplicate_of_another_repository_is_refused_and_dry_run_is_honoured(
    world: Any,
) -> None:
    state, ctx = world
    first = state.add_issue(REPO, "Crash").number
    n = state.add_issue(REPO, "Crash").number
    body = "/smolbot duplicate other/repo#1"
    handle_comment_event(ctx, "c1", comment_payload(n, body, "maint", on=state))
    assert repo_writes(state) == []
    state.put_file(REPO, CONFIG, "dry_run: true\n")
    body = f"/smolbot duplicate #{first}\n/smolbot duplicate #{n}"
    handle_comment_event(ctx, "c2", comment_payload(n, body, "maint", on=state))
    handle_comment_event(ctx, "c3", comment_payload(n, "/smolbot retriage", "maint", on=state))
    assert repo_writes(state) == [] and state.issue(REPO, n).state == "open"
    outcomes = {r["outcome"] for r in ctx.store.audit_rows(REPO, n)}
    assert "dry-run" in outcomes


def test_an_ignored_issue_is_left_alone_and_a_duplicate_command_closes_it_once(
    world: Any,
) -> None:
    state, ctx = world
    first = state.add_issue(REPO, "Crash").number
    n = state.add_issue(REPO, "Crash again").number
    handle_comment_event(ctx, "c1", comment_payload(n, "/smolbot ignore", "maint", on=state))
    for a in ("edited", "reopened"):
        handle_issue_event(ctx, a, issue_payload(state, n, a))
    assert repo_writes(state) == []
    payload = comment_payload(n, f"/smolbot duplicate #{first}", "maint", on=state)
    for _ in range(2):
        handle_comment_event(ctx, "c2", payload)
    i = state.issue(REPO, n)
    assert i.state == "closed" and i.state_reason == "duplicate"
    assert len(bot_comments(state, n)) == 1


def test_two_duplicate_targets_in_one_comment_close_nothing_and_get_one_reply(
    world: Any,
) -> None:
    state, ctx = world
    a = state.add_issue(REPO, "Crash").number
    b = state.add_issue(REPO, "Crash too").number
    n = state.add_issue(REPO, "Crash again").number
    body = f"/smolbot duplicate #{a}\noops, I meant:\n/smolbot duplicate #{b}"
    payload = comment_payload(n, body, "maint", on=state)
    for d in ("c1", "c2"):  # the same comment handled twice (a retried job)
        handle_comment_event(ctx, d, payload)
    assert state.issue(REPO, n).state == "open" and state.issue(REPO, n).labels == []
    (reply,) = bot_comments(state, n)
    assert f"#{a}" in reply and f"#{b}" in reply and "not closed" in reply
    reasons = [r["reason"] for r in ctx.store.audit_rows(REPO, n)]
    assert any("more than one issue" in r for r in reasons), reasons


def test_the_same_duplicate_target_twice_in_one_comment_closes_once(world: Any) -> None:
    state, ctx = world
    a = state.add_issue(REPO, "Crash").number
    n = state.add_issue(REPO, "Crash again").number
    body = f"/smolbot duplicate #{a}\nyes, really:\n/smolbot duplicate {a}"
    handle_comment_event(ctx, "c1", comment_payload(n, body, "maint", on=state))
    assert state.issue(REPO, n).state_reason == "duplicate"
    assert len(bot_comments(state, n)) == 1


def test_conflicting_duplicate_targets_of_a_non_writer_get_no_reply(world: Any) -> None:
    state, ctx = world
    a = state.add_issue(REPO, "Crash").number
    b = state.add_issue(REPO, "Crash too").number
    n = state.add_issue(REPO, "Crash again").number
    body = f"/smolbot duplicate #{a}\n/smolbot duplicate #{b}"
    handle_comment_event(ctx, "c1", comment_payload(n, body, "bob", on=state))
    assert repo_writes(state) == []


def test_an_edited_comment_with_a_command_is_audited_as_not_run(world: Any) -> None:
    state, ctx = world
    n = state.add_issue(REPO, "Crash on save", "It crashes").number
    payload = comment_payload(n, "Thanks!\n/smolbot ignore", "maint", action="edited")
    handle_comment_event(ctx, "e1", payload)
    assert ctx.store.ignored_by(REPO, n) is None and repo_writes(state) == []
    rows = [(r["action"], r["outcome"], r["reason"]) for r in ctx.store.audit_rows(REPO, n)]
    assert rows == [("command.ignore", "skipped", "not run: commands run only from new comments")]


def test_an_edited_comment_without_a_command_is_not_audited(world: Any) -> None:
    state, ctx = world
    n = state.add_issue(REPO, "Crash on save", "It crashes").number
    handle_comment_event(ctx, "e1", comment_payload(n, "Thanks!", "maint", action="edited"))
    assert ctx.store.audit_rows(REPO, n) == []
