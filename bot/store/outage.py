"""Which exceptions mean "the database is unreachable for now" (retry later, never give up)."""

from __future__ import annotations

import sqlite3


def unavailable_errors() -> tuple[type[Exception], ...]:
    """SQLite's locked/unopenable file, and PostgreSQL's lost connection when psycopg is installed."""
    errors: list[type[Exception]] = [sqlite3.OperationalError]
    try:
        import psycopg
    except ImportError:  # the embedded default needs no PostgreSQL driver
        return tuple(errors)
    errors.append(psycopg.OperationalError)
    return tuple(errors)
