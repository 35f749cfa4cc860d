"""A backfill that lists a repository to its end asks GitHub about the stored issues it did not
list: one deleted or transferred while no webhook reached the bot (the App uninstalled and
installed again, a delivery in the dead letters) leaves duplicate search."""

from __future__ import annotations

from dataclasses import replace

from bot.core.triage import IssueSnapshot
from bot.jobs import backfill
from bot.jobs.backfill import backfill_repo
from bot.jobs.triage import find_duplicates, handle_issue_event
from tests.triage.conftest import issue_payload

CRASH = "Editor crashes when clicking save button"


def _found(ctx, host):  # type: ignore[no-untyped-def]
    probe = IssueSnapshot(
        host.repo, 999, CRASH.replace("clicking", "I click"), "TypeError", "b", ()
    )
    return [c.number for c in find_duplicates(ctx, probe)]


def _stored_then_gone(ctx, host):  # type: ignore[no-untyped-def]
    """An issue stored from its webhook, then another one opened (listed), then the first gone."""
    gone = host.add(CRASH, "TypeError on save click")
    handle_issue_event(ctx, "d1", issue_payload(host, gone.number))
    host.add("Unrelated issue about docs", "typo in readme")
    return gone


def test_a_full_backfill_drops_issues_github_no_longer_lists(ctx, host):  # type: ignore[no-untyped-def]
    gone = _stored_then_gone(ctx, host)
    del host.issues[gone.number]  # deleted while the App was not installed: no webhook came
    result = backfill_repo(ctx, host, host.repo)  # the reinstall's backfill, listed to the end
    assert result.next_page is None and result.seen == 1 and result.gone == 1
    assert gone.number not in _found(ctx, host)
    assert ctx.store.issue(host.repo, gone.number)["state"] == "deleted"
    (row,) = [r for r in ctx.store.audit_rows(host.repo) if r["action"] == "backfill"]
    assert "1 no longer on GitHub" in row["reason"], row["reason"]


def test_an_issue_github_redirects_elsewhere_is_marked_transferred(ctx, host):  # type: ignore[no-untyped-def]
    gone = _stored_then_gone(ctx, host)
    del host.issues[gone.number]
    host.moved[gone.number] = replace(gone, repo="octo/other", number=41)
    backfill_repo(ctx, host, host.repo)
    assert ctx.store.issue(host.repo, gone.number)["state"] == "transferred"
    assert gone.number not in _found(ctx, host)


def test_an_unlisted_issue_github_still_has_stays(ctx, host):  # type: ignore[no-untyped-def]
    """Its stored copy is newer than the listing's (the listing dropped as stale): asked about,
    it is there, and it stays open."""
    kept = _stored_then_gone(ctx, host)
    payload = issue_payload(host, kept.number, "edited")
    payload["issue"]["updated_at"] = "2026-01-05T00:00:00Z"  # newer than the host's copy
    handle_issue_event(ctx, "d2", payload)
    result = backfill_repo(ctx, host, host.repo)
    assert result.gone == 0 and host.issue_reads.count(kept.number) >= 1
    assert ctx.store.issue(host.repo, kept.number)["state"] == "open"


def test_only_the_part_at_the_listing_s_end_asks(ctx, host):  # type: ignore[no-untyped-def]
    host.page_size = 1
    gone_issue = _stored_then_gone(ctx, host).number
    host.add("A third issue", "x")
    del host.issues[gone_issue]
    reads = len(host.issue_reads)
    part = backfill_repo(ctx, host, host.repo, max_pages=1)  # the first part, not the end
    assert part.next_page == 2 and part.gone == 0 and len(host.issue_reads) == reads
    assert ctx.store.issue(host.repo, gone_issue)["state"] == "open"
    at, gone = backfill.Part().after(part), 0
    while part.next_page is not None:  # the parts after it, the last at the listing's end
        part = backfill_repo(ctx, host, host.repo, max_pages=1, part=at)
        at, gone = at.after(part), gone + part.gone
    assert gone == 1 and ctx.store.issue(host.repo, gone_issue)["state"] == "deleted"


def test_a_backfill_asks_about_a_bounded_number_of_issues(ctx, host, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(backfill, "MAX_GONE_CHECKS", 2)
    numbers = []
    for i in range(3):
        issue = host.add(f"{CRASH} {i}", "TypeError on save click")
        handle_issue_event(ctx, f"d{i}", issue_payload(host, issue.number))
        numbers.append(issue.number)
    host.add("Unrelated issue about docs", "typo in readme")
    for n in numbers:
        del host.issues[n]
    first = backfill_repo(ctx, host, host.repo)
    assert first.gone == 2 and first.unchecked == 1
    (row,) = [r for r in ctx.store.audit_rows(host.repo) if r["action"] == "backfill"]
    assert "1 more" in row["reason"], row["reason"]
    again = backfill_repo(ctx, host, host.repo)
    assert again.gone == 1 and again.unchecked == 0
    assert all(ctx.store.issue(host.repo, n)["state"] == "deleted" for n in numbers)
