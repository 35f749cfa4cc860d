"""GitHub write pacing and secondary-limit pauses per installation, shared by every worker.

Each write reserves the next free slot for its installation with one atomic upsert in the store
(`coord_pacing`): slots are `interval_s` apart and never before a recorded pause ends. Workers on
any machine that share the database therefore keep GitHub's "writes at least 1 s apart" between
them, and a 403 secondary-limit answer seen by one worker holds every worker back. A write holds
the installation's write lock while it runs (GitHub: one at a time, not concurrently), and the
next slot is at least `interval_s` after it ended. Writes that create content (issues, comments)
are counted in `coord_writes`: at most HOURLY_CREATES in any hour, as GitHub asks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from bot.coord.locks import Locks, is_postgres
from bot.ports import HOURLY_CREATES, RateLimited
from bot.store import Store

T = TypeVar("T")

_RESERVE = (
    "insert into coord_pacing (key, next_at, paused_until) values (?, ? + ?, 0)"
    " on conflict(key) do update set next_at ="
    " {fn}(coord_pacing.next_at, coord_pacing.paused_until, ?) + ?"
    " returning next_at"
)
_AFTER = "update coord_pacing set next_at = {fn}(next_at, ?) where key = ?"
_DB_NOW = "select extract(epoch from clock_timestamp())"
OFFSET_S = 300.0  # how often a worker measures its clock against the database's
WRITE_LEASE_S = 120.0  # a write lock whose holder died frees itself after this
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
        shared_clock: bool | None = None,
    ) -> None:
        self.store, self.interval_s, self._clock, self._sleep = store, interval_s, clock, sleep
        self.max_wait_s = max_wait_s
        self._fn = "greatest" if is_postgres(store) else "max"
        self._guard = threading.Lock()  # one connection per process: one statement at a time
        self._locks = Locks(store, WRITE_LEASE_S, clock=clock, sleep=sleep)
        # workers on several machines compare the times they store: on PostgreSQL, on the
        # database's clock (this machine's, corrected by the offset measured every OFFSET_S);
        # a test's own clock is left as it is unless it asks
        self._offset, self._offset_at = 0.0, -float("inf")
        if shared_clock is None:
            shared_clock = clock is time.time and is_postgres(store)
        self._shared_clock = shared_clock

    def _now(self) -> float:
        """Now on the clock every worker shares. Never called holding the guard."""
        local = self._clock()
        if self._shared_clock and abs(local - self._offset_at) > OFFSET_S:
            with self._guard:
                before = self._clock()
                row = self.store.db.execute(_DB_NOW).fetchone()
                after = self._clock()
                self.store.db.conn.commit()
            self._offset, self._offset_at = float(row[0]) - (before + after) / 2, after
            local = self._clock()
        return local + self._offset

    def reserve(self, installation_id: int) -> float:
        """The wall-clock time this process may perform its next write for the installation."""
        now, key = self._now(), installation_key(installation_id)
        with self._guard:
            row = self.store.db.execute(
                _RESERVE.format(fn=self._fn), [key, now, self.interval_s, now, self.interval_s]
            ).fetchone()
            self.store.db.conn.commit()
        return float(row[0]) - self.interval_s

    def run(self, installation_id: int, write: Callable[[], T], creates: bool = False) -> T:
        """Perform `write` in the installation's next slot, alone; RateLimited when that is more
        than max_wait_s away (a pause, or the hour's creations spent): the queue retries."""
        key = installation_key(installation_id)
        ahead = self.ahead_s(installation_id, creates)
        if ahead > self.max_wait_s:  # refused before reserving: a refusal takes no slot
            raise RateLimited(
                ahead, f"installation {installation_id} paused for {ahead:.0f} s", paced=True
            )
        wait = max(self.reserve(installation_id) - self._now(), ahead)
        if wait > 0:
            self._sleep(wait)
        with self._locks.hold(f"writing:{key}", wait_s=self.max_wait_s) as got:
            if not got:
                raise RateLimited(
                    self.interval_s, f"installation {installation_id}: a write is stuck", paced=True
                )
            if creates:  # checked again holding the lock: workers that all passed the check
                spent = self._creations_wait(key)  # above must not go past the cap together
                if spent > 0:
                    raise RateLimited(
                        spent,
                        f"installation {installation_id}: the hour's"
                        f" {HOURLY_CREATES} creations are spent",
                        paced=True,
                    )
                self._created(key)
            try:
                return write()
            finally:
                after = self._now() + self.interval_s
                with self._guard:
                    self.store.db.execute(_AFTER.format(fn=self._fn), [after, key])
                    self.store.db.conn.commit()

    def ahead_s(self, installation_id: int, creates: bool = False) -> float:
        """Seconds until the installation's next write could start (0: now)."""
        key, now = installation_key(installation_id), self._now()
        with self._guard:
            row = self.store.db.execute(
                "select next_at, paused_until from coord_pacing where key = ?", [key]
            ).fetchone()
        ahead = max(0.0, *(float(v) - now for v in row)) if row else 0.0
        return max(ahead, self._creations_wait(key)) if creates else ahead

    def _creations_wait(self, key: str) -> float:
        """Seconds until the installation may create again: 0 while the last hour holds fewer
        than HOURLY_CREATES creations, else until the oldest of those is an hour old."""
        now = self._now()
        with self._guard:
            last = self.store.db.execute(
                "select at from coord_writes where key = ? and at > ? order by at desc"
                " limit 1 offset ?",
                [key, now - 3600, HOURLY_CREATES - 1],
            ).fetchone()
        return max(0.0, float(last[0]) + 3600 - now) if last is not None else 0.0

    def _created(self, key: str) -> None:
        now = self._now()
        with self._guard:
            self.store.db.execute(
                "delete from coord_writes where key = ? and at <= ?", [key, now - 3600]
            )
            self.store.db.execute("insert into coord_writes (key, at) values (?, ?)", [key, now])
            self.store.db.conn.commit()

    def pause(self, installation_id: int, seconds: float) -> None:
        """Hold every worker's writes (and deliveries) for this installation for `seconds`."""
        until = self._now() + seconds
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
        return max(0.0, float(row[0]) - self._now()) if row else 0.0
