"""One fitted duplicate index per repository per process, topped up with issues stored since."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.core.duplicates import Candidate
from bot.dupes.index import DuplicateIndex, docs_from_store
from bot.store import Store

MAX_AGE_S = 3600.0  # refit at least hourly: idf drifts and old closed issues age out
REFIT_SHARE = 0.1  # refit when this share of the index changed since it was fitted
# Extras are scored with the fitted vocabulary, so words new since the fit do not count; below
# this many issues a refit is cheap (< 0.2 s), so small repositories always refit when changed.
ALWAYS_REFIT_BELOW = 500


@dataclass
class _Entry:
    index: DuplicateIndex
    fitted_at: float  # store seen_at watermark: rows stored later are scored as extras
    built: float  # monotonic time of the fit


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
            extra = docs_from_store(store, repo, now, seen_after=entry.fitted_at) if entry else []
            if entry is None or self._stale(entry, len(extra)):
                entry, extra = self._fit(store, repo, now), []
                per_store[repo] = entry
        return entry.index.similar(title, body, k=k, exclude=exclude, extra=extra)

    def _stale(self, entry: _Entry, changed: int) -> bool:
        size = len(entry.index.docs)
        if changed and size < self._refit_below:
            return True
        too_many = changed > REFIT_SHARE * size + 20
        return too_many or self._clock() - entry.built > MAX_AGE_S

    def _fit(self, store: Store, repo: str, now: datetime) -> _Entry:
        row = next(iter(store.rows("select max(seen_at) as m from issues where repo = ?", [repo])))
        watermark = float(row["m"] or 0.0)
        docs = docs_from_store(store, repo, now, seen_after=None)
        return _Entry(DuplicateIndex(docs), watermark, self._clock())


INDEXES = IndexCache()
