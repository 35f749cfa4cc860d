"""Space content-creating requests per installation, as GitHub's secondary limits ask."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from bot.ports import HOURLY_CREATES, RateLimited

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
        self._created: dict[int, deque[float]] = {}  # when content-creating writes ran, this hour
        self._guard = threading.Lock()

    def _lock(self, installation_id: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(installation_id, threading.Lock())

    def run(self, installation_id: int, write: Callable[[], T], creates: bool = False) -> T:
        """Wait for this installation's turn, then perform `write` while holding it. A write that
        creates content past HOURLY_CREATES in the last hour: RateLimited until one ages out."""
        with self._lock(installation_id):
            if creates:
                made = self._created.setdefault(installation_id, deque())
                while made and made[0] <= self._clock() - 3600:
                    made.popleft()
                if len(made) >= HOURLY_CREATES:
                    wait = made[0] + 3600 - self._clock()
                    raise RateLimited(wait, f"{HOURLY_CREATES} issues and comments this hour")
            if self.interval_s > 0 and installation_id in self._last:
                wait = self._last[installation_id] + self.interval_s - self._clock()
                if wait > 0:
                    self._sleep(wait)
            if creates:
                self._created[installation_id].append(self._clock())
            try:
                return write()
            finally:
                self._last[installation_id] = self._clock()
