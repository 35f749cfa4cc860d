"""A backfilled issue keeps GitHub's closed_at: an issue closed years ago that someone touched lately
(a comment, a label) is not "recently closed" for duplicate search."""

from __future__ import annotations

import time

from bot.core.triage import IssueSnapshot
from bot.jobs.backfill import backfill_repo
from bot.jobs.triage import find_duplicates
from bot.samples import load_sample
from bot.samples.host import SampleHost
from tests.triage.test_e2e_http import REPO, world  # noqa: F401

DAY = 86400.0


def test_an_issue_closed_years_ago_is_not_recently_closed_after_a_backfill(world):  # type: ignore[no-untyped-def]  # noqa: F811
    state, ctx = world
    now = time.time()
    old = state.add_issue(
        REPO,
        "Editor crashes when clicking the save button",
        "TypeError on save",
        state="closed",
        labels=["bug"],
        created_at=now - 900 * DAY,
        closed_at=now - 800 * DAY,  # closed over two years ago
        updated_at=now - 3 * DAY,  # a comment last week ("still happens for me")
    )
    backfill_repo(ctx, ctx.github.repo(1, REPO), REPO)
    row = ctx.store.issue(REPO, old.number)
    probe = IssueSnapshot(
        REPO, 999, "Editor crashes when I click the save button", "TypeError", "bob", (), "open"
    )
    found = [c.number for c in find_duplicates(ctx, probe)]
    assert old.number not in found, (row["closed_at"], found)


def test_the_sample_host_gives_its_closed_issues_closed_at() -> None:
    host = SampleHost(load_sample())
    closed = list(host.list_issues("closed"))
    assert closed and all(i.closed_at for i in closed)
    assert all(i.closed_at is None for i in host.list_issues("open"))
