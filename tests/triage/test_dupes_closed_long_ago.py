"""An issue the store learns was closed long ago (a lost `closed` delivery, made up by a
backfill) leaves the duplicate candidates of a cached index, like a deleted one."""

from __future__ import annotations

from bot.dupes import IndexCache
from bot.store import Store
from tests.triage.conftest import NOW, REPO

CRASH = ("Parquet reader crashes on empty files", "The parquet reader throws on an empty file.")


def _filler(store: Store, n: int) -> None:
    for i in range(1, n + 1):
        issue = {"number": i, "title": f"Unrelated topic {i} about widgets and gadgets"}
        store.upsert_issue(REPO, {**issue, "body": "nothing", "state": "open"})


def test_an_issue_found_closed_long_ago_is_not_offered_as_open(store: Store) -> None:
    """The store had #601 open (its `closed` delivery was lost); a backfill stores it closed in
    2023. A large repository's cached index must not keep offering it as an open issue."""
    cache = IndexCache()  # 600 issues: extras, no refit
    _filler(store, 600)
    row = {"number": 601, "title": CRASH[0], "body": CRASH[1], "state": "open"}
    store.upsert_issue(REPO, {**row, "updated_at": "2023-01-01T00:00:00Z"})
    assert cache.similar(store, REPO, NOW, *CRASH, k=3, exclude=-1)[0].number == 601
    closed = {"state": "closed", "closed_at": "2023-02-01T00:00:00Z"}
    store.upsert_issue(REPO, {**row, **closed, "updated_at": "2023-02-01T00:00:00Z"})
    got = cache.similar(store, REPO, NOW, *CRASH, k=3, exclude=-1)
    assert 601 not in [c.number for c in got], got


def test_an_issue_closed_recently_is_still_offered_as_closed(store: Store) -> None:
    """Closed within the window, the newer copy replaces the fitted one: offered, as closed."""
    cache = IndexCache()
    _filler(store, 600)
    row = {"number": 601, "title": CRASH[0], "body": CRASH[1], "state": "open"}
    store.upsert_issue(REPO, {**row, "updated_at": "2026-01-01T00:00:00Z"})
    assert cache.similar(store, REPO, NOW, *CRASH, k=3, exclude=-1)[0].state == "open"
    closed = {"state": "closed", "closed_at": "2026-02-01T00:00:00Z"}
    store.upsert_issue(REPO, {**row, **closed, "updated_at": "2026-02-01T00:00:00Z"})
    got = cache.similar(store, REPO, NOW, *CRASH, k=3, exclude=-1)
    assert [(c.number, c.state) for c in got[:1]] == [(601, "closed")], got
