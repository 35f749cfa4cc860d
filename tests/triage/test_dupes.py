"""The duplicate index and its per-repository cache over the real store."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.dupes import Doc, DuplicateIndex, IndexCache

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def put(
    store,
    number: int,
    title: str,
    body: str = "",
    state: str = "open",
    closed_at: str | None = None,
):  # type: ignore[no-untyped-def]
    store.upsert_issue(
        "o/r",
        {"number": number, "title": title, "body": body, "state": state, "closed_at": closed_at},
    )


def test_index_ranks_the_same_problem_first_and_skips_itself():
    docs = [
        Doc(1, "NullPointerException in org.apache.hadoop.fs.FileSystem.close", "stack trace"),
        Doc(2, "Add dark mode", "theme"),
        Doc(3, "Docs typo in README", "spelling"),
    ]
    index = DuplicateIndex(docs)
    got = index.similar(
        "FileSystem.close throws NullPointerException", "org.apache.hadoop.fs.FileSystem", exclude=3
    )
    assert got[0].number == 1 and all(c.number != 3 for c in got)
    assert DuplicateIndex([]).similar("x", "y") == []


def test_cache_tops_up_with_new_issues_and_refits_when_much_changed(store):
    clock = [0.0]
    cache = IndexCache(clock=lambda: clock[0], refit_below=0)
    for n in range(1, 31):
        put(store, n, f"Unrelated topic number {n} about widgets and the parquet reader", "nothing")
    first = cache.similar(store, "o/r", NOW, "Crash in the parquet reader", "", k=3, exclude=-1)
    assert len(first) == 3 and 31 not in [c.number for c in first]
    put(store, 31, "Crash in the parquet reader on empty files", "parquet reader crash")
    got = cache.similar(store, "o/r", NOW, "Crash in the parquet reader", "", k=3, exclude=-1)
    assert got[0].number == 31  # scored as an extra, no refit
    put(store, 5, "Parquet reader crash again", "parquet crash", state="open")  # edited copy wins
    got = cache.similar(store, "o/r", NOW, "Crash in the parquet reader", "", k=5, exclude=-1)
    assert [c.number for c in got].count(5) == 1 and 5 in [c.number for c in got]
    put(
        store,
        31,
        "Crash in the parquet reader on empty files",
        "x",
        "closed",
        "2020-01-01T00:00:00Z",
    )
    got = cache.similar(store, "o/r", NOW, "Crash in the parquet reader", "", k=5, exclude=-1)
    assert 31 not in [c.number for c in got]  # closed long ago: no longer a candidate
    clock[0] = 4000.0  # an hour later the index is fitted again from the store
    assert cache.similar(store, "o/r", NOW, "parquet crash", "", k=5, exclude=-1)[0].number == 5


def test_small_repositories_refit_so_new_words_count(store):
    cache = IndexCache()
    put(store, 1, "Add dark mode", "theme")
    assert cache.similar(store, "o/r", NOW, "zstd codec", "", k=3, exclude=-1) == []
    put(store, 2, "Support the zstd codec", "zstd compression")
    assert [
        c.number for c in cache.similar(store, "o/r", NOW, "zstd codec", "", k=3, exclude=-1)
    ] == [2]


def test_an_issue_that_left_is_dropped_from_a_fitted_index_and_its_refits(store):
    clock = [0.0]
    cache = IndexCache(clock=lambda: clock[0], refit_below=0)  # no refit for a few changes
    for n in range(1, 31):
        put(store, n, f"Unrelated topic number {n} about widgets and the parquet reader", "nothing")
    put(store, 31, "Crash in the parquet reader on empty files", "parquet reader crash")
    ask = ("Crash in the parquet reader", "")
    assert cache.similar(store, "o/r", NOW, *ask, k=3, exclude=-1)[0].number == 31
    for gone in ("deleted", "transferred"):
        put(store, 31, "Crash in the parquet reader on empty files", "parquet crash", gone)
        got = cache.similar(store, "o/r", NOW, *ask, k=40, exclude=-1)
        assert got and 31 not in [c.number for c in got]  # the fitted copy is replaced, unshown
    clock[0] = 4000.0  # refitted from the store: still gone
    assert 31 not in [c.number for c in cache.similar(store, "o/r", NOW, *ask, k=40, exclude=-1)]


def test_a_row_committed_after_a_fit_with_an_earlier_stamp_is_not_missed(store, monkeypatch):
    """seen_at is the writer's clock when it wrote: a write that waited for the lock lands
    after a fit with a stamp before the fit's watermark. It is read again, not lost for an hour."""
    import bot.store.store as stored

    cache = IndexCache(refit_below=0)  # a large repository's cache: tops up, does not refit
    for n in range(1, 31):
        put(store, n, f"Unrelated topic number {n} about widgets and the parquet reader", "nothing")
    stamp = stored.time.time() - 5  # the late writer's clock when it began
    ask = ("Crash in the parquet reader", "")
    assert 900 not in [c.number for c in cache.similar(store, "o/r", NOW, *ask, k=3, exclude=-1)]
    monkeypatch.setattr(stored.time, "time", lambda: stamp)
    put(store, 900, "Crash in the parquet reader on empty files", "parquet reader crash")
    monkeypatch.undo()
    got = cache.similar(store, "o/r", NOW, *ask, k=3, exclude=-1)
    assert got and got[0].number == 900


def test_a_deleted_issue_near_the_watermark_does_not_refit_every_time(store):
    fits = []
    cache = IndexCache()  # a small repository: any change refits
    real = cache._fit
    cache._fit = lambda *a: fits.append(1) or real(*a)  # type: ignore[method-assign]
    for n in range(1, 6):
        put(store, n, f"Topic {n} about widgets", "nothing")
    put(store, 3, "Topic 3 about widgets", "nothing", "deleted")
    for _ in range(3):
        cache.similar(store, "o/r", NOW, "widgets", "", k=3, exclude=-1)
    assert len(fits) == 1
