"""Deliveries that come while the store cannot take them are kept in the local spool (202) and
recorded, and queued once, when it is back; GitHub never redelivers a failed delivery itself."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from bot.cli.doctor import _spool
from bot.settings import Settings
from bot.store import Store, open_store
from bot.webhook.app import create_app
from bot.webhook.batcher import IntakeBatcher
from bot.webhook.spool import Spool
from tests.webhook.outage import store_down
from tests.webhook.test_app import OPENED, Recorder, post


def _until(check: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"not done after {timeout_s} s"
        time.sleep(0.05)


@contextmanager
def database_refused(pg_url: str) -> Iterator[None]:
    """The database goes away (a restart, a failover): new connections are refused and the open
    ones are cut, so every statement fails at once."""
    name = pg_url.rsplit("/", 1)[1]
    admin = pg_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"alter database {name} allow_connections false")
        conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity"
            " where datname = %s and pid <> pg_backend_pid()",
            [name],
        )
        try:
            yield
        finally:
            conn.execute(f"alter database {name} allow_connections true")


def _recorded(store: Store, delivery_id: str) -> Callable[[], bool]:
    def check() -> bool:
        row = store.delivery(delivery_id)
        return row is not None and row["status"] == "queued"

    return check


def test_a_delivery_during_a_database_outage_is_recorded_and_queued_once_it_is_back(
    settings: Settings, pg_url: str
) -> None:
    queue = Recorder()
    with TestClient(create_app(settings, open_store(pg_url), queue)) as client:
        with database_refused(pg_url):
            r = post(client, "issues", OPENED, delivery="during-outage")
            assert r.status_code == 202, r.text
            assert r.json()["spooled"] is True and "kept" in r.json()["detail"]
        # GitHub does not redeliver by itself, and nothing else arrives: the spool is replayed
        _until(_recorded(open_store(pg_url), "during-outage"))
        assert post(client, "issues", OPENED, delivery="during-outage").status_code == 200
    assert queue.sent == ["during-outage"]
    assert list((settings.data_dir / "spool").glob("*.jsonl")) == []


def test_a_delivery_answered_during_an_outage_is_recorded_once_the_store_is_back(
    settings: Settings, store: Store
) -> None:
    """The reviewer's repro (review store 4): the store raises "database is locked"."""
    queue = Recorder()
    client = TestClient(create_app(settings, store, queue))
    down = store_down(store)
    with client:
        assert post(client, "issues", OPENED, delivery="during-outage").status_code == 202
        down["on"] = False  # the store is back; GitHub does not redeliver by itself
        assert post(client, "issues", OPENED, delivery="after").status_code == 202
        _until(_recorded(store, "during-outage"))
    assert store.delivery("after") is not None
    assert sorted(queue.sent) == ["after", "during-outage"]


@contextmanager
def writes_held(store_url: str) -> Iterator[None]:
    """Another session holds the deliveries table (an operator's LOCK TABLE or VACUUM FULL, a
    migration; on SQLite a writer that holds its lock): intake's writes wait, they do not fail."""
    if store_url.startswith("postgresql://"):
        with psycopg.connect(store_url) as holder:
            holder.execute("lock table deliveries in access exclusive mode")
            try:
                yield
            finally:
                holder.rollback()
        return
    writer = sqlite3.connect(store_url, isolation_level=None)
    writer.execute("begin exclusive")
    try:
        yield
    finally:
        writer.rollback()
        writer.close()


def test_a_store_that_hangs_is_waited_on_for_a_bounded_time_then_the_delivery_is_kept(
    settings: Settings, store_url: str
) -> None:
    queue = Recorder()
    app = create_app(settings, open_store(store_url), queue)
    app.state.edge.batcher.wait_s = 1.0  # WAIT_S (8 s) in service: GitHub gives up at 10 s
    with TestClient(app) as client, writes_held(store_url):
        t0 = time.monotonic()
        first = post(client, "issues", OPENED, delivery="first")
        assert first.status_code == 202 and first.json()["spooled"] is True
        assert time.monotonic() - t0 < 3
        time.sleep(0.1)
        t0 = time.monotonic()  # the store is known to hang: the next one does not queue behind it
        second = post(client, "issues", OPENED, delivery="second")
        assert second.status_code == 202 and second.json()["spooled"] is True
        assert time.monotonic() - t0 < 0.5
        health = client.get("/healthz")
        assert (
            health.status_code == 503 and "intake has waited on the store" in health.json()["store"]
        )
        assert health.json()["spool"].startswith(
            "2 deliveries kept while the store was unavailable"
        )
    # released: the held batch goes in, and the spool is replayed; each is queued once
    after = open_store(store_url)
    with TestClient(app) as client:
        _until(lambda: _recorded(after, "first")() and _recorded(after, "second")())
        assert client.get("/healthz").json() == {"ok": True, "store": "ok"}
    assert sorted(queue.sent) == ["first", "second"]
    assert list((settings.data_dir / "spool").iterdir()) == []


def _broken_store_app(settings: Settings, store: Store, queue: Recorder) -> TestClient:
    """The store refuses every write, as a full disk or a read-only file system does."""

    def refuse(rows: Any) -> list[bool]:
        raise sqlite3.OperationalError("database or disk is full")

    store.record_deliveries = refuse  # type: ignore[method-assign]
    return TestClient(create_app(settings, store, queue))


def test_a_full_spool_answers_503_and_says_so_in_the_log(
    settings: Settings, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    small = settings.model_copy(update={"spool_max_bytes": 2 * len(OPENED) + 200})  # one entry
    client = _broken_store_app(small, store, Recorder())
    assert post(client, "issues", OPENED, delivery="fits").status_code == 202
    with caplog.at_level("ERROR", logger="bot.webhook"):
        r = post(client, "issues", OPENED, delivery="over")
    assert r.status_code == 503
    assert "SMOLBOT_SPOOL_MAX_BYTES" in r.json()["detail"]
    assert "Recent Deliveries" in r.json()["detail"]  # GitHub will not resend it by itself
    logged = " ".join(rec.getMessage() for rec in caplog.records)
    assert "over" in logged and "spool" in logged and "is full" in logged
    assert Spool(small.data_dir / "spool", 0).status().deliveries == 1


def test_spooled_entries_are_private_whole_files(settings: Settings, store: Store) -> None:
    client = _broken_store_app(settings, store, Recorder())
    assert post(client, "issues", OPENED, delivery="kept").status_code == 202
    (entry,) = (settings.data_dir / "spool").iterdir()
    assert entry.suffix == ".jsonl" and entry.stat().st_mode & 0o777 == 0o600
    (row,) = [json.loads(line) for line in entry.read_text().splitlines()]
    assert row["id"] == "kept" and row["status"] == "received"
    assert json.loads(row["payload"]) == json.loads(OPENED)


def test_an_entry_recorded_before_a_crash_is_not_queued_again(
    settings: Settings, store: Store
) -> None:
    """The process died after the store committed an entry and before deleting it: the next
    replay finds its ids recorded (the store ignores a repeated delivery id) and queues none."""
    spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes)
    queue = Recorder()
    batcher = IntakeBatcher(store, queue, threading.Lock(), spool)
    row = {"id": "d-1", "event": "issues", "status": "received", "payload": "{}"}
    spool.put([row, {**row, "id": "d-2"}], "test")
    store.record_deliveries([row])  # committed and queued, then the crash
    assert batcher.replay() == 2
    assert queue.sent == ["d-2"] and spool.entries() == []


def test_two_web_processes_sharing_a_spool_replay_each_entry_once(
    settings: Settings, store_url: str
) -> None:
    directory = settings.data_dir / "spool"
    writer = Spool(directory, settings.spool_max_bytes)
    for i in range(40):
        row = {"id": f"d-{i}", "event": "issues", "status": "received", "payload": "{}"}
        writer.put([row], "test")
    queue = Recorder()
    # each replayer opens its own files and its own store connection, as a process does
    replayers = [
        IntakeBatcher(open_store(store_url), queue, threading.Lock(), Spool(directory, 10**9))
        for _ in range(2)
    ]
    done: list[int] = []
    errors: list[Exception] = []

    def drain(b: IntakeBatcher) -> None:
        try:
            while n := b.replay(limit=1):
                done.append(n)
        except Exception as err:
            errors.append(err)

    threads = [threading.Thread(target=drain, args=(b,)) for b in replayers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sum(done) == 40 and writer.entries() == []
    assert sorted(queue.sent) == sorted(f"d-{i}" for i in range(40))  # each once


def test_an_entry_another_process_is_replaying_is_left_to_it(settings: Settings) -> None:
    spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes)
    entry = spool.put([{"id": "d-1", "event": "issues"}], "test")
    other = Spool(spool.dir, spool.max_bytes)
    with spool.take(entry) as rows:
        assert rows == [{"id": "d-1", "event": "issues"}]
        with other.take(entry) as theirs:
            assert theirs is None  # locked
    with other.take(entry) as theirs:
        assert theirs is None  # gone: replayed and deleted
    assert spool.entries() == []


def test_a_failed_replay_keeps_the_entry(settings: Settings, store: Store) -> None:
    spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes)
    spool.put([{"id": "d-1", "event": "issues", "status": "received", "payload": "{}"}], "t")
    broken = IntakeBatcher(store, Recorder(), threading.Lock(), spool)

    def unavailable(rows: Sequence[Mapping[str, Any]]) -> list[bool]:
        raise sqlite3.OperationalError("disk I/O error")  # an outage (another error: rejected/)

    store.record_deliveries = unavailable  # type: ignore[method-assign]
    with pytest.raises(sqlite3.OperationalError):
        broken.replay()
    assert len(spool.entries()) == 1


def test_doctor_says_what_waits_in_the_spool(settings: Settings, store: Store) -> None:
    assert _spool(settings) == (True, "empty")
    client = _broken_store_app(settings, store, Recorder())
    for i in range(3):
        assert post(client, "issues", OPENED, delivery=f"d-{i}").status_code == 202
    ok, detail = _spool(settings)
    assert not ok
    assert detail.startswith("3 deliveries kept while the store was unavailable, oldest 0 s ago")
    assert "`smolbot web`" in detail and "SMOLBOT_SPOOL_MAX_BYTES" in detail


def test_doctor_says_what_was_moved_aside(settings: Settings) -> None:
    rejected = settings.data_dir / "spool" / "rejected"
    rejected.mkdir(parents=True)
    (rejected / "entry.jsonl").write_text("{not json\n")
    ok, detail = _spool(settings)
    assert not ok
    assert "1 spool entry(ies) could not be replayed" in detail and "rejected/" in detail
