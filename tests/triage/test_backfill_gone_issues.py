"""A backfill that lists a repository to its end asks GitHub about the stored issues it did not
list: one deleted or transferred while no webhook reached the bot (the App uninstalled and
installed again, a delivery in the dead letters) leaves duplicate search."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.triage import IssueSnapshot
from bot.jobs import backfill
from bot.jobs.backfill import backfill_repo
from bot.jobs.triage import find_duplicates, handle_issue_event
from bot.ports import NotFound
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
    host.delete(gone.number)  # deleted while the App was not installed: no webhook came
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
    host.delete(gone_issue)
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
        host.delete(n)
    first = backfill_repo(ctx, host, host.repo)
    assert first.gone == 2 and first.unchecked == 1
    (row,) = [r for r in ctx.store.audit_rows(host.repo) if r["action"] == "backfill"]
    assert "1 more" in row["reason"], row["reason"]
    again = backfill_repo(ctx, host, host.repo)
    assert again.gone == 1 and again.unchecked == 0
    assert all(ctx.store.issue(host.repo, n)["state"] == "deleted" for n in numbers)


def test_an_issue_github_answers_404_for_is_left_alone_and_comes_back_when_listed(ctx, host):  # type: ignore[no-untyped-def]
    """A 404 can pass (an author hidden as spam, the installation briefly without the repository):
    the row is not marked deleted but left for the next complete backfill, which lists it again."""
    kept = host.add(CRASH, "TypeError on save click")
    host.add("Unrelated issue about docs", "typo in readme")
    backfill_repo(ctx, host, host.repo)
    saved = host.issues.pop(kept.number)  # hidden: not listed, 404 when asked
    hidden = backfill_repo(ctx, host, host.repo)
    assert hidden.gone == 0 and hidden.unchecked == 1
    assert ctx.store.issue(host.repo, kept.number)["state"] == "open"
    (row,) = [r for r in ctx.store.audit_rows(host.repo, limit=1) if r["action"] == "backfill"]
    assert "1 more stored issues it did not list" in row["reason"], row["reason"]
    host.issues[kept.number] = saved  # visible again, same updated_at
    again = backfill_repo(ctx, host, host.repo)
    assert again.stored == 2 and ctx.store.issue(host.repo, kept.number)["state"] == "open"


def test_stored_counts_only_the_copies_kept(ctx, host):  # type: ignore[no-untyped-def]
    """A listed copy older than the stored one (an edit delivered after the page was listed) is
    dropped, and not counted as stored."""
    kept = _stored_then_gone(ctx, host)
    payload = issue_payload(host, kept.number, "edited")
    payload["issue"]["updated_at"] = "2026-01-05T00:00:00Z"  # newer than the listing's copy
    handle_issue_event(ctx, "d2", payload)
    assert backfill_repo(ctx, host, host.repo).stored == 1


def test_a_late_edit_delivery_does_not_bring_back_an_issue_the_backfill_found_deleted(ctx, host):  # type: ignore[no-untyped-def]
    """The mark carries the time of the check: an edit made before it (a retried delivery) is
    older, and only a copy changed after the issue was seen gone replaces it."""
    gone = host.add(CRASH, "TypeError on save click")
    handle_issue_event(ctx, "d1", issue_payload(host, gone.number))  # stored, updated 01-02
    host.add("Unrelated issue about docs", "typo in readme")
    host.issues[gone.number] = replace(gone, title=CRASH + "!", updated_at="2026-01-03T00:00:00Z")
    edited = issue_payload(host, gone.number, "edited")  # its delivery is late (retried)
    host.delete(gone.number)  # deleted 01-04; the `deleted` delivery never came
    assert backfill_repo(ctx, host, host.repo).gone == 1
    with pytest.raises(NotFound):
        handle_issue_event(ctx, "d-edit", edited)  # the late edit's run: 410 on the fetch
    assert ctx.store.issue(host.repo, gone.number)["state"] == "deleted"


def test_an_issue_transferred_to_the_same_number_elsewhere_is_marked_transferred(ctx, host):  # type: ignore[no-untyped-def]
    """GitHub's 301 for a transferred issue is followed (PyGithub's requester does); the new
    repository may well give it the same number (#1 of a young repository)."""
    gone = _stored_then_gone(ctx, host)
    del host.issues[gone.number]
    other = "https://github.com/octo/other/issues/1"
    host.moved[gone.number] = replace(gone, repo="octo/other", html_url=other)
    result = backfill_repo(ctx, host, host.repo)
    assert result.gone == 1
    assert ctx.store.issue(host.repo, gone.number)["state"] == "transferred"


def test_an_issue_of_a_repository_renamed_meanwhile_stays(ctx, host):  # type: ignore[no-untyped-def]
    """A renamed repository answers 301 too: the issue, at the name the listing gave, is there."""
    kept = _stored_then_gone(ctx, host)
    newer = replace(host.issues.pop(kept.number), updated_at="2026-01-03T00:00:00Z")
    for n, issue in host.issues.items():  # the listing says the new name
        host.issues[n] = replace(issue, html_url=f"https://github.com/octo/app2/issues/{n}")
    host.moved[kept.number] = replace(newer, html_url="https://github.com/octo/app2/issues/1")
    result = backfill_repo(ctx, host, host.repo)
    assert result.gone == 0 and result.unchecked == 0
    row = ctx.store.issue(host.repo, kept.number)
    assert row["state"] == "open" and row["updated_at"] == "2026-01-03T00:00:00Z"
