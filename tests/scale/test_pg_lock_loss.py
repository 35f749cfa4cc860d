"""A PostgreSQL lock holder whose connection is cut (a server restart or failover, an idle
connection killed) lost its session lock with it: its next statement fails (SessionLocksLost)
rather than going on quietly on a new session; then `renew` says so when another worker took the
key meanwhile, and takes the key again when nobody did."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import psycopg
import pytest

from bot.coord.locks import LockLost, Locks, issue_key
from bot.github.app import GitHubApp
from bot.jobs.backfill import BackfillBusy, backfill_repo, lock_key
from bot.jobs.context import JobContext
from bot.llm import ModelLayer, embed
from bot.settings import Settings
from bot.store import Store, open_store
from bot.store.pg import SessionLocksLost
from tests.fake_github.plugin import make_settings
from tests.llm.conftest import make_settings as llm_settings
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


def _admin(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


def _refusing(url: str, refuse: bool) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(_admin(url), autocommit=True) as admin:
        admin.execute(f"alter database {name} allow_connections {'false' if refuse else 'true'}")


def test_locks_lost_while_the_server_refused_reconnecting_fail_the_first_statement_through(
    pg_url: str,
) -> None:
    """The burst test's outage: sessions cut and new ones refused for a while. The lost lock was
    forgotten at the refused reconnect, and the holder went on, on the session opened after."""
    a = open_store(pg_url)
    with Locks(a).hold(KEY, wait_s=0) as got:
        assert got
        _refusing(pg_url, True)
        try:
            cut(a, _admin(pg_url))
            with pytest.raises(psycopg.OperationalError) as refused:
                a.ping()
            assert not isinstance(refused.value, SessionLocksLost)
        finally:
            _refusing(pg_url, False)
        with pytest.raises(SessionLocksLost, match="lost while holding 1 lock"):
            a.audit("label", "done", "would have gone on")
        assert a.ping()


def _host(fake_github, tmp_path: Path):  # type: ignore[no-untyped-def]
    fake_github.state.add_installation(1, ["o/r"])
    fake_github.state.add_issue("o/r", "It crashes", "on save")
    return GitHubApp(make_settings(fake_github, tmp_path)).repo(1, "o/r")


def test_a_github_write_is_not_made_once_the_issue_lock_was_lost(
    pg_url: str, fake_github, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A statement that met the lost session was swallowed (a best-effort read, another thread):
    the work must still not write to GitHub on what it read under the lock, which another
    worker holds now."""
    a, b = open_store(pg_url), open_store(pg_url)
    host = _host(fake_github, tmp_path)
    with Locks(a).hold(issue_key("o/r", 1), wait_s=0) as got:
        assert got
        host.add_labels(1, ["bug"])  # held: written
        cut(a, pg_url)
        with contextlib.suppress(SessionLocksLost):
            a.ping()  # the failure nobody acted on
        assert Locks(b).try_acquire(issue_key("o/r", 1))  # another worker has the issue now
        with pytest.raises(LockLost, match="the write was not made"):
            host.create_comment(1, "Thanks! Could you add the version?")
        with pytest.raises(LockLost):
            host.add_labels(1, ["needs-info"])
    assert [(w.method, w.path) for w in fake_github.state.writes()] == [
        ("POST", "/repos/o/r/issues/1/labels")
    ]
    host.create_comment(1, "no lock held: written")  # outside any lock, as a CLI command
    assert len(fake_github.state.writes()) == 2


def test_a_github_write_is_not_made_once_the_sqlite_lease_was_taken_over(
    tmp_path: Path, fake_github
) -> None:  # type: ignore[no-untyped-def]
    store = open_store(tmp_path / "s.db")
    now = [1000.0]
    mine, theirs = Locks(store, lease_s=60, clock=lambda: now[0]), Locks(store, lease_s=60)
    host = _host(fake_github, tmp_path)
    with mine.hold(issue_key("o/r", 1), wait_s=0) as got:
        assert got
        host.add_labels(1, ["bug"])
        now[0] += 61  # this holder stalled past its lease
        with pytest.raises(LockLost):
            host.add_labels(1, ["needs-info"])
        assert theirs.try_acquire(issue_key("o/r", 1))
        now[0] -= 61
        with pytest.raises(LockLost):  # the row is another owner's now
            host.add_labels(1, ["needs-info"])
    assert len(fake_github.state.writes()) == 1


@pytest.mark.skipif(not embed.available(), reason="the embed extra is not installed")
def test_triage_s_shared_tune_check_lets_a_lost_lock_through(pg_url: str, tmp_path: Path) -> None:
    """The classifier's look for the fleet's newest tune is best-effort (a store error is logged
    and triage goes on), but a lost lock is not an error to go on from: the job stops there,
    before the model's minutes of work, not at its first GitHub write."""
    a = open_store(pg_url)
    layer = ModelLayer(llm_settings(tmp_path, database_url=pg_url), a)
    with Locks(a).hold(KEY, wait_s=0) as got:
        assert got
        cut(a, pg_url)
        with pytest.raises(SessionLocksLost, match="lost while holding 1 lock"):
            layer.classifier()
    assert layer.sync_encoder(now=math.inf) == (False, "no tune published in the store")
