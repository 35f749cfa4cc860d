"""A cached duplicate index is keyed by the repository's name: after a rename it is not served
for another repository's rows under that name, in any process (the one that handled the rename
or not)."""

from __future__ import annotations

from bot.dupes import IndexCache
from bot.store import Store
from tests.triage.conftest import NOW, REPO

CRASH = ("Parquet reader crashes on empty files", "The parquet reader throws on an empty file.")


def _filler(store: Store, repo: str, n: int, start: int = 1) -> None:
    for i in range(start, start + n):
        issue = {"number": i, "title": f"Unrelated topic {i} about widgets and gadgets"}
        store.upsert_issue(repo, {**issue, "body": "nothing", "state": "open"})


def test_a_large_index_of_a_renamed_repository_is_not_served_under_its_old_name(
    store: Store,
) -> None:
    """octo/app (600 issues) is renamed octo/old-app and a new repository takes the name
    octo/app: a query for the new octo/app must not be answered from the old one's issues,
    even by a process that did not handle the rename (its own cache, not the dispatcher's)."""
    cache = IndexCache()  # the default: 600 issues are over ALWAYS_REFIT_BELOW, no refit
    _filler(store, REPO, 600)
    store.upsert_issue(REPO, {"number": 601, "title": CRASH[0], "body": CRASH[1]})
    assert cache.similar(store, REPO, NOW, *CRASH, k=3, exclude=-1)[0].number == 601
    store.rename_repository(REPO, "octo/old-app")
    store.upsert_issue(REPO, {"number": 1, "title": "First issue of the new repository"})
    got = cache.similar(store, REPO, NOW, *CRASH, k=3, exclude=1)
    assert [c.number for c in got] == [], got  # octo/app has one issue, #1, and it is excluded


def test_a_repository_renamed_onto_a_cached_name_is_read_anew(store: Store) -> None:
    """octo/app (600 issues, cached) is renamed away and octo/lib (610 issues, stored long
    before) is renamed octo/app: the moved rows keep when they were stored, so they are no
    change since the fit; the name's rows are not the ones fitted, and the index is fitted
    again rather than answering with the repository that left."""
    cache = IndexCache()
    _filler(store, REPO, 600)
    store.upsert_issue(REPO, {"number": 601, "title": CRASH[0], "body": CRASH[1]})
    _filler(store, "octo/lib", 610)
    store.upsert_issue("octo/lib", {"number": 611, "title": "Parquet writer hangs"})
    store.db.execute("update issues set seen_at = seen_at - 3600 where repo = 'octo/lib'")
    store.db.conn.commit()
    assert cache.similar(store, REPO, NOW, *CRASH, k=3, exclude=-1)[0].number == 601
    store.rename_repository(REPO, "octo/old-app")
    store.rename_repository("octo/lib", REPO)
    got = cache.similar(store, REPO, NOW, *CRASH, k=3, exclude=-1)
    assert got and got[0].number == 611, got
