"""One fitted duplicate index per repository per process, topped up with issues stored since."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.core.duplicates import Candidate
from bot.dupes.index import Doc, DuplicateIndex, docs_from_store
from bot.store import Store

MAX_AGE_S = 3600.0  # refit at least hourly: idf drifts and old closed issues age out
REFIT_SHARE = 0.1  # refit when this share of the index changed since it was fitted
# Extras are scored with the fitted vocabulary, so words new since the fit do not count; below
# this many issues a refit is cheap (< 0.2 s), so small repositories always refit when changed.
ALWAYS_REFIT_BELOW = 500
# A row's seen_at is its writer's clock when it wrote, not when it committed: a write that
# waited for the database lock (or came from a machine whose clock is behind) commits with a
# stamp before a fit that did not see it. Rows stamped this long before a fit are read again
# and kept when they differ from what the fit saw.
SEEN_MARGIN_S = 120.0


@dataclass
class _Entry:
    index: DuplicateIndex
    fitted_at: float  # store seen_at watermark: rows stored later are scored as extras
    built: float  # monotonic time of the fit
    seen: frozenset[Doc]  # the docs the fit saw, as they were: a re-read copy alike is no change
    numbers: frozenset[int]  # every row under the name at the fit (any state, any age)


class IndexCache:
    """Refitting TF-IDF over thousands of issues per new issue costs ~1 s; this costs ~ms."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, refit_below: int = ALWAYS_REFIT_BELOW
    ) -> None:
        self._refit_below = refit_below
        # keyed by the Store object itself (weakly): a new store never sees another's index
        self._entries: weakref.WeakKeyDictionary[Store, dict[str, _Entry]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self._clock = clock

    def similar(
        self, store: Store, repo: str, now: datetime, title: str, body: str, *, k: int, exclude: int
    ) -> list[Candidate]:
        with self._lock:
            per_store = self._entries.setdefault(store, {})
            entry = per_store.get(repo)
            changed = self._changed(store, repo, now, entry) if entry else []
            extra = [d for d in changed if entry and d not in entry.seen]
            moved = entry is not None and _moved(store, repo, entry, changed)
            if entry is None or moved or self._stale(entry, len(extra)):
                entry, extra = self._fit(store, repo, now), []
                per_store[repo] = entry
        return entry.index.similar(title, body, k=k, exclude=exclude, extra=extra)

    def forget(self, *names: str) -> None:
        """Drop the cached indexes of these repository names (in every store): renamed, or
        deleted, the rows under a name are no longer the ones fitted."""
        with self._lock:
            for per_store in self._entries.values():
                for name in names:
                    per_store.pop(name, None)

    @staticmethod
    def _changed(store: Store, repo: str, now: datetime, entry: _Entry) -> list[Doc]:
        """The rows stored since the fit (and SEEN_MARGIN_S before it), as they are now."""
        return docs_from_store(store, repo, now, seen_after=entry.fitted_at - SEEN_MARGIN_S)

    def _stale(self, entry: _Entry, changed: int) -> bool:
        size = len(entry.index.docs)
        if changed and size < self._refit_below:
            return True
        too_many = changed > REFIT_SHARE * size + 20
        return too_many or self._clock() - entry.built > MAX_AGE_S

    def _fit(self, store: Store, repo: str, now: datetime) -> _Entry:
        row = next(iter(store.rows("select max(seen_at) as m from issues where repo = ?", [repo])))
        watermark = float(row["m"] or 0.0)
        sql = "select number from issues where repo = ?"
        numbers = frozenset(int(r["number"]) for r in store.rows(sql, [repo]))
        # the recent rows as extras would read them (those that left too), read before the fit:
        # one committed in between is fitted and also read as an extra, which replaces it alike
        recent = docs_from_store(store, repo, now, seen_after=watermark - SEEN_MARGIN_S)
        docs = docs_from_store(store, repo, now, seen_after=None)
        seen = frozenset(docs + recent)
        return _Entry(DuplicateIndex(docs), watermark, self._clock(), seen, numbers)


def _moved(store: Store, repo: str, entry: _Entry, changed: list[Doc]) -> bool:
    """Whether rows came to or left the name other than by being stored since the fit: the
    repository renamed away (its rows moved to the new name, and a new repository may take
    this one), renamed onto it (moved rows keep when they were stored, so they are no change
    since the fit), or deleted. Then the fitted index is another repository's, in any process.
    The rows under the name are those fitted plus the new numbers stored since."""
    (row,) = store.rows("select count(*) as n from issues where repo = ?", [repo])
    return int(row["n"]) != len(entry.numbers | {d.number for d in changed})


INDEXES = IndexCache()
