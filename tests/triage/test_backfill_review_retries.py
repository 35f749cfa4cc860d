"""A backfill's listing counts GitHub's failures in a row, not all of them: one-off 5xx answers far
apart in a long listing each get the first, short wait, and never add up to a stop; a page that
keeps failing still stops it after its retries, with the waits growing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from bot.jobs.backfill import UNAVAILABLE_WAITS_S, backfill_repo
from bot.ports import IssueData, Unavailable
from tests.triage.conftest import REPO
from tests.triage.fakes import FakeRepoHost


def nine_issues_two_a_page(host: FakeRepoHost) -> None:
    """Pages 1-5, the last with one issue."""
    for i in range(9):
        host.add(f"Crash number {i} when saving", "it crashes", state="closed", labels=["bug"])
    host.page_size = 2


def failing(host: FakeRepoHost, times: dict[int, int]) -> None:
    """GitHub answers 502 to page p the first times[p] times it is asked for."""
    real, failed = host.issue_pages, Counter[int]()

    def pages(state: str = "all", first: int = 1) -> Iterator[list[IssueData]]:
        for page, items in enumerate(real(state, first), first):
            if failed[page] < times.get(page, 0):
                failed[page] += 1
                raise Unavailable("GitHub answered 502; retry later")
            yield items

    host.issue_pages = pages  # type: ignore[method-assign]


def test_one_off_errors_at_four_pages_do_not_stop_the_backfill(ctx, host):  # type: ignore[no-untyped-def]
    nine_issues_two_a_page(host)
    failing(host, {2: 1, 3: 1, 4: 1, 5: 1})
    slept: list[float] = []
    result = backfill_repo(ctx, host, REPO, sleep=slept.append)
    assert (result.next_page, result.stored) == (None, 9)
    assert slept == [UNAVAILABLE_WAITS_S[0]] * 4  # each the first of its run: no growth


def test_the_count_starts_again_once_the_listing_gets_further(ctx, host):  # type: ignore[no-untyped-def]
    """Page 2 fails three times in a row (the most the retries take), then page 4 once."""
    nine_issues_two_a_page(host)
    failing(host, {2: 3, 4: 1})
    slept: list[float] = []
    result = backfill_repo(ctx, host, REPO, sleep=slept.append)
    assert result.stored == 9
    assert slept == [*UNAVAILABLE_WAITS_S, UNAVAILABLE_WAITS_S[0]]


def test_a_page_that_keeps_failing_still_stops_it(ctx, host):  # type: ignore[no-untyped-def]
    """Each retry lists page 2 again before page 3 fails once more: page 2, fetched before, is
    no progress, so the failures at page 3 count up to the stop."""
    nine_issues_two_a_page(host)
    failing(host, {3: 10})
    slept: list[float] = []
    with pytest.raises(Unavailable):
        backfill_repo(ctx, host, REPO, sleep=slept.append)
    assert slept == list(UNAVAILABLE_WAITS_S)
    assert host.pages_fetched == [1, 2, 3, 2, 3, 2, 3, 2, 3]
