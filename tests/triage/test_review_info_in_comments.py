"""The ask for missing details reads the reporter's own comments as part of the report: a bug
reopened (or an `opened` handled late) whose reporter gave the version, steps and log in the
thread is not asked for them again. Others' comments, quoted lines and hidden text do not count,
and the thread is read only when the body lacks something and the issue has comments."""

from __future__ import annotations

from typing import Any

from bot.jobs.triage import handle_issue_event
from bot.ports import CommentData
from tests.triage.conftest import issue_payload

BUG = ("App crashes with an exception when I click save", "It crashes every time I click save.")
DETAILS = (
    "Version 2.3.1. Steps to reproduce: 1. open a file 2. click save.\n"
    "Expected it to save, instead it crashes:\n```\nTypeError: boom\n```"
)
QUESTION = "Which version, and can you share the exact steps and the log?"


def note(cid: int, author: str, body: str) -> CommentData:
    return CommentData(cid, author, body, f"2025-06-0{cid}T00:00:00Z", "User")


def asks(host) -> list[Any]:  # type: ignore[no-untyped-def]
    return [w for k, w in host.writes if k == "comment"]


def counting(host) -> list[int]:  # type: ignore[no-untyped-def]
    """The numbers host.comments() is called with, in order."""
    calls: list[int] = []
    real = host.comments

    def comments(number: int) -> list[CommentData]:
        calls.append(number)
        return real(number)

    host.comments = comments
    return calls


def test_details_the_reporter_gave_in_a_comment_are_not_asked_for_again(ctx, host):
    n = host.add(*BUG, labels=["bug"]).number
    host.notes[n] = [note(1, "maint", QUESTION), note(2, "alice", DETAILS)]
    handle_issue_event(ctx, "d1", issue_payload(host, n, "reopened", sender="alice"))
    assert asks(host) == [] and "needs-info" not in host.issues[n].labels


def test_details_in_someone_else_s_comment_do_not_count(ctx, host):
    n = host.add(*BUG, labels=["bug"]).number
    host.notes[n] = [note(1, "bob", DETAILS)]  # another user's setup, not the reporter's
    handle_issue_event(ctx, "d1", issue_payload(host, n, "reopened", sender="alice"))
    assert len(asks(host)) == 1 and "needs-info" in host.issues[n].labels


def test_a_quoted_question_or_hidden_text_is_no_answer(ctx, host):
    n = host.add(*BUG, labels=["bug"]).number
    quoted = "\n".join(f"> {line}" for line in DETAILS.splitlines())
    hidden = f"same here\n<!-- {DETAILS} -->"
    host.notes[n] = [note(1, "alice", f"{quoted}\n\nI'll look it up"), note(2, "alice", hidden)]
    handle_issue_event(ctx, "d1", issue_payload(host, n, "reopened", sender="alice"))
    assert len(asks(host)) == 1


def test_only_what_the_comments_lack_is_asked_for(ctx, host):
    n = host.add(*BUG, labels=["bug"]).number
    host.notes[n] = [note(1, "Alice", "I am on version 2.3.1")]  # login case aside: hers
    handle_issue_event(ctx, "d1", issue_payload(host, n, "reopened", sender="alice"))
    ((_, body),) = asks(host)
    assert "the version you are using" not in body and "steps to reproduce" in body


def test_an_opened_event_handled_late_reads_the_comments_made_since(ctx, host):
    n = host.add(*BUG).number
    host.notes[n] = [note(1, "alice", DETAILS)]
    host.issues[n].comments = 1  # GitHub's count now; the payload's is from the opening
    payload = issue_payload(host, n)
    payload["issue"]["comments"] = 0
    handle_issue_event(ctx, "d1", payload)
    assert "bug" in host.issues[n].labels and asks(host) == []


def test_no_comments_then_or_now_none_are_read_for_the_report(ctx, host):
    n = host.add(*BUG).number
    calls = counting(host)
    payload = issue_payload(host, n)
    payload["issue"]["comments"] = 0
    handle_issue_event(ctx, "d1", payload)
    assert len(asks(host)) == 1
    assert calls == [n]  # only the one read before posting (no second ask), none for the report


def test_a_complete_body_reads_no_comments(ctx, host):
    body = f"{BUG[1]}\n\n{DETAILS}"
    n = host.add(BUG[0], body, labels=["bug"]).number
    host.notes[n] = [note(1, "alice", "thanks")]
    calls = counting(host)
    handle_issue_event(ctx, "d1", issue_payload(host, n, "reopened", sender="alice"))
    assert calls == [] and asks(host) == []
