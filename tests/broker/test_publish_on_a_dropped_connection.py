"""The web process publishes on a pooled broker connection that can sit idle for minutes in a quiet
week. A broker that dropped it meanwhile (RabbitMQ closes a connection whose heartbeats stopped,
a restart, an idle timeout) must not cost the next delivery its place in the queue: it failed
with "Connection reset by peer" and waited for the recovery sweep (seen in a full test run)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import redis

from bot.settings import load_settings
from tests.e2e.harness import AMQP_URL
from tests.redis_db import redis_test_url


def _queued(app) -> int:  # type: ignore[no-untyped-def]
    with app.connection_for_write() as conn:
        return int(conn.default_channel.queue_declare(queue="fast", passive=True).message_count)


def _drop_amqp(app) -> None:  # type: ignore[no-untyped-def]
    """Close, on the broker's side, the connection the publisher's pool holds (used last)."""
    with app.pool.acquire(block=True) as conn:
        host, port = conn.connection.sock.getsockname()[:2]
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "name", "pid"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    pids = [
        line.split("\t")[1] for line in listed.splitlines() if line.startswith(f"{host}:{port} -> ")
    ]
    assert len(pids) == 1, listed
    subprocess.run(
        ["rabbitmqctl", "close_connection", pids[0], "dropped by the test"],
        check=True,
        capture_output=True,
        timeout=60,
    )


def _drop_redis(app, url: str) -> None:  # type: ignore[no-untyped-def]
    """Kill, on the server's side, the client connections the publisher's pool holds."""
    with app.pool.acquire(block=True) as conn:
        pool = conn.default_channel.client.connection_pool
        socks = [c._sock for c in pool._available_connections if c._sock is not None]
        addresses = [s.getsockname()[:2] for s in socks]
    assert addresses
    admin = redis.Redis.from_url(url)
    for host, port in addresses:
        assert admin.client_kill(f"{host}:{port}")


@pytest.mark.parametrize("kind", ["amqp", "redis"])
def test_a_delivery_published_after_the_broker_dropped_the_pooled_connection_is_queued(
    tmp_path: Path, kind: str
) -> None:
    from workers.celery_app import app, configure
    from workers.tasks import enqueue_deliveries

    url = AMQP_URL if kind == "amqp" else redis_test_url()
    configure(load_settings(env="test", data_dir=tmp_path, broker_url=url))
    with app.connection_for_write() as conn:  # not the pool's: an earlier test's may be stale
        app.control.purge(connection=conn)
    enqueue_deliveries(["d-1"])
    if kind == "amqp":
        _drop_amqp(app)
    else:
        _drop_redis(app, url)
    enqueue_deliveries(["d-2"])  # raised QueueUnavailable: ConnectionResetError
    assert _queued(app) == 2
    with app.connection_for_write() as conn:
        app.control.purge(connection=conn)
