"""A PostgreSQL lock holder whose connection is cut (a server restart or failover, an idle
connection killed) lost its session lock with it: its next statement fails (SessionLocksLost)
rather than going on quietly on a new session; then `renew` says so when another worker took the
key meanwhile, and takes the key again when nobody did."""

from __future__ import annotations

import psycopg
import pytest

from bot.coord.locks import Locks, issue_key
from bot.jobs.backfill import BackfillBusy, backfill_repo, lock_key
from bot.jobs.context import JobContext
from bot.settings import Settings
from bot.store import Store, open_store
from bot.store.pg import SessionLocksLost
from tests.triage.fakes import FakeRepoHost

KEY = issue_key("o/r", 7)


def cut(store: Store, url: str) -> None:
    """End the store's server session from outside, and wait until the server has let it go."""
    pid = store.db.execute("select pg_backend_pid()").fetchone()[0]
    with psycopg.connect(url, autocommit=True) as admin:
        assert admin.execute("select pg_terminate_backend(%s, 5000)", [pid]).fetchone()[0]


def advisory_locks(store: Store) -> int:
    """How many advisory locks the store's current session holds (a re-entrant one counts once
    per take)."""
    sql = "select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()"
    return int(store.db.execute(sql).fetchone()[0])


def test_a_holder_cut_off_while_another_took_the_key_is_told_it_lost_it(pg_url: str) -> None:
    a, b, c = open_store(pg_url), open_store(pg_url), open_store(pg_url)
    la, lb, lc = Locks(a), Locks(b), Locks(c)
    mate = Locks(a)  # another holder on a's connection (another thread of a's process)
    with la.hold(KEY, wait_s=0) as got:
        assert got and la.renew(KEY)
        assert not lb.try_acquire(KEY)
        cut(a, pg_url)
        assert lb.try_acquire(KEY)  # the server released a's lock with its session
        with pytest.raises(SessionLocksLost, match="lost while holding 1 lock"):
            a.audit("label", "done", "would have gone on")  # a's work stops here
        assert a.audit_rows() == []  # that statement did not run
        assert a.ping()  # the next one runs on a new session
        assert not la.renew(KEY)  # the key is b's: a must stop
        lb._release(KEY)
        assert not la.renew(KEY)  # and it stays lost to a: b may have acted meanwhile
        assert mate.try_acquire(KEY)
    assert not lc.try_acquire(KEY)  # a leaving hold() did not unlock its mate's take
    mate._release(KEY)
    assert advisory_locks(a) == 0
    assert lc.try_acquire(KEY)


def test_a_holder_cut_off_takes_the_free_key_again_and_releases_it_once(pg_url: str) -> None:
    a, b = open_store(pg_url), open_store(pg_url)
    la, lb = Locks(a), Locks(b)
    with la.hold(KEY, wait_s=0) as got:
        assert got
        cut(a, pg_url)
        with pytest.raises(SessionLocksLost):
            la.renew(KEY)
        assert la.renew(KEY)  # nobody took it meanwhile: a's again, on its new session
        assert not lb.try_acquire(KEY)
        assert la.renew(KEY)  # held already: not taken a second time
        assert advisory_locks(a) == 1
        assert not lb.try_acquire(KEY)
    assert advisory_locks(a) == 0
    with lb.hold(KEY, wait_s=0) as got:
        assert got


def test_renewing_from_another_connection_never_takes_the_key(pg_url: str) -> None:
    """The lease heartbeat renews on a connection of its own: it must not take a lost key."""
    a, beat = open_store(pg_url), open_store(pg_url)
    la, other = Locks(a), Locks(beat)
    with la.hold(KEY, wait_s=0) as got:
        assert got
        assert not other.renew(KEY)
        cut(a, pg_url)
        assert not other.renew(KEY)
        assert advisory_locks(beat) == 0
        with pytest.raises(SessionLocksLost):
            a.ping()
        assert la.renew(KEY)


def test_a_backfill_whose_connection_was_cut_stops_when_another_took_over(
    pg_url: str, settings: Settings
) -> None:
    store, other = open_store(pg_url), open_store(pg_url)
    host = FakeRepoHost(repo="octo/app")
    for i in range(5):
        host.add(f"Crash number {i} when saving", "it crashes", state="closed")
    host.page_size = 2
    theirs, done = Locks(other), []

    def cut_off(n: int) -> None:  # mid-listing, the backfill's connection is cut
        if not done:
            cut(store, pg_url)
            done.append(theirs.try_acquire(lock_key("octo/app")))  # another backfill takes over

    ctx = JobContext(settings, store)
    with pytest.raises(SessionLocksLost):  # a database error: the queue retries the job
        backfill_repo(ctx, host, "octo/app", progress=cut_off, sleep=lambda s: None)
    assert done == [True] and host.pages_fetched == [1]  # it stopped at its next statement
    with pytest.raises(BackfillBusy, match="already running"):  # the retry finds it taken
        backfill_repo(ctx, host, "octo/app", sleep=lambda s: None)
    assert not Locks(open_store(pg_url)).try_acquire(lock_key("octo/app"))  # still theirs


def test_a_cut_after_every_lock_was_released_fails_nothing(pg_url: str) -> None:
    a = open_store(pg_url)
    la = Locks(a)
    for _ in range(3):
        with la.hold(KEY, wait_s=0) as got:
            assert got
    cut(a, pg_url)
    assert a.ping()  # no lock was held: the store reconnects quietly, as before
