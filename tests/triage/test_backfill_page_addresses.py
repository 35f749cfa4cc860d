"""Past the pages GitHub gives by number (?page= is refused past about 10,000 issues; the adapter
asks by number up to PAGE_PARAM_LAST, then follows the Link header's `after=` cursor), each page
a backfill asks again costs one request: the cursor row keeps the address of its page (and of
the page before it), so a queued backfill's next part, a retry after a 5xx and the check for an
issue moved up at a gap in the numbers (_moved_up) ask that address, instead of walking there
again from page PAGE_PARAM_LAST (a restart every few pages made a large backfill's requests grow
with the square of its pages: 40,000 issues in parts of 5 pages took ~9,270 listing requests).
Scaled down, over HTTP against the fake GitHub: it refuses ?page= past 200 issues, and the
adapter asks by number up to page 2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import bot.github.repo as adapter
from bot.github import GitHubApp
from bot.jobs.backfill import Part, backfill_repo, cursor
from bot.jobs.context import JobContext
from bot.sandbox.fake_github.web import CURSOR
from bot.store import open_store
from tests.fake_github import FakeGitHubServer
from tests.fake_github.plugin import make_settings

REPO = "octo/big"
PAGES = 10  # of 100 issues


@pytest.fixture
def big(
    fake_github: FakeGitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[JobContext]:
    """PAGES pages of issues; ?page= refused past page 2, asked by number up to page 2."""
    monkeypatch.setattr(adapter, "PAGE_PARAM_LAST", 2)
    st = fake_github.state
    st.page_param_cap = 200
    st.add_repo(REPO, 7)
    for n in range(PAGES * 100):
        st.add_issue(REPO, f"Issue {n}", "body", state="closed")
    settings = make_settings(fake_github, tmp_path)
    github = GitHubApp(settings)
    ctx = JobContext(settings, open_store(settings.db_path), github=github)
    yield ctx
    ctx.store.close()
    github.close()


def listings(fake_github: FakeGitHubServer) -> list[str]:
    """The issue listing's requests so far, each as its path and query."""
    got = fake_github.state.requests("GET", f"/repos/{REPO}/issues")
    return [f"{r.path}?{r.query}" for r in got if r.path.endswith("/issues")]


def in_parts(ctx: JobContext, pages: int) -> int:
    """A queued backfill, `pages` pages a part, each part run after the one before: how many."""
    host = ctx.github.repo(7, REPO)  # type: ignore[union-attr]
    result, parts = backfill_repo(ctx, host, REPO, max_pages=pages), 1
    at = Part().after(result)
    while result.next_page is not None:
        row = cursor(ctx.store, REPO)
        assert row is not None and row["status"] == "continuing"
        if result.next_page > adapter.PAGE_PARAM_LAST:  # where the next part asks
            assert f"after={CURSOR}{result.next_page}" in row["page_address"], row
        result, parts = backfill_repo(ctx, host, REPO, max_pages=pages, part=at), parts + 1
        at = at.after(result)
    return parts


def gap_at_each_page_boundary(fake_github: FakeGitHubServer) -> int:
    """A number the listing skips (a Discussion's, an issue deleted long ago) between each page's
    last issue and the next page's first, PAGES full pages still: how many gaps."""
    st = fake_github.state
    for n in range(PAGES - 1):
        st.add_issue(REPO, f"Issue {PAGES * 100 + n}", "body", state="closed")
    numbers = sorted(st.repos[REPO].issues, reverse=True)
    for p in range(1, PAGES):  # the first of page p + 1, after the p - 1 deleted above it
        st.delete_issue(REPO, numbers[p * 100 + p - 1])
    return PAGES - 1


def test_each_queued_part_past_the_page_number_limit_asks_its_first_page_once(
    big: JobContext, fake_github: FakeGitHubServer
) -> None:
    """Five parts of two pages: one request a page (it was 64 for 15 pages: each part walked
    from page 2 to its own first page)."""
    assert in_parts(big, 2) == PAGES // 2
    assert len(big.store.issues(REPO)) == PAGES * 100
    asked = listings(fake_github)
    assert len(asked) == PAGES, asked
    assert not [r for r in fake_github.state.requests("GET", "/issues") if r.status == 422]


@pytest.mark.parametrize("pages_a_part", [None, 2])
def test_a_gap_in_the_numbers_at_each_page_boundary_costs_one_request_each(
    big: JobContext, fake_github: FakeGitHubServer, pages_a_part: int | None
) -> None:
    """At a page boundary the numbers skip across, the page before is listed again (an issue
    deleted meanwhile would have moved up onto it): by its address, one request, in one run and
    at a part's first page (the part before it kept that page's address). It walked from page 2
    each time: 107 requests for 15 pages in one run."""
    gaps = gap_at_each_page_boundary(fake_github)
    if pages_a_part is None:
        backfill_repo(big, big.github.repo(7, REPO), REPO)  # type: ignore[union-attr]
    else:
        in_parts(big, pages_a_part)
    assert len(big.store.issues(REPO)) == PAGES * 100
    assert len(listings(fake_github)) == PAGES + gaps


def test_a_retry_after_a_5xx_past_the_limit_asks_its_page_again_once(
    big: JobContext, fake_github: FakeGitHubServer
) -> None:
    """GitHub answers 502 to page 7's cursor once: the retry asks that address again, not the
    walk from page 2 (four more requests)."""
    fake_github.state.fail_next(1, status=502, match=f"after={CURSOR}7&")
    host = big.github.repo(7, REPO)  # type: ignore[union-attr]
    backfill_repo(big, host, REPO, sleep=lambda s: None)
    assert len(big.store.issues(REPO)) == PAGES * 100
    asked = listings(fake_github)
    assert len(asked) == PAGES + 2, asked  # and the one answered 502
    assert sum(f"after={CURSOR}7&" in a for a in asked) == 2


def test_a_saved_address_github_refuses_is_walked_to_from_the_last_numbered_page(
    big: JobContext, fake_github: FakeGitHubServer
) -> None:
    """A cursor GitHub no longer takes (422) when the next part asks it: that part walks to its
    page from page 2, as without an address, and the backfill still stores every issue."""
    host = big.github.repo(7, REPO)  # type: ignore[union-attr]
    first = backfill_repo(big, host, REPO, max_pages=4)  # pages 1-4; part 2 from page 5
    assert first.next_page == 5
    fake_github.state.fail_next(1, status=422, match=f"after={CURSOR}5&")
    second = backfill_repo(big, host, REPO, max_pages=PAGES, part=Part().after(first))
    assert second.next_page is None
    assert len(big.store.issues(REPO)) == PAGES * 100
    # pages 1-4; page 5's address refused; the walk: page 2 by number, 3 and 4, then 5-10
    assert len(listings(fake_github)) == PAGES + 1 + 3
