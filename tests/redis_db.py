"""A database of the machine's shared Redis, claimed for this test process.

Two test runs at once on one machine (CI and a developer's run) each flushed a Redis database
picked at random, or a fixed one, and so could flush the other's queues mid-test. A run now claims
one database (a key with its host and pid in database 15) and keeps it until it exits; a claim
whose process is gone is taken over.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import socket

import pytest
import redis

HOST = "redis://127.0.0.1:6379"
CLAIMS_DB = 15
POOL = range(1, 15)
TTL_S = 6 * 3600  # longer than any run; a run killed with -9 frees its claim by dying (pid check)


def _gone(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@functools.cache
def _claimed() -> int:
    owner = f"{socket.gethostname()}:{os.getpid()}"
    claims = redis.Redis.from_url(f"{HOST}/{CLAIMS_DB}")
    try:
        claims.ping()
    except redis.ConnectionError as err:
        pytest.fail(f"Redis at {HOST} is not answering ({err}); start it (see DESIGN.md)")
    for db in POOL:
        key = f"smolbot-tests:db:{db}"
        held = claims.get(key)
        if claims.set(key, owner, nx=True, ex=TTL_S) or (held and _gone(held.decode())):
            claims.set(key, owner, ex=TTL_S)
            atexit.register(_release, claims, key, owner)
            return db
    pytest.fail(f"all {len(POOL)} test databases of {HOST} are claimed by running test processes")


def _release(claims: redis.Redis, key: str, owner: str) -> None:
    with contextlib.suppress(redis.RedisError):
        if claims.get(key) == owner.encode():
            claims.delete(key)


def redis_test_url() -> str:
    """This process's own Redis database, emptied: call it at the start of each test using it."""
    url = f"{HOST}/{_claimed()}"
    redis.Redis.from_url(url).flushdb()
    return url
