"""A delivery may be handled late (retried after a 5xx or a rate limit, spooled, replayed by
`smolbot retry`): its command comment is read again from GitHub before anything runs. A comment
deleted since runs nothing; one edited since runs what it says now (still a new comment's
commands), and a command edited out is audited as not run."""

from __future__ import annotations

from typing import Any

import pytest

from bot.jobs.commands import DELETED, EDITED_OUT, handle_comment_event
from bot.ports import RateLimited, Unavailable
from tests.commands.conftest import REPO, bot_comments, comment_payload, repo_writes


def _rows(ctx: Any, number: int) -> list[tuple[str, str, str]]:
    return [(r["action"], r["outcome"], r["reason"]) for r in ctx.store.audit_rows(REPO, number)]


def test_a_command_comment_deleted_before_it_was_handled_runs_nothing(world: Any) -> None:
    state, ctx = world
    wrong = state.add_issue(REPO, "Unrelated").number
    n = state.add_issue(REPO, "Crash").number
    payload = comment_payload(n, f"/smolbot duplicate #{wrong}\n/smolbot ignore", "maint", on=state)
    # the maintainer saw the wrong number and deleted the comment before the delivery was handled
    cid = payload["comment"]["id"]
    del state.repos[REPO].comments[cid]
    state.repos[REPO].issues[n].comment_ids.remove(cid)
    handle_comment_event(ctx, "late", payload)
    assert state.issue(REPO, n).state == "open" and repo_writes(state) == []
    assert ctx.store.ignored_by(REPO, n) is None
    assert sorted(_rows(ctx, n)) == [
        ("command.duplicate", "skipped", DELETED),
        ("command.ignore", "skipped", DELETED),
    ]


def test_a_command_edited_before_it_was_handled_runs_as_it_reads_now(world: Any) -> None:
    state, ctx = world
    wrong = state.add_issue(REPO, "Unrelated").number
    right = state.add_issue(REPO, "Same crash").number
    n = state.add_issue(REPO, "Crash").number
    created = comment_payload(n, f"/smolbot duplicate #{wrong}", "maint", on=state)
    state.repos[REPO].comments[created["comment"]["id"]].body = f"/smolbot duplicate #{right}"
    handle_comment_event(ctx, "d-created", created)
    issue = state.issue(REPO, n)
    assert (issue.state, issue.state_reason) == ("closed", "duplicate")
    (reply,) = bot_comments(state, n)
    assert f"#{right}" in reply and f"#{wrong}" not in reply
    assert ("command.duplicate", "skipped", EDITED_OUT) in _rows(ctx, n)


def test_a_command_edited_out_before_it_was_handled_does_not_run(world: Any) -> None:
    state, ctx = world
    n = state.add_issue(REPO, "Crash").number
    payload = comment_payload(n, "/smolbot ignore", "maint", on=state)
    state.repos[REPO].comments[payload["comment"]["id"]].body = "Never mind, it works now."
    handle_comment_event(ctx, "late", payload)
    assert ctx.store.ignored_by(REPO, n) is None
    assert _rows(ctx, n) == [("command.ignore", "skipped", EDITED_OUT)]


@pytest.mark.parametrize("fault", ["502", "secondary limit"])
def test_a_failed_read_of_the_comment_is_retried_and_audited_once(world: Any, fault: str) -> None:
    state, ctx = world
    n = state.add_issue(REPO, "Crash").number
    payload = comment_payload(n, "/smolbot frobnicate\n/smolbot ignore", "maint", on=state)
    path = f"/issues/comments/{payload['comment']['id']}"
    if fault == "502":
        state.fail_next(1, status=502, match=path)
    else:
        state.secondary_limit(1, retry_after=1, match=path)
    with pytest.raises((Unavailable, RateLimited)):
        handle_comment_event(ctx, "c1", payload)
    assert _rows(ctx, n) == []  # nothing written before the read: the retry writes it once
    handle_comment_event(ctx, "c1", payload)  # as the queue retries the delivery
    assert ctx.store.ignored_by(REPO, n) == "maint"
    reasons = [r[2] for r in _rows(ctx, n)]
    assert [r for r in reasons if "frobnicate" in r] == [
        "unknown command 'frobnicate': /smolbot frobnicate"
    ], reasons
