"""The Redis transport survives a channel closing after its connection was cleared (real Redis)."""

from __future__ import annotations

import uuid

import pytest
from kombu import Connection
from kombu.transport import TRANSPORT_ALIASES

from bot.settings import load_settings
from workers.redis_transport import ALIAS

URL = "redis://127.0.0.1:6379/11"
STOCK = "kombu.transport.redis:Transport"


def _taken_unacked(transport: str) -> Connection:
    """A connection holding one message taken and not acknowledged (so closing restores it)."""
    conn = Connection(URL, transport=transport)
    try:
        conn.ensure_connection(max_retries=1)
    except Exception as err:  # the machine's Redis is part of the test set-up
        conn.release()
        pytest.fail(f"Redis at {URL} is not answering ({err}); start it (see DESIGN.md)")
    q = conn.SimpleQueue(f"t-{uuid.uuid4().hex[:8]}")
    q.put({"n": 1})
    assert q.get(timeout=5).payload == {"n": 1}
    return conn


def test_stock_channel_crashes_where_ours_closes() -> None:
    # what a worker meets when Redis goes away: the transport's connection details are cleared
    # before the default channel puts its unacknowledged message back
    stock = _taken_unacked(STOCK)
    stock.transport.client = None
    with pytest.raises(AttributeError, match="hostname"):
        stock.default_channel.close()
    ours = _taken_unacked(ALIAS)
    ours.transport.client = None
    ours.maybe_close_channel(ours.default_channel)  # a connection error: ignored while closing
    assert ours.default_channel.closed


def test_celery_on_a_redis_url_uses_it() -> None:
    from workers.celery_app import app, configure

    configure(load_settings(env="test", broker_url=URL))
    assert TRANSPORT_ALIASES["redis"] == ALIAS
    with app.connection_for_write() as conn:
        assert type(conn.transport).__module__ == "workers.redis_transport"


def test_a_stalled_redis_fails_a_publish_instead_of_holding_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Redis paused or behind a dead NAT entry accepts and never answers: the webhook's publish
    must give up (the delivery is stored; the recovery sweep queues it), not wait forever and
    hold every later delivery behind it. It waited forever with kombu's defaults."""
    import socket
    import threading

    from bot.ports import QueueUnavailable
    from workers.celery_app import configure
    from workers.tasks import enqueue_deliveries

    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept_and_hold() -> None:
        for _ in range(50):
            try:
                held.append(server.accept()[0])
            except OSError:  # the test closed the server: done
                return

    threading.Thread(target=accept_and_hold, daemon=True).start()
    configure(
        load_settings(
            env="test",
            data_dir=tmp_path,
            broker_url=f"redis://127.0.0.1:{server.getsockname()[1]}/0",
        )
    )
    outcome: list[BaseException | None] = []

    def publish() -> None:
        try:
            enqueue_deliveries(["d1"])
            outcome.append(None)
        except BaseException as err:
            outcome.append(err)

    worker = threading.Thread(target=publish, daemon=True)
    worker.start()
    worker.join(120)  # liveness, not speed: the timeout is 5 s; forever was the fault
    try:
        assert outcome, "the publish to a stalled Redis is still waiting"
        assert isinstance(outcome[0], QueueUnavailable) and "Timeout" in str(outcome[0])
    finally:
        server.close()
        for conn in held:
            conn.close()
        configure(load_settings(env="test", data_dir=tmp_path))


@pytest.mark.parametrize("scheme", ["redis", "amqp"])
def test_a_refusing_broker_is_tried_once_per_publish(tmp_path, scheme: str) -> None:  # type: ignore[no-untyped-def]
    """A broker that is down: kombu tried to connect three times over 6 s while the webhook, and
    every delivery behind it, waited (GitHub gives up at 10 s). One try, then `queued: false`."""
    import socket
    import threading

    from bot.ports import QueueUnavailable
    from workers.celery_app import configure
    from workers.tasks import enqueue_deliveries

    server = socket.create_server(("127.0.0.1", 0))
    tries: list[int] = []

    def accept_and_close() -> None:
        while True:
            try:
                conn = server.accept()[0]
            except OSError:  # the test closed the server: done
                return
            tries.append(1)
            conn.close()

    threading.Thread(target=accept_and_close, daemon=True).start()
    port = server.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0" if scheme == "redis" else f"amqp://g:g@127.0.0.1:{port}//"
    configure(load_settings(env="test", data_dir=tmp_path, broker_url=url))
    try:
        with pytest.raises(QueueUnavailable):
            enqueue_deliveries(["d1"])
        assert len(tries) == 1
    finally:
        server.close()
        configure(load_settings(env="test", data_dir=tmp_path))
