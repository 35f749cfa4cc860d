"""An issue deleted or transferred off a page the backfill has read, before it asks for the next
page, moves the newest-first listing up by one: the next page's first issue lands on the page
read. Each page boundary is checked, not only a part's first: the page read is listed again when
the numbers skip across the boundary, and only then."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from bot.jobs.backfill import backfill_repo
from bot.ports import IssueData
from tests.triage import test_e2e_http
from tests.triage.conftest import REPO
from tests.triage.fakes import FakeRepoHost
from tests.triage.test_e2e_http import closed_labeled, listed_pages

world = test_e2e_http.world


def live(host: FakeRepoHost, before: Callable[[int], None] = lambda page: None) -> None:
    """Each page read from the issues the host has when it is asked for (GitHub's listing, not
    a snapshot taken at the first page); before(page) runs first."""

    def pages(state: str = "all", first: int = 1) -> Iterator[list[IssueData]]:
        page, size = first, host.page_size
        while True:
            before(page)
            rows = sorted(host.issues.values(), key=lambda i: -i.number)
            items = rows[(page - 1) * size : page * size]
            host.pages_fetched.append(page)
            yield items
            if len(items) < size:
                return
            page += 1

    host.issue_pages = pages  # type: ignore[method-assign]


def ten(host: FakeRepoHost, pull_request: int | None = None) -> None:
    """#10-#1, 4 a page: [10-7], [6-3], [2, 1]; `pull_request`: that number is one."""
    for n in range(1, 11):
        host.add(f"Crash {n} on save", "it crashes", state="closed", labels=["bug"])
        if n == pull_request:
            host.issues[n].is_pull_request = True
    host.page_size = 4


def stored(ctx) -> set[int]:  # type: ignore[no-untyped-def]
    return {int(i["number"]) for i in ctx.store.issues(REPO) if i["state"] == "closed"}


def test_an_issue_deleted_before_the_next_page_does_not_skip_one(ctx, host):  # type: ignore[no-untyped-def]
    ten(host)
    live(host, lambda page: host.delete(9) if page == 2 else None)  # #6 moves up onto page 1
    backfill_repo(ctx, host, REPO)
    assert stored(ctx) == set(range(1, 11))  # #9 as page 1 gave it, #6 from page 1 again
    assert host.pages_fetched == [1, 2, 1, 3]  # page 1 again, once


def test_pages_whose_numbers_run_on_are_not_listed_again(ctx, host):  # type: ignore[no-untyped-def]
    """A pull request at a boundary is in the listing too: no gap there."""
    ten(host, pull_request=6)
    live(host)
    result = backfill_repo(ctx, host, REPO)
    assert (result.stored, result.skipped) == (9, 1)
    assert host.pages_fetched == [1, 2, 3]


def test_a_gap_that_was_always_there_costs_one_request(ctx, host):  # type: ignore[no-untyped-def]
    """#6 deleted before the backfill (or a Discussion's number, which the listing never has):
    [10-7], [5-2], [1]. The numbers skip from 7 to 5, so page 1 is listed again, once, and gives
    nothing new."""
    ten(host)
    host.delete(6)
    live(host)
    result = backfill_repo(ctx, host, REPO)
    assert result.seen == 9 and stored(ctx) == set(range(1, 11)) - {6}
    assert host.pages_fetched == [1, 2, 1, 3]


def test_an_issue_transferred_between_two_pages_is_stored(world):  # type: ignore[no-untyped-def]
    """Through the GitHub adapter: #120 is transferred after page 1 (#150-#51) is read, so #50
    moves up onto it."""
    state, ctx = world
    closed_labeled(state, 150)
    state.add_repo("octo/other", installation_id=1)
    read = [0]

    def progress(n: int) -> None:
        read[0] += n
        if read[0] == 100:
            state.transfer_issue(REPO, 120, "octo/other")

    backfill_repo(ctx, ctx.github.repo(1, REPO), REPO, progress=progress)
    rows = ctx.store.rows("select number from issues where repo = ?", [REPO])
    numbers = {int(r["number"]) for r in rows}
    assert numbers >= set(range(1, 151)) - {120}
    assert [page for page, _ in listed_pages(state)] == [1, 2, 1]
