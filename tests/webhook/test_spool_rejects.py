"""A spool entry that cannot be replayed (damaged, or refused by the store for a reason other
than an outage) is moved aside into spool/rejected/ with an error in the log: the deliveries
behind it are recorded all the same, and /healthz says what waits there."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
import pytest

from bot.settings import Settings
from bot.store import Store, open_store
from bot.store.outage import is_outage
from bot.webhook.batcher import IntakeBatcher, SpoolRefused
from bot.webhook.spool import REJECTED, Spool
from tests.webhook.test_app import Recorder


def _row(i: str) -> dict[str, Any]:
    return {"id": i, "event": "issues", "action": "opened", "installation_id": 7, "repo": "o/r",
            "number": 1, "status": "received", "payload": "{}"}  # fmt: skip


def test_a_damaged_entry_is_moved_aside_and_the_rest_is_replayed(
    settings: Settings, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """An entry that is not JSON lines (a disk error, a hand-copied spool) stopped every replay
    at json.loads, before any store call."""
    spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes)
    damaged = spool.put([_row("first")], "test")
    damaged.write_bytes(b'{"id": "fir')
    spool.put([_row("good")], "test")
    queue = Recorder()
    batcher = IntakeBatcher(store, queue, threading.Lock(), spool)
    with caplog.at_level("ERROR", logger="bot.webhook"):
        assert batcher.replay() == 1
    assert store.delivery("good") is not None and queue.sent == ["good"]
    assert spool.entries() == []
    assert (spool.dir / REJECTED / damaged.name).read_bytes() == b'{"id": "fir'
    assert spool.status().rejected == 1
    assert "rejected" in spool.status().describe()
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert damaged.name in logged and "not JSON lines" in logged


def _refusing(store: Store, poison: str) -> None:
    """The store refuses any batch with `poison` in it, as it refuses a row it cannot take (a
    statement's own error, no outage), and records the rest."""
    real = store.record_deliveries
    bug = sqlite3.OperationalError("table deliveries has no column named payload")
    assert not is_outage(bug)

    def record(rows: Sequence[Mapping[str, Any]]) -> list[bool]:
        if any(r["id"] == poison for r in rows):
            raise bug
        return real(rows)

    store.record_deliveries = record  # type: ignore[method-assign]


def test_an_entry_the_store_refuses_is_moved_aside_and_the_rest_is_replayed(
    settings: Settings, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """A spooled entry the store refused for another reason than an outage failed the whole
    replay transaction, which was taken for an outage: nothing behind it was ever recorded."""
    spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes)
    poison = spool.put([_row("poison")], "test")
    spool.put([_row("good"), _row("also")], "test")
    _refusing(store, "poison")
    queue = Recorder()
    batcher = IntakeBatcher(store, queue, threading.Lock(), spool)
    with caplog.at_level("ERROR", logger="bot.webhook"):
        assert batcher.replay() == 2
    assert store.delivery("good") is not None and store.delivery("also") is not None
    assert store.delivery("poison") is None and queue.sent == ["good", "also"]
    assert spool.entries() == [] and (spool.dir / REJECTED / poison.name).exists()
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert poison.name in logged and "no column named payload" in logged


def test_an_outage_keeps_every_entry_for_the_next_try(settings: Settings, store: Store) -> None:
    spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes)
    spool.put([_row("a")], "test")
    spool.put([_row("b")], "test")

    def locked(rows: Sequence[Mapping[str, Any]]) -> list[bool]:
        raise sqlite3.OperationalError("database is locked")

    store.record_deliveries = locked  # type: ignore[method-assign]
    with pytest.raises(sqlite3.OperationalError):
        IntakeBatcher(store, Recorder(), threading.Lock(), spool).replay()
    assert len(spool.entries()) == 2 and spool.status().rejected == 0


def test_a_delivery_the_store_refuses_is_answered_503_not_spooled(
    settings: Settings, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """Kept in the spool, it was answered 202 and could never be recorded; a 503 shows in
    GitHub's Recent Deliveries, and the traceback is in the log."""
    from fastapi.testclient import TestClient

    from bot.webhook.app import create_app
    from tests.webhook.test_app import OPENED, post

    _refusing(store, "poison")
    with TestClient(create_app(settings, store, Recorder())) as client:
        with caplog.at_level("ERROR", logger="bot.webhook"):
            r = post(client, "issues", OPENED, delivery="poison")
        assert r.status_code == 503, r.json()
        assert "no column named payload" in r.json()["detail"]
        assert "Recent Deliveries" in r.json()["detail"]
        assert post(client, "issues", OPENED, delivery="good").status_code == 202
    assert Spool(settings.data_dir / "spool", 10**7).status().entries == 0
    assert any(r.exc_info and "poison" in r.getMessage() for r in caplog.records)


def test_healthz_says_when_the_spool_cannot_drain(settings: Settings, store: Store) -> None:
    """The store answers its ping, but an entry it refuses waits in rejected/: /healthz answered
    200 ok and said the deliveries are recorded "once the store answers"."""
    from fastapi.testclient import TestClient

    from bot.webhook.app import create_app

    spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes)
    spool.put([{**_row("poison"), "number": 10**30}], "test")  # over SQLite's 64-bit integers
    with TestClient(create_app(settings, store, Recorder())) as client:
        deadline = time.monotonic() + 10
        while spool.entries() and time.monotonic() < deadline:  # the intake's first replay
            time.sleep(0.05)
        health = client.get("/healthz")
    assert health.status_code == 503, health.json()
    assert health.json()["store"] == "ok"
    assert "rejected/" in health.json()["spool"] and "move them back" in health.json()["spool"]


def test_healthz_says_when_replays_keep_failing_while_the_store_answers(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from bot.webhook import app as web
    from bot.webhook.app import create_app

    spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes)
    spool.put([_row("a")], "test")

    def locked(rows: Sequence[Mapping[str, Any]]) -> list[bool]:
        raise sqlite3.OperationalError("database is locked")  # its ping answers all the same

    store.record_deliveries = locked  # type: ignore[method-assign]
    application = create_app(settings, store, Recorder())
    batcher = application.state.edge.batcher
    with TestClient(application) as client:
        deadline = time.monotonic() + 10
        while batcher.replay_failing is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get("/healthz").status_code == 200  # failing for a moment: an outage
        monkeypatch.setattr(web, "SPOOL_STUCK_S", 0.0)
        health = client.get("/healthz")
    assert health.status_code == 503, health.json()
    assert "database is locked" in health.json()["spool"]


def test_entries_the_store_refuses_for_what_it_is_stay_until_it_is_fixed(
    settings: Settings, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """A store that lost its deliveries table (a restore of the wrong file, a schema this version
    does not match; a revoked grant on PostgreSQL) refuses every entry the same way: each was
    moved into rejected/, to be moved back by hand. Now they stay, the pass fails saying what
    to fix, and once it is fixed they are recorded."""
    spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes)
    spool.put([_row("a")], "test")
    spool.put([_row("b"), _row("c")], "test")
    store.db.execute("alter table deliveries rename to deliveries_away")
    queue = Recorder()
    batcher = IntakeBatcher(store, queue, threading.Lock(), spool)
    with caplog.at_level("ERROR", logger="bot.webhook"):
        for _ in range(3):
            failed = batcher._replay_pass()
            assert isinstance(failed, SpoolRefused), failed
    assert "no such table: deliveries" in str(failed) and "fix the store" in str(failed)
    assert batcher.replay_failing is not None and "fix the store" in batcher.replay_failing[1]
    assert len(spool.entries()) == 2 and spool.status().rejected == 0
    assert sum(r.exc_info is not None for r in caplog.records) == 1  # said once, not each pass
    store.db.execute("alter table deliveries_away rename to deliveries")
    assert batcher._replay_pass() is None
    assert spool.entries() == [] and sorted(queue.sent) == ["a", "b", "c"]
    assert batcher.replay_failing is None


def test_a_data_fault_is_moved_aside_even_when_nothing_else_waits(
    settings: Settings, store: Store
) -> None:
    """Refused for what it holds (an id the store cannot bind), the lone entry would be refused
    for ever: it goes into rejected/, and the next entries are recorded."""
    spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes)
    bad = spool.put([{**_row("x"), "installation_id": {"id": 7}}], "test")
    batcher = IntakeBatcher(store, Recorder(), threading.Lock(), spool)
    assert batcher._replay_pass() is None
    assert spool.entries() == [] and (spool.dir / REJECTED / bad.name).exists()


def test_a_revoked_grant_on_postgresql_keeps_the_entries_until_it_is_granted_again(
    settings: Settings, pg_url: str
) -> None:
    """The store's role lost INSERT on deliveries (a migration run by hand, a grant script gone
    wrong): "permission denied" for every entry, none moved aside, all recorded once granted."""
    open_store(pg_url).close()  # made by its owner; the web runs as a role of its own
    role = "smolbot_web_" + uuid.uuid4().hex[:8]
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"create role {role} login")
        try:
            admin.execute(f"grant usage on schema public to {role}")
            admin.execute(
                f"grant select, insert, update, delete on all tables in schema public to {role}"
            )
            admin.execute(f"grant usage, select on all sequences in schema public to {role}")
            store = open_store(pg_url.replace("postgres@", f"{role}@", 1))
            spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes)
            spool.put([_row("a")], "test")
            spool.put([_row("b")], "test")
            admin.execute(f"revoke insert on deliveries from {role}")
            queue = Recorder()
            batcher = IntakeBatcher(store, queue, threading.Lock(), spool)
            failed = batcher._replay_pass()
            assert isinstance(failed, SpoolRefused), failed
            assert "permission denied for table deliveries" in str(failed)
            assert len(spool.entries()) == 2 and spool.status().rejected == 0
            admin.execute(f"grant insert on deliveries to {role}")
            assert batcher._replay_pass() is None
            assert sorted(queue.sent) == ["a", "b"] and spool.entries() == []
            store.close()
        finally:
            admin.execute(f"drop owned by {role}")
            admin.execute(f"drop role {role}")
