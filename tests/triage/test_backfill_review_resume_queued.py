"""The hourly resume leaves a queued backfill's CONTINUING cursor to the job of its next part while
that job has yet to run or finish, however long the model queue keeps it waiting: resumed inline
as well, the repository would be listed by two chains of parts. Once that job is dead (or was never
recorded), the resume goes on from the cursor."""

from __future__ import annotations

import dataclasses
import time

import pytest

from bot.coord import jobs as registry
from bot.jobs.backfill import (
    LOCK_LEASE_S,
    Part,
    backfill_installed,
    queue_next_part,
    resume_unfinished,
)
from bot.jobs.context import JobContext
from tests.triage.conftest import REPO
from tests.triage.fakes import FakeRepoHost

WAITING = "its next part, from page 4, is a queued job"


@pytest.fixture
def queued(ctx: JobContext, host: FakeRepoHost, monkeypatch: pytest.MonkeyPatch) -> JobContext:
    """14 issues, 2 a page, 3 pages a part; the context a worker's: jobs recorded, no broker."""
    for i in range(14):
        host.add(f"Crash number {i} when saving", "it crashes", state="closed", labels=["bug"])
    host.page_size = 2
    ctx.store.upsert_installation(1, "octo")
    ctx.store.add_repositories(1, [{"full_name": REPO, "id": 1}])
    monkeypatch.setattr(registry, "_enqueuer", [])
    settings = ctx.settings.model_copy(update={"backfill_pages_per_part": 3})
    return dataclasses.replace(
        ctx,
        settings=settings,
        defer=lambda name, kw, key: registry.submitted(ctx.store, name, kw, key)[1],
    )


def first_part(ctx: JobContext) -> str:
    """Part 1 lists pages 1-3 and queues part 2: that job's id."""
    result = backfill_installed(ctx, 1, REPO, "d1", queued=True)
    assert result is not None and result.next_page == 4
    assert queue_next_part(ctx, 1, result, "d1", Part())
    (job,) = registry.waiting(ctx.store, "backfill")
    return str(job["id"])


LATER = LOCK_LEASE_S + 60  # the cursor is older than a lease: the model queue is backed up


@pytest.mark.parametrize("status", ["received", "queued", "running"])
def test_a_part_whose_job_waits_or_runs_is_left_to_it(queued, host, status):  # type: ignore[no-untyped-def]
    jid = first_part(queued)
    registry.set_status(queued.store, jid, status)
    fetched = list(host.pages_fetched)
    out = resume_unfinished(queued, now=time.time() + LATER)
    assert (out.left, out.continuing, out.finished) == ({REPO: WAITING}, {}, [])
    assert host.pages_fetched == fetched  # nothing listed
    assert [j["kwargs"]["part"] for j in registry.unfinished(queued.store, "backfill")] == [2]


@pytest.mark.parametrize("status", ["dead", "done", None])
def test_a_part_whose_job_died_is_resumed(queued, host, status):  # type: ignore[no-untyped-def]
    """Dead (its retries spent), done without going on, or never recorded (None)."""
    jid = first_part(queued)
    if status is None:
        queued.store.db.execute("delete from jobs where id = ?", [jid])
        queued.store.db.conn.commit()
    else:
        registry.set_status(queued.store, jid, status)
    out = resume_unfinished(queued, now=time.time() + LATER)
    assert out.continuing == {REPO: 7} and out.left == {}
    assert host.pages_fetched[-3:] == [4, 5, 6]


def test_a_recent_part_is_left_even_before_its_job_is_recorded(queued):  # type: ignore[no-untyped-def]
    jid = first_part(queued)
    queued.store.db.execute("delete from jobs where id = ?", [jid])
    queued.store.db.conn.commit()
    assert resume_unfinished(queued).left == {REPO: WAITING}
