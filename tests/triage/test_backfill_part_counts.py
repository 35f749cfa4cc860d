"""A queued backfill's part that stops and is run again (the task queue's retry, an hourly resume)
goes on from the counts its stopped attempt kept in the cursor row: the last part's "in all N
parts" counts each issue once, as stored and as learned."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.jobs.backfill import Part, backfill_installed, cursor, resume_unfinished
from bot.jobs.context import JobContext
from bot.ports import IssueData, RateLimited
from tests.triage.conftest import REPO
from tests.triage.fakes import FakeRepoHost

ALL = "14 stored and 14 learned in all 3 parts"


def parts_of_three(ctx: JobContext, host: FakeRepoHost) -> JobContext:
    """14 closed labeled issues, 2 a page (7 pages), 3 pages a part."""
    for i in range(14):
        host.add(f"Crash number {i} when saving", "it crashes", state="closed", labels=["bug"])
    host.page_size = 2
    ctx.store.upsert_installation(1, "octo")
    ctx.store.add_repositories(1, [{"full_name": REPO, "id": 1}])
    return dataclasses.replace(
        ctx, settings=ctx.settings.model_copy(update={"backfill_pages_per_part": 3})
    )


def limit_once_at(host: FakeRepoHost, at_page: int) -> None:
    """GitHub refuses `at_page` once with a 10-minute limit: longer than a queued job waits."""
    real, hit = host.issue_pages, []

    def limited(state: str = "all", first: int = 1) -> Iterator[list[IssueData]]:
        for page, items in enumerate(real(state, first), first):
            if page == at_page and not hit:
                hit.append(page)
                raise RateLimited(600.0)
            yield items

    host.issue_pages = limited  # type: ignore[method-assign]


def audited(ctx: JobContext, outcome: str) -> list[dict[str, Any]]:
    return [r for r in ctx.store.audit_rows(REPO, limit=100) if r["outcome"] == outcome]


def first_part(ctx: JobContext) -> Part:
    first = backfill_installed(ctx, 1, REPO, "d1", queued=True, part=Part())
    assert first is not None and (first.next_page, first.stored, first.learned) == (4, 6, 6)
    return Part().after(first)


def test_a_retried_part_counts_the_pages_its_stopped_attempt_stored(ctx, host):  # type: ignore[no-untyped-def]
    """Part 2 (pages 4-6) stores pages 4 and 5, then page 6 is rate limited for 10 minutes; the
    task queue runs the job again with the same kwargs (the totals at the part's start)."""
    ctx = parts_of_three(ctx, host)
    part2 = first_part(ctx)
    limit_once_at(host, 6)
    with pytest.raises(RateLimited):
        backfill_installed(ctx, 1, REPO, "d1", queued=True, part=part2)
    row = cursor(ctx.store, REPO)
    assert row is not None and (row["status"], row["page"]) == ("stopped", 5)
    host.pages_fetched = []
    retry = backfill_installed(ctx, 1, REPO, "d1", queued=True, part=part2)
    assert retry is not None and retry.next_page is not None
    retried = list(host.pages_fetched)
    last = backfill_installed(ctx, 1, REPO, "d1", queued=True, part=part2.after(retry))
    assert last is not None and last.next_page is None
    assert len(ctx.store.issues(REPO)) == 14
    assert ALL in audited(ctx, "done")[0]["reason"]
    # the whole part, pages 4-6: pages 4-5 not left out, page 5 (listed again: the overlap) not
    # counted again as known, and the part ends at its own last page
    assert (retry.first_page, retry.next_page, retried) == (4, 7, [5, 6])
    assert (retry.stored, retry.learned, retry.known) == (6, 6, 0)
    continues = audited(ctx, "continues")[-1]["reason"]
    assert continues.startswith("part 2, pages 4-6: 6 issues stored, 6 learned; part 3 lists")
    assert cursor(ctx.store, REPO)["totals"] is None  # type: ignore[index]


def test_a_part_stopped_at_its_first_page_keeps_the_page_before_it(ctx, host):  # type: ignore[no-untyped-def]
    """Part 2's first page is refused: its retry still has the issues of page 3 (part 1's last),
    so two issues opened meanwhile, which push two of them down onto page 4, are not stored twice."""
    ctx = parts_of_three(ctx, host)
    part2 = first_part(ctx)
    limit_once_at(host, 4)
    with pytest.raises(RateLimited):
        backfill_installed(ctx, 1, REPO, "d1", queued=True, part=part2)
    row = cursor(ctx.store, REPO)
    assert row is not None and (row["status"], row["page"]) == ("stopped", 4)
    host.add("Opened meanwhile", "x")
    host.add("Opened meanwhile too", "y")
    retry = backfill_installed(ctx, 1, REPO, "d1", queued=True, part=part2)
    # pages 4-6 now hold issues 10-5: 10 and 9 skipped, not stored nor known again
    assert retry is not None and (retry.stored, retry.learned, retry.known) == (4, 4, 0)
    last = backfill_installed(ctx, 1, REPO, "d1", queued=True, part=part2.after(retry))
    assert last is not None and last.next_page is None
    assert ALL in audited(ctx, "done")[0]["reason"]  # the two new ones: webhooks, not backfill


def test_a_part_stopped_mid_page_counts_each_issue_once(ctx, host):  # type: ignore[no-untyped-def]
    """Learning issue 5 (page 5's second) fails once: the retry counts issue 6, page 5's first,
    handled before the failure, once, and issue 5 (stored, not learned, then) once."""
    ctx = parts_of_three(ctx, host)
    part2 = first_part(ctx)
    real, failed = ctx.models.learn, []

    def learn(repo: str, text: str, *args: Any, **kw: Any) -> Any:
        if text.startswith("Crash number 4 ") and not failed:
            failed.append(text)
            raise OSError("disk full")
        return real(repo, text, *args, **kw)

    ctx.models.learn = learn  # type: ignore[method-assign]
    with pytest.raises(OSError):
        backfill_installed(ctx, 1, REPO, "d1", queued=True, part=part2)
    retry = backfill_installed(ctx, 1, REPO, "d1", queued=True, part=part2)
    assert retry is not None and (retry.stored, retry.learned, retry.known) == (6, 6, 0)
    last = backfill_installed(ctx, 1, REPO, "d1", queued=True, part=part2.after(retry))
    assert last is not None and last.next_page is None
    assert ALL in audited(ctx, "done")[0]["reason"]


def test_an_hourly_resume_goes_on_as_the_part_that_stopped(ctx, host):  # type: ignore[no-untyped-def]
    """The task queue's retry of part 2 never came (its worker died): the hourly resume lists
    the rest of part 2 as part 2, from its counts, and queues part 3 with the right totals."""
    ctx = parts_of_three(ctx, host)
    part2 = first_part(ctx)
    limit_once_at(host, 6)
    with pytest.raises(RateLimited):
        backfill_installed(ctx, 1, REPO, "d1", queued=True, part=part2)
    queued: list[tuple[str, dict[str, Any], str | None]] = []
    ctx = dataclasses.replace(ctx, defer=lambda name, kw, key: queued.append((name, kw, key)))
    out = resume_unfinished(ctx, now=time.time() + 700, sleep=lambda s: None)
    assert out.continuing == {REPO: 7} and out.stopped == {}
    ((name, kwargs, key),) = queued
    assert name == "backfill" and key == f"d1:{REPO}:part3:page7"
    assert kwargs == {"installation_id": 1, "repo": REPO, "delivery_id": "d1"} | {
        "part": 3,
        "stored": 12,
        "learned": 12,
    }
    part3 = Part(kwargs["part"], kwargs["stored"], kwargs["learned"])
    last = backfill_installed(ctx, 1, REPO, "d1", queued=True, part=part3)
    assert last is not None and last.next_page is None
    assert ALL in audited(ctx, "done")[0]["reason"]


def test_a_run_without_a_part_counts_its_own_issues(ctx, host):  # type: ignore[no-untyped-def]
    """`smolbot backfill` over a part that stopped: it lists to the end and says what it did
    itself, from the page it resumed at (page 5 again, learned by the stopped attempt: known)."""
    ctx = parts_of_three(ctx, host)
    part2 = first_part(ctx)
    limit_once_at(host, 6)
    with pytest.raises(RateLimited):
        backfill_installed(ctx, 1, REPO, "d1", queued=True, part=part2)
    from bot.jobs.backfill import backfill_repo

    done = backfill_repo(ctx, host, REPO, sleep=lambda s: None)
    assert (done.first_page, done.next_page) == (5, None)
    assert (done.stored, done.learned, done.known) == (6, 4, 2)
    assert audited(ctx, "done")[0]["reason"].endswith("resumed at page 5")
