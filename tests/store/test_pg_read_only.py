"""A PostgreSQL that answers "read-only" (a failover: the URL or the pooler still points at the
old primary, now a standby; a maintenance window with default_transaction_read_only) is away for
now, like SQLite's SQLITE_READONLY: retried, not parked. psycopg raises ReadOnlySqlTransaction
(25006), an InternalError, which neither the workers nor the webhook's spool caught: the
delivery was parked as a dead letter with a traceback."""

from __future__ import annotations

import psycopg
import pytest

from bot.store import open_store
from bot.store.outage import is_outage, unavailable_errors
from workers.tasks import DB_ERRORS


def test_a_read_only_postgresql_is_an_outage(pg_url: str) -> None:
    store = open_store(pg_url)
    name = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"alter database {name} set default_transaction_read_only = on")
    read_only = open_store(pg_url, migrate=False)  # a new session, as after a reconnect
    try:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction) as caught:
            read_only.set_delivery_status("x", "done")
        err = caught.value
        assert isinstance(err, DB_ERRORS) and is_outage(err), err.sqlstate
    finally:
        read_only.close()
        store.close()


def test_a_session_cut_for_idling_in_a_transaction_is_an_outage() -> None:
    err = psycopg.errors.IdleInTransactionSessionTimeout("terminating connection")
    assert isinstance(err, unavailable_errors()) and is_outage(err)
