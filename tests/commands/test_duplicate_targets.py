"""The issue `/smolbot duplicate` names: #N, or this repository's issue as owner/repo#N or by
its URL. Two issues named in one comment (also on one line, `#5 or #7?`), or one beside a
duplicate line that cannot be read (another repository's issue), close nothing: one reply."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.commands import Command, conflicting_duplicates, parse_commands
from bot.jobs.commands import handle_comment_event
from tests.commands.conftest import REPO, bot_comments, comment_payload


@pytest.mark.parametrize(
    "line",
    [
        "/smolbot duplicate #7",
        "/smolbot duplicate 7",
        "/smolbot duplicate octo/app#7",
        "/smolbot duplicate Octo/App#7",
        "/smolbot duplicate https://github.com/octo/app/issues/7",
        "/smolbot duplicate https://github.com/octo/app/issues/7#issuecomment-12",
    ],
)
def test_this_repository_s_issue_may_be_named_in_full_or_by_its_url(line: str) -> None:
    assert parse_commands(line, REPO) == ([Command("duplicate", 7)], [])


@pytest.mark.parametrize(
    "line",
    ["/smolbot duplicate other/repo#7", "/smolbot duplicate https://github.com/other/app/issues/7"],
)
def test_another_repository_s_issue_is_rejected(line: str) -> None:
    commands, (rejected,) = parse_commands(line, REPO)
    assert commands == [] and "other/" in rejected.why


@pytest.mark.parametrize(
    "body",
    [
        "/smolbot duplicate #5\n/smolbot duplicate https://github.com/octo/app/issues/7\n",
        "/smolbot duplicate #5\n/smolbot duplicate octo/app#7\n",
        "/smolbot duplicate #5 or #7?\n",
        "/smolbot duplicate 5, or maybe #7\n",
        "/smolbot duplicate #5\n/smolbot duplicate other/repo#7\n",
        "/smolbot duplicate #5\n/smolbot duplicate the crash one\n",
    ],
    ids=["url", "full-name", "one-line", "bare-and-hash", "other-repo", "unreadable"],
)
def test_a_second_target_in_any_form_is_a_conflict(body: str) -> None:
    commands, rejected = parse_commands(body, REPO)
    to_run, named = conflicting_duplicates(commands, rejected)
    assert not [c for c in to_run if c.verb == "duplicate"] and "#5" in named


def test_the_same_issue_by_number_and_by_url_is_one_target() -> None:
    body = "/smolbot duplicate #7\n/smolbot duplicate https://github.com/octo/app/issues/7\n"
    commands, rejected = parse_commands(body, REPO)
    assert conflicting_duplicates(commands, rejected) == ([Command("duplicate", 7)], ())


def test_a_url_beside_a_number_closes_nothing_and_gets_one_reply(world: Any) -> None:
    state, ctx = world
    a = state.add_issue(REPO, "Crash").number
    b = state.add_issue(REPO, "Crash too").number
    n = state.add_issue(REPO, "Crash again").number
    body = f"/smolbot duplicate #{a}\n/smolbot duplicate https://github.com/{REPO}/issues/{b}\n"
    payload = comment_payload(n, body, "maint", on=state)
    for d in ("c1", "c2"):  # the same comment handled twice (a retried job)
        handle_comment_event(ctx, d, payload)
    assert state.issue(REPO, n).state == "open"
    (reply,) = bot_comments(state, n)
    assert f"#{a}" in reply and f"#{b}" in reply and "not closed" in reply


def test_two_issues_on_one_line_close_nothing(world: Any) -> None:
    state, ctx = world
    a = state.add_issue(REPO, "Crash").number
    b = state.add_issue(REPO, "Crash too").number
    n = state.add_issue(REPO, "Crash again").number
    handle_comment_event(
        ctx, "c1", comment_payload(n, f"/smolbot duplicate #{a} or #{b}?", "maint", on=state)
    )
    assert state.issue(REPO, n).state == "open"
    (reply,) = bot_comments(state, n)
    assert f"#{a}, #{b}" in reply


def test_another_repository_s_issue_beside_a_number_closes_nothing(world: Any) -> None:
    state, ctx = world
    a = state.add_issue(REPO, "Crash").number
    n = state.add_issue(REPO, "Crash again").number
    body = f"/smolbot duplicate #{a}\n/smolbot duplicate other/repo#3\n"
    handle_comment_event(ctx, "c1", comment_payload(n, body, "maint", on=state))
    assert state.issue(REPO, n).state == "open"
    (reply,) = bot_comments(state, n)
    assert f"#{a}" in reply and "could not read" in reply


def test_this_repository_s_issue_by_url_closes_as_its_duplicate(world: Any) -> None:
    state, ctx = world
    a = state.add_issue(REPO, "Crash").number
    n = state.add_issue(REPO, "Crash again").number
    body = f"/smolbot duplicate https://github.com/{REPO}/issues/{a}"
    handle_comment_event(ctx, "c1", comment_payload(n, body, "maint", on=state))
    assert state.issue(REPO, n).state_reason == "duplicate"


def test_on_github_enterprise_the_issue_url_on_the_server_s_host_closes(world: Any) -> None:
    """The host comes from the delivery's `repository.html_url` (a GitHub Enterprise Server's)."""
    state, ctx = world
    a = state.add_issue(REPO, "Crash").number
    n = state.add_issue(REPO, "Crash again").number
    body = f"/smolbot duplicate https://ghe.corp.example/{REPO}/issues/{a}"
    payload = comment_payload(n, body, "maint", on=state)
    payload["repository"]["html_url"] = f"https://ghe.corp.example/{REPO}"
    handle_comment_event(ctx, "c1", payload)
    assert state.issue(REPO, n).state_reason == "duplicate"
