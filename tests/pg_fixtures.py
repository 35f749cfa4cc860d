"""A scratch PostgreSQL database per test, and both store backends (a plugin of tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bot.store import Store, open_store

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _admin() -> psycopg.Connection:  # type: ignore[type-arg]
    try:
        return psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as err:
        pytest.fail(
            f"PostgreSQL on 127.0.0.1:5432 is not running ({err}); start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
        )


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = "smolbot_t_" + uuid.uuid4().hex[:10]
    with _admin() as conn:
        conn.execute(f"create database {name}")
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with _admin() as conn:
        conn.execute(f"drop database if exists {name} with (force)")


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on the SQLite file store and on PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "smolbot.db")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def any_store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    yield s
    s.close()
