"""Space content-creating requests per installation, as GitHub's secondary limits ask."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WritePacer:
    """Writes for one installation go one at a time, at least `interval_s` apart, in this process.

    This is the one wait in the adapter: it is GitHub's documented rule for writes (not a retry),
    and it is short (1 s by default); retries after errors belong to the queue.
    """

    def __init__(
        self,
        interval_s: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval_s, self._clock, self._sleep = interval_s, clock, sleep
        self._last: dict[int, float] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, installation_id: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(installation_id, threading.Lock())

    def run(self, installation_id: int, write: Callable[[], T]) -> T:
        """Wait for this installation's turn, then perform `write` while holding it."""
        with self._lock(installation_id):
            if self.interval_s > 0 and installation_id in self._last:
                wait = self._last[installation_id] + self.interval_s - self._clock()
                if wait > 0:
                    self._sleep(wait)
            try:
                return write()
            finally:
                self._last[installation_id] = self._clock()
