"""Which exceptions mean "the database is unreachable for now" (retry later, never give up)."""

from __future__ import annotations

import sqlite3

# SQLite's primary result codes for a file that is away for now: SQLITE_BUSY, SQLITE_LOCKED
# (another writer), SQLITE_READONLY (a remount), SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN (a
# mount gone), SQLITE_PROTOCOL (a WAL lock race). The rest of sqlite3.OperationalError is the
# statement's own fault: no such column or table, a syntax error, too many SQL variables.
SQLITE_OUTAGE_CODES = frozenset({5, 6, 8, 10, 13, 14, 15})
SQLITE_OUTAGE_WORDS = ("locked", "busy", "unable to open", "disk is full", "disk i/o", "readonly")


class LocksLost(Exception):
    """The store's session ended while it held locks: the work they guarded must stop.

    A marker for code that reads the store on a best-effort basis (logs an error and goes on):
    this one it lets through. PostgreSQL's SessionLocksLost is one; SQLite holds no session locks.
    """


def unavailable_errors() -> tuple[type[Exception], ...]:
    """SQLite's locked/unopenable file, and PostgreSQL's lost connection or read-only server when
    psycopg is installed.

    Not every error of these classes is an outage: ask is_outage() before retrying."""
    errors: list[type[Exception]] = [sqlite3.OperationalError]
    try:
        import psycopg
    except ImportError:  # the embedded default needs no PostgreSQL driver
        return tuple(errors)
    errors.append(psycopg.OperationalError)
    # InternalErrors that mean "away for now" too: a read-only server (a failover left the URL
    # on a standby; default_transaction_read_only for maintenance), and a session the server
    # ended for idling in a transaction (the next statement reconnects)
    errors += [
        psycopg.errors.ReadOnlySqlTransaction,
        psycopg.errors.IdleInTransactionSessionTimeout,
    ]
    return tuple(errors)


def is_outage(err: BaseException) -> bool:
    """Whether an error of unavailable_errors() means the database is away for now, rather than
    a statement that will fail the same way every time (a bug, a schema the code does not match):
    that one is parked as a dead letter, with its traceback in the log, not retried for ever."""
    if isinstance(err, sqlite3.OperationalError):
        code = getattr(err, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in SQLITE_OUTAGE_CODES
        return any(word in str(err).lower() for word in SQLITE_OUTAGE_WORDS)
    # PostgreSQL: class 54, program limit exceeded (too many columns, a statement too complex)
    return not str(getattr(err, "sqlstate", None) or "").startswith("54")
