"""The bot takes needs-info off only when it is its own (its ask comment is on the issue) and the
report now has what it asked for; a needs-info someone else set (a maintainer waiting for a
config file) stays, and the audit says why."""

from __future__ import annotations

from bot.core.actions import NoOp, RemoveLabel
from bot.core.config import Kind, RepoConfig
from bot.core.triage import IssueSnapshot, info_actions
from bot.jobs.triage import handle_issue_event
from bot.ports import CommentData
from tests.triage.conftest import REPO, issue_payload

FULL = (
    "Version 2.3.1.\n\nSteps to reproduce:\n1. open\n2. click save\n\n"
    "Expected it to save, but instead it crashes:\n```\nTypeError: boom\n```"
)
BUG = ("App crashes with an exception when I click save", "It crashes every time I click save.")
LEFT = "needs-info was set by someone else; left for them"


def reasons(ctx, number: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["reason"] for r in ctx.store.audit_rows(REPO, number, limit=50)]


def bot_ask(host) -> CommentData:  # type: ignore[no-untyped-def]
    body = "Could you add …\n\n<!-- smolbot:triage:needs-info -->\n"
    return CommentData(1, host.bot, body, "2026-01-03T00:00:00Z", "Bot")


def test_a_maintainer_s_needs_info_stays_when_the_title_is_fixed(ctx, host):
    n = host.add("App crahses on save", FULL, labels=["bug", "needs-info"]).number
    host.issues[n].title = "App crashes on save"
    handle_issue_event(ctx, "d1", issue_payload(host, n, "edited"))
    assert host.issues[n].labels == ["bug", "needs-info"] and host.writes == []
    assert LEFT in reasons(ctx, n)
    assert not any("now has what was asked" in r for r in reasons(ctx, n))


def test_a_maintainer_s_needs_info_stays_when_the_issue_is_reopened(ctx, host):
    n = host.add("App crashes on save", FULL, labels=["bug", "needs-info"]).number
    handle_issue_event(ctx, "d1", issue_payload(host, n, "reopened"))
    assert "needs-info" in host.issues[n].labels and host.writes == []
    assert LEFT in reasons(ctx, n)


def test_the_bot_s_own_needs_info_goes_once_the_details_are_there(ctx, host):
    n = host.add("App crashes on save", FULL, labels=["bug", "needs-info"]).number
    host.notes[n] = [bot_ask(host)]
    handle_issue_event(ctx, "d1", issue_payload(host, n, "edited"))
    assert host.issues[n].labels == ["bug"]
    assert "the report now has what was asked for" in reasons(ctx, n)


def test_the_bot_s_needs_info_goes_when_the_answer_is_in_the_reporter_s_comment(ctx, host):
    n = host.add(*BUG).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert "needs-info" in host.issues[n].labels
    host.notes[n].append(CommentData(2, "alice", FULL, "2026-01-04T00:00:00Z", "User"))
    host.issues[n].title = "App crashes with an exception when I click Save"
    handle_issue_event(ctx, "d2", issue_payload(host, n, "edited"))
    assert host.issues[n].labels == ["bug"]


def test_policy_leaves_needs_info_it_did_not_ask_for():
    issue = IssueSnapshot("o/r", 7, "t", "b", "alice", ("bug", "Needs-Info"))
    assert info_actions(Kind.BUG, (), issue, RepoConfig()) == [
        NoOp("Needs-Info was set by someone else; left for them", "remove_label")
    ]
    assert info_actions(Kind.BUG, (), issue, RepoConfig(), asked=True) == [
        RemoveLabel("Needs-Info", "the report now has what was asked for")
    ]
