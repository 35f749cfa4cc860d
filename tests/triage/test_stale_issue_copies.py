"""A stale copy of an issue (a late or retried `issues.opened` delivery, a backfill page listed
before an edit or a deletion) never overwrites a newer one in the store: a deleted issue stays out
of duplicate search."""

from __future__ import annotations

import pytest

from bot.core.triage import IssueSnapshot
from bot.jobs.backfill import backfill_repo
from bot.jobs.triage import find_duplicates, handle_issue_event
from bot.ports import NotFound
from tests.triage.conftest import issue_payload


def _similar_to(ctx, host, title):  # type: ignore[no-untyped-def]
    probe = IssueSnapshot(host.repo, 999, title, "TypeError on save click", "bob", (), "open")
    return [c.number for c in find_duplicates(ctx, probe)]


def test_a_retried_opened_delivery_does_not_bring_a_deleted_issue_back(ctx, host):  # type: ignore[no-untyped-def]
    """Spam opened and deleted at once: the `opened` delivery's first run finds it gone (404, tried
    once more), the `deleted` delivery runs, then the `opened` delivery's retry runs."""
    spam = host.add("Editor crashes when clicking save button", "TypeError on save click")
    opened = issue_payload(host, spam.number, "opened")
    deleted = issue_payload(host, spam.number, "deleted")
    del host.issues[spam.number]
    with pytest.raises(NotFound):  # first run: 404, the dispatcher asks for one more run
        handle_issue_event(ctx, "d-open", opened)
    handle_issue_event(ctx, "d-del", deleted)
    assert ctx.store.issue(host.repo, spam.number)["state"] == "deleted"
    with pytest.raises(NotFound):  # the retry: 404 again, audited as skipped by the dispatcher
        handle_issue_event(ctx, "d-open", opened)
    assert spam.number not in _similar_to(ctx, host, "Editor crashes when I click save button")
    assert ctx.store.issue(host.repo, spam.number)["state"] == "deleted"


def test_a_backfill_page_listed_before_a_deletion_does_not_bring_the_issue_back(ctx, host):  # type: ignore[no-untyped-def]
    """The backfill lists a page, then the issue on it is deleted and its webhook handled (a fast
    worker) while the backfill is still storing that page's issues."""
    gone = host.add("Editor crashes when clicking save button", "TypeError on save click")
    host.add("Unrelated issue about docs", "typo in readme")  # listed first (newest first)
    deleted = issue_payload(host, gone.number, "deleted")
    fired: list[int] = []

    def progress(n: int) -> None:  # the webhook lands between the page's fetch and its storing
        if not fired:
            fired.append(n)
            del host.issues[gone.number]
            handle_issue_event(ctx, "d-del", deleted)

    backfill_repo(ctx, host, host.repo, progress=progress)
    assert fired
    assert gone.number not in _similar_to(ctx, host, "Editor crashes when I click save button")


def test_a_backfill_page_does_not_undo_a_newer_edit(ctx, host):  # type: ignore[no-untyped-def]
    """The issue is retitled (issues.edited handled) after its page was listed: the store keeps
    the newer title, not the listing's older one."""
    issue = host.add("Old title about a crash", "body")
    host.add("Another", "x")
    fired: list[int] = []

    def progress(n: int) -> None:
        if not fired:
            fired.append(n)
            payload = issue_payload(host, issue.number, "edited")
            payload["issue"].update(
                title="New title about a crash", updated_at="2026-01-05T00:00:00Z"
            )
            handle_issue_event(ctx, "d-edit", payload)

    backfill_repo(ctx, host, host.repo, progress=progress)
    assert ctx.store.issue(host.repo, issue.number)["title"] == "New title about a crash"


@pytest.mark.parametrize(
    ("stored", "incoming", "kept"),
    [
        (("open", "2026-01-02T00:00:00Z"), ("closed", "2026-01-03T00:00:00Z"), "closed"),  # newer
        (("closed", "2026-01-03T00:00:00Z"), ("open", "2026-01-02T00:00:00Z"), "closed"),  # stale
        (("open", "2026-01-02T00:00:00Z"), ("closed", "2026-01-02T00:00:00Z"), "closed"),  # a tie
        (("open", "2026-01-02T00:00:00Z"), ("closed", None), "closed"),  # of unknown age
        (("deleted", "2026-01-02T00:00:00Z"), ("open", "2026-01-02T00:00:00Z"), "deleted"),
        (("deleted", "2026-01-02T00:00:00Z"), ("open", None), "deleted"),
        (("transferred", "2026-01-02T00:00:00Z"), ("open", "2026-01-02T00:00:01Z"), "open"),
        (("open", "2026-01-05T00:00:00Z"), ("deleted", "2026-01-02T00:00:00Z"), "deleted"),
    ],
)
def test_the_store_keeps_the_newest_copy_and_a_deletion(store, stored, incoming, kept):  # type: ignore[no-untyped-def]
    for state, updated in (stored, incoming):
        store.upsert_issue("octo/app", {"number": 1, "state": state, "updated_at": updated})
    assert store.issue("octo/app", 1)["state"] == kept
