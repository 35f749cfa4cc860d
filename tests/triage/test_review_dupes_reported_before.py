"""The duplicate advice says "This may have been reported before"; on a reopened or retriaged
issue it listed newer issues, even the one a maintainer closed as this issue's duplicate. Only
issues opened before this one (a lower number) are offered, for every trigger."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.core.duplicates import ADVICE_INTRO, likely_duplicates, reported_before
from bot.core.triage import IssueSnapshot
from bot.jobs.commands import handle_comment_event
from bot.jobs.triage import find_duplicates, handle_issue_event
from tests.triage.conftest import REPO, comment_payload, issue_payload
from tests.triage.test_policy import cands_st

CRASH = "Editor crashes when clicking save button"


def _advice(host, number):  # type: ignore[no-untyped-def]
    return [
        b
        for (w, (n, b)) in [x for x in host.writes if x[0] == "comment"]
        if n == number and ADVICE_INTRO in b
    ]


def _closed_as_duplicate_of_the_first(ctx, host):  # type: ignore[no-untyped-def]
    """The first report, then a newer copy a maintainer closes as its duplicate."""
    first = host.add(CRASH, "TypeError on save click").number
    handle_issue_event(ctx, "d1", issue_payload(host, first))
    assert not _advice(host, first)  # nothing similar when it was opened
    second = host.add(CRASH.replace("clicking", "clicking the"), "TypeError after save click")
    handle_issue_event(ctx, "d2", issue_payload(host, second.number))
    assert f"#{first} (open" in _advice(host, second.number)[0]
    handle_comment_event(
        ctx, "c1", comment_payload(host, second.number, f"/smolbot duplicate #{first}", "maint")
    )
    return first, second.number


def test_a_reopened_issue_is_not_told_its_newer_duplicate_came_before(ctx, host):  # type: ignore[no-untyped-def]
    first, second = _closed_as_duplicate_of_the_first(ctx, host)
    handle_issue_event(ctx, "d3", issue_payload(host, second, "closed"))
    handle_issue_event(ctx, "d4", issue_payload(host, first, "reopened"))  # a regression
    assert all(f"#{second} " not in b for b in _advice(host, first)), _advice(host, first)


def test_a_retriage_offers_no_newer_issue(ctx, host):  # type: ignore[no-untyped-def]
    first, second = _closed_as_duplicate_of_the_first(ctx, host)
    handle_comment_event(ctx, "c2", comment_payload(host, first, "/smolbot retriage", "maint"))
    assert all(f"#{second} " not in b for b in _advice(host, first)), _advice(host, first)


def test_newer_look_alikes_do_not_crowd_out_an_older_one(ctx):  # type: ignore[no-untyped-def]
    """The search asks for the k best of those before the issue, not the k best of all."""
    ctx.store.upsert_issue(REPO, {"number": 3, "title": "Editor crash on save", "body": "save"})
    for n in range(11, 19):
        ctx.store.upsert_issue(REPO, {"number": n, "title": CRASH, "body": "TypeError on save"})
    probe = IssueSnapshot(REPO, 10, CRASH, "TypeError on save click", "bob", (), "open")
    assert [c.number for c in find_duplicates(ctx, probe)] == [3]
    later = IssueSnapshot(REPO, 20, CRASH, "TypeError on save click", "bob", (), "open")
    assert [c.number for c in find_duplicates(ctx, later, k=9)] == [*range(11, 19), 3]


@given(cands_st, st.floats(0, 1), st.integers(1, 50))
def test_likely_duplicates_were_all_reported_before(cands, threshold, me):  # type: ignore[no-untyped-def]
    got = likely_duplicates(cands, threshold, exclude=me)
    assert all(c.number < me for c in got)
    older = [c for c in cands if c.number < me and c.score >= threshold]
    assert len(got) == min(3, len(older))  # none of the older ones lost to a newer one


@given(cands_st)
def test_an_issue_not_opened_yet_has_every_stored_one_before_it(cands):  # type: ignore[no-untyped-def]
    assert reported_before(cands, 0) == cands
