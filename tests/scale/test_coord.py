"""Issue locks, shared write pacing and job run records across separate connections, both backends."""

from __future__ import annotations

import pytest

from bot.coord import jobs
from bot.coord.locks import Locks, issue_key
from bot.coord.pacing import SharedPacer
from bot.ports import HOURLY_CREATES, RateLimited
from bot.store import open_store


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.t += s


def test_lock_excludes_a_second_process_until_released(store_url: str) -> None:
    a, b = Locks(open_store(store_url)), Locks(open_store(store_url))
    key = issue_key("Octo/Widgets", 7)
    assert a.try_acquire(key)
    assert not b.try_acquire(key)
    with b.hold("issue:other#1", wait_s=0.1) as got:
        assert got  # other keys are free
    a._release(key)
    with b.hold(key, wait_s=0.5) as got:
        assert got
        assert not a.try_acquire(key)
    assert a.try_acquire(key)


def test_postgres_lock_dies_with_its_holders_connection(pg_url: str) -> None:
    """A worker killed mid-task frees its issue at once: the server drops the session lock."""
    holder, other = open_store(pg_url), Locks(open_store(pg_url))
    assert Locks(holder).try_acquire("issue:o/r#1")
    assert not other.try_acquire("issue:o/r#1")
    holder.close()
    with other.hold("issue:o/r#1", wait_s=2) as got:
        assert got


def test_sqlite_lock_lease_runs_out(tmp_path) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    path = tmp_path / "s.db"
    a = Locks(open_store(path), lease_s=30, clock=clock, sleep=clock.sleep)
    b = Locks(open_store(path), lease_s=30, clock=clock, sleep=clock.sleep)
    assert a.try_acquire("k")  # and a dies without releasing
    assert not b.try_acquire("k")
    clock.t += 31
    assert b.try_acquire("k")


def test_sqlite_lock_renewed_by_its_holder_outlasts_its_lease(tmp_path) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    path = tmp_path / "s.db"
    a = Locks(open_store(path), lease_s=30, clock=clock, sleep=clock.sleep)
    b = Locks(open_store(path), lease_s=30, clock=clock, sleep=clock.sleep)
    assert a.try_acquire("k") and not b.renew("k")  # only the holder renews
    clock.t += 25
    assert a.renew("k")
    clock.t += 25  # 50 s after taking it, 25 s after renewing: still held
    assert not b.try_acquire("k")
    clock.t += 10
    assert b.try_acquire("k") and not a.renew("k")  # a's lease ran out and b holds the key


def test_pacers_in_two_processes_share_one_schedule(store_url: str) -> None:
    clock = Clock()
    p1 = SharedPacer(open_store(store_url), 1.0, clock=clock, sleep=clock.sleep)
    p2 = SharedPacer(open_store(store_url), 1.0, clock=clock, sleep=clock.sleep)
    slots = [p.reserve(42) for p in (p1, p2, p1, p2)]
    assert slots == [1000.0, 1001.0, 1002.0, 1003.0]
    assert p1.reserve(43) == 1000.0  # another installation has its own schedule
    done: list[float] = []
    p2.run(42, lambda: done.append(clock()))
    assert done == [1004.0]  # it waited for its slot


def test_secondary_limit_pause_holds_every_pacer(store_url: str) -> None:
    clock = Clock()
    p1 = SharedPacer(open_store(store_url), 1.0, clock=clock, sleep=clock.sleep, max_wait_s=30)
    p2 = SharedPacer(open_store(store_url), 1.0, clock=clock, sleep=clock.sleep, max_wait_s=30)
    p1.pause(7, 60)
    assert p2.paused_for(7) == 60
    with pytest.raises(RateLimited) as err:
        p2.run(7, lambda: None)  # too long to sleep in a task: handed back to the queue
    assert err.value.retry_after_s >= 59
    clock.t += 61
    assert p2.paused_for(7) == 0
    assert p2.reserve(7) >= 1060


def test_a_refused_write_takes_no_slot(store_url: str) -> None:
    """Refusals during a pause reserved slots (each one 1 s more): 50 of them pushed the first
    write after the pause 49 s later still."""
    clock = Clock()
    p = SharedPacer(open_store(store_url), 1.0, clock=clock, sleep=clock.sleep, max_wait_s=30)
    p.pause(7, 60)
    for _ in range(50):
        with pytest.raises(RateLimited):
            p.run(7, lambda: None)
    clock.t += 60
    done: list[float] = []
    p.run(7, lambda: done.append(clock()))
    assert done == [1060.0]


def test_writes_run_one_at_a_time_across_processes(store_url: str) -> None:
    """GitHub asks for writes one at a time: while one process writes, another cannot start, and
    the next write starts interval_s after the last one ended, not after it began."""
    clock = Clock()
    p1 = SharedPacer(open_store(store_url), 1.0, clock=clock, sleep=clock.sleep)
    p2 = SharedPacer(open_store(store_url), 1.0, clock=clock, sleep=clock.sleep)
    other = Locks(open_store(store_url), clock=clock)
    seen: list[bool] = []

    def slow_write() -> None:
        seen.append(other.try_acquire("writing:installation:7"))  # as another process would
        clock.t += 2.5  # a write that takes 2.5 s

    p1.run(7, slow_write)
    assert seen == [False]
    done: list[float] = []
    p2.run(7, lambda: done.append(clock()))
    assert done == [1000.0 + 2.5 + 1.0]


def test_at_most_500_issues_and_comments_an_hour(store_url: str) -> None:
    clock = Clock()
    p1 = SharedPacer(open_store(store_url), 1.0, clock=clock, sleep=clock.sleep, max_wait_s=30)
    p2 = SharedPacer(open_store(store_url), 1.0, clock=clock, sleep=clock.sleep, max_wait_s=30)
    for n in range(500):
        (p1 if n % 2 else p2).run(7, lambda: None, creates=True)
    assert clock() == 1499.0  # 1 s apart
    with pytest.raises(RateLimited) as err:
        p1.run(7, lambda: None, creates=True)
    assert err.value.retry_after_s == pytest.approx(1000 + 3600 - 1499, abs=1)
    p1.run(7, lambda: None)  # a label is no creation: it goes on
    assert p1.run(8, lambda: "other", creates=True) == "other"  # another installation's own hour
    clock.t = 1000.0 + 3600 - 20  # 20 s before the first creation ages out: waited for
    done: list[float] = []
    p2.run(7, lambda: done.append(clock()), creates=True)
    assert done == [4600.0]


def test_the_hourly_cap_holds_when_workers_check_it_together(store_url: str) -> None:
    """Both workers saw 499 creations before either took the write lock: the second one in is
    refused (the count is checked again under the lock), not the hour's 501st creation."""
    clock, raced = Clock(), []
    p2 = SharedPacer(open_store(store_url), 1.0, clock=clock, sleep=clock.sleep, max_wait_s=30)

    def wait_and_let_p2_in(s: float) -> None:
        clock.sleep(s)
        if not raced:  # p1 has checked and waits for its slot: p2 creates meanwhile
            raced.append(p2.run(7, lambda: "p2", creates=True))

    p1 = SharedPacer(open_store(store_url), 1.0, clock=clock, sleep=wait_and_let_p2_in)
    for _ in range(HOURLY_CREATES - 1):
        p2.run(7, lambda: None, creates=True)
    with pytest.raises(RateLimited) as err:
        p1.run(7, lambda: None, creates=True)
    assert raced == ["p2"] and "creations are spent" in str(err.value)
    count = "select count(*) from coord_writes where key = 'installation:7'"
    assert p2.store.db.execute(count).fetchone()[0] == HOURLY_CREATES


def test_job_runs_are_recorded_once_and_claimed_once(store_url: str) -> None:
    s1, s2 = open_store(store_url), open_store(store_url)
    kwargs = {"repo": "o/r", "number": 3}
    jid = jobs.record(s1, "summarize", kwargs, key="d-1")
    assert jid is not None and jobs.record(s2, "summarize", kwargs, key="d-1") is None
    assert jobs.record(s1, "summarize", kwargs, key="d-2") not in (None, jid)
    assert jobs.claim(s1, jid, lease_s=60) and not jobs.claim(s2, jid, lease_s=60)
    assert jid in [j[0] for j in jobs.stuck(s2, older_than_s=-1)]
    jobs.set_status(s2, jid, "done")
    assert not jobs.claim(s1, jid, lease_s=0)
    assert jobs.run(s1, jid)["attempts"] == 1  # type: ignore[index]


def test_unknown_job_names_the_registered_ones() -> None:
    @jobs.register("known_one")
    def _known(rt: object) -> None:
        return None

    with pytest.raises(jobs.UnknownJob, match="known_one"):
        jobs.get_job("no_such_job")


def test_worker_concurrency_per_queue_from_settings() -> None:
    from bot.settings import load_settings
    from workers.nodes import concurrency_for

    s = load_settings(worker_concurrency={"fast": 4, "model": 1, "sweep": 1})
    assert concurrency_for(s, ["model"]) == 1
    assert concurrency_for(s, ["fast"]) == 4
    assert concurrency_for(s, ["fast", "sweep"]) == 5


def test_the_one_process_pacer_keeps_the_same_hourly_cap() -> None:
    """`smolbot serve` without a shared store paces in memory (bot.github.pacing.WritePacer)."""
    from bot.github.pacing import HOURLY_CREATES, WritePacer

    clock = Clock()
    p = WritePacer(1.0, clock=clock, sleep=clock.sleep)
    for _ in range(HOURLY_CREATES):
        p.run(7, lambda: None, creates=True)
    with pytest.raises(RateLimited) as err:
        p.run(7, lambda: None, creates=True)
    assert err.value.retry_after_s == pytest.approx(3600 - 500, abs=1)
    assert p.run(7, lambda: "label") == "label"
    clock.t = 1000.0 + 3600.5
    assert p.run(7, lambda: "again", creates=True) == "again"


def test_thread_locks_are_not_kept_after_use(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """One in-process lock per issue ever touched was kept for the worker's life."""
    from bot.coord import locks as module

    locks = Locks(open_store(tmp_path / "s.db"))
    for n in range(200):
        with locks.hold(issue_key("kept/nowhere", n), wait_s=1) as got:
            assert got
    with locks.hold(issue_key("kept/nowhere", 999), wait_s=1):
        assert [k for k in list(module._local) if "kept/nowhere" in k] == [
            issue_key("kept/nowhere", 999)
        ]
    assert [k for k in list(module._local) if "kept/nowhere" in k] == []


def test_pacers_on_machines_whose_clocks_differ_keep_one_schedule(pg_url: str) -> None:
    """Workers on several machines share PostgreSQL: one machine's clock 45 s fast made every
    other worker find the installation paused (and refused each write) after its writes."""
    import time

    fast = SharedPacer(open_store(pg_url), 0.2, clock=lambda: time.time() + 45, shared_clock=True)
    slow = SharedPacer(open_store(pg_url), 0.2, clock=time.time, shared_clock=True)
    assert fast.run(42, lambda: "fast wrote") == "fast wrote"
    assert slow.ahead_s(42) <= 0.2  # was 45
    assert slow.run(42, lambda: "slow wrote") == "slow wrote"
    fast.pause(42, 60)  # a secondary limit seen on the fast machine holds the slow one 60 s
    assert 59 < slow.paused_for(42) <= 60


def test_a_write_refused_by_the_pacer_itself_pauses_no_one_longer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The shared pacer's refusal (a pause already recorded) is no news from GitHub: the queue's
    retry must not record it as a pause again, each time a little longer."""
    from bot.ports import RateLimited as Limited

    clock = Clock()
    p = SharedPacer(open_store(tmp_path / "s.db"), 1.0, clock=clock, sleep=clock.sleep)
    p.pause(7, 60)
    with pytest.raises(Limited) as err:
        p.run(7, lambda: None)
    assert err.value.paced
    from types import SimpleNamespace

    from workers.tasks import _countdown

    task, wr = SimpleNamespace(request=SimpleNamespace(retries=0)), SimpleNamespace(pacer=p)
    clock.t += 30
    assert _countdown(task, wr, err.value, 7) == 60  # type: ignore[arg-type]
    assert p.paused_for(7) == 30  # the pause as recorded, not 60 s more from now
    assert _countdown(task, wr, Limited(90, "GitHub: secondary rate limit"), 7) == 90  # type: ignore[arg-type]
    assert p.paused_for(7) == 90
