"""Which exceptions mean "the database is unreachable for now" (retry later, never give up)."""

from __future__ import annotations

import re
import sqlite3
from urllib.parse import unquote

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


# What the rows themselves hold that a store cannot take: a constraint, a value out of its
# column's range or type (sqlite3 raises OverflowError for an integer over 64 bits, and
# ProgrammingError "Error binding parameter" for a type it cannot bind), a row over a limit.
_DATA_WORDS = ("binding parameter", "not supported", "too large", "too big")


def is_data_fault(err: BaseException) -> bool:
    """Whether a store refused rows for what they hold (another row would go in), rather than
    for what the store is (a table or column missing, a permission revoked, a schema this
    version does not match: every row would be refused the same way)."""
    if isinstance(err, OverflowError | ValueError | TypeError):
        return True
    if isinstance(err, sqlite3.IntegrityError | sqlite3.DataError | sqlite3.InterfaceError):
        return True
    if isinstance(err, sqlite3.ProgrammingError):
        return any(word in str(err).lower() for word in _DATA_WORDS)
    try:
        import psycopg
    except ImportError:
        return False
    if isinstance(err, psycopg.IntegrityError | psycopg.DataError):
        return True
    # class 54, program limit exceeded: a row or index entry too big
    return isinstance(err, psycopg.Error) and str(err.sqlstate or "").startswith("54")


def hide_password(text: str, url: str) -> str:
    """`text` with the password `url` carries (its user info, up to the last '@', or a
    ?password= parameter) replaced by ***, as written and %-decoded: errors and logs get pasted.
    Its pieces between `/`, `?` and `#` too (3 characters or more): a URL parser that took an
    unencoded `/` in the password for the path quotes the piece before it in its error
    ("Port could not be cast to integer value as 'Xk9'")."""
    rest = url.partition("://")[2]
    userinfo, at, host = rest.rpartition("@")
    secrets = [userinfo.partition(":")[2]] if at else []
    for param in (host if at else rest).partition("?")[2].split("&"):
        name, _, value = param.partition("=")
        secrets += [value] if "pass" in unquote(name).lower() else []
    secrets += [p for v in secrets for p in re.split(r"[/?#]", v) if len(p) >= 3]
    for secret in sorted({s for v in secrets for s in (v, unquote(v)) if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
