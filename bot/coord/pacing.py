"""GitHub write pacing and secondary-limit pauses per installation, shared by every worker.

Each write reserves the next free slot for its installation with one atomic upsert in the store
(`coord_pacing`): slots are `interval_s` apart and never before a recorded pause ends. Workers on
any machine that share the database therefore keep GitHub's "writes at least 1 s apart" between
them, and a 403 secondary-limit answer seen by one worker holds every worker back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from bot.coord.locks import is_postgres
from bot.ports import RateLimited
from bot.store import Store

T = TypeVar("T")

_RESERVE = (
    "insert into coord_pacing (key, next_at, paused_until) values (?, ? + ?, 0)"
    " on conflict(key) do update set next_at ="
    " {fn}(coord_pacing.next_at, coord_pacing.paused_until, ?) + ?"
    " returning next_at"
)
_PAUSE = (
    "insert into coord_pacing (key, next_at, paused_until) values (?, 0, ?)"
    " on conflict(key) do update set paused_until = {fn}(coord_pacing.paused_until, ?)"
)


def installation_key(installation_id: int) -> str:
    return f"installation:{installation_id}"


class SharedPacer:
    """Drop-in for bot.github.pacing.WritePacer (same `run`), backed by the shared store."""

    def __init__(
        self,
        store: Store,
        interval_s: float,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_s: float = 30.0,
    ) -> None:
        self.store, self.interval_s, self._clock, self._sleep = store, interval_s, clock, sleep
        self.max_wait_s = max_wait_s
        self._fn = "greatest" if is_postgres(store) else "max"
        self._guard = threading.Lock()  # one connection per process: one statement at a time

    def reserve(self, installation_id: int) -> float:
        """The wall-clock time this process may perform its next write for the installation."""
        now, key = self._clock(), installation_key(installation_id)
        with self._guard:
            row = self.store.db.execute(
                _RESERVE.format(fn=self._fn), [key, now, self.interval_s, now, self.interval_s]
            ).fetchone()
            self.store.db.conn.commit()
        return float(row[0]) - self.interval_s

    def run(self, installation_id: int, write: Callable[[], T]) -> T:
        slot = self.reserve(installation_id)
        wait = slot - self._clock()
        if wait > self.max_wait_s:  # a long pause: give the worker back, the queue retries
            raise RateLimited(wait, f"installation {installation_id} paused for {wait:.0f} s")
        if wait > 0:
            self._sleep(wait)
        return write()

    def pause(self, installation_id: int, seconds: float) -> None:
        """Hold every worker's writes (and deliveries) for this installation for `seconds`."""
        until = self._clock() + seconds
        with self._guard:
            self.store.db.execute(
                _PAUSE.format(fn=self._fn), [installation_key(installation_id), until, until]
            )
            self.store.db.conn.commit()

    def paused_for(self, installation_id: int) -> float:
        """Seconds until a recorded secondary-limit pause for the installation ends (0: none)."""
        with self._guard:
            row = self.store.db.execute(
                "select paused_until from coord_pacing where key = ?",
                [installation_key(installation_id)],
            ).fetchone()
        return max(0.0, float(row[0]) - self._clock()) if row else 0.0
