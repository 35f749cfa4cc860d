"""The embedded broker across a fork: a forked child (a prefork worker's replacement child) never
uses the sqlite3 connection its parent pooled before the fork."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import pytest
from kombu import Connection

from workers.embedded_broker import ALIAS

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _conn(path: Path) -> Connection:
    return Connection(f"sqlite:///{path}", transport=ALIAS)


def _pooled_sqlite3(channel: object) -> int:
    """id() of the sqlite3 connection the channel's engine hands out next (then checked back in)."""
    engine, _ = channel._open()  # type: ignore[attr-defined]
    raw = engine.raw_connection()
    try:
        return id(raw.dbapi_connection)
    finally:
        raw.close()


def _in_child(path: Path, parents: int) -> str:
    """What a replacement child does: a new kombu connection, then a publish. '' when all is well."""
    with _conn(path) as conn:
        ch = conn.default_channel
        mine = _pooled_sqlite3(ch)
        if mine == parents:
            return "the child was handed the parent's sqlite3 connection"
        ch._put("fast", {"body": "from the child"})
    return ""


def test_a_forked_child_publishes_on_its_own_connection_and_the_parent_still_consumes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "broker.sqlite"
    with _conn(path) as conn:
        ch = conn.default_channel
        ch._put("fast", {"body": "before the fork"})
        assert ch._get("fast") == {"body": "before the fork"}
        parents = _pooled_sqlite3(ch)

        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report through the pipe, never return into pytest
            code = 1
            try:
                os.close(read_end)
                problem = _in_child(path, parents)
                os.write(write_end, problem.encode())
                code = 0 if not problem else 1
            except BaseException:
                os.write(write_end, traceback.format_exc().encode())
            finally:
                sys.stdout.flush()
                os._exit(code)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as fh:
            report = fh.read().decode()
        _, status = os.waitpid(pid, 0)
        assert report == ""
        assert os.waitstatus_to_exitcode(status) == 0

        # the parent goes on with the connection it had, and takes what the child published
        ch._put("fast", {"body": "after the fork"})
        assert ch._get("fast") == {"body": "from the child"}
        assert ch._get("fast") == {"body": "after the fork"}
        assert _pooled_sqlite3(ch) == parents
