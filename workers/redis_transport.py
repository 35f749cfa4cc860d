"""kombu's Redis transport with one fix: closing a channel whose connection is already gone.

When Redis goes away under a running worker, Celery closes the broken connection. kombu's Redis
channel drops its connection pool, then tries to put its unacknowledged messages back, which needs
a new pool, built from connection details kombu has already cleared. The AttributeError that
follows is not a connection error, so nothing catches it and the worker process exits
("Unrecoverable error: 'NoneType' object has no attribute 'hostname'"). Seen here in the scale
test's Redis restart (kombu 5.7). This channel raises a connection error instead, which kombu
ignores while closing; the worker reconnects when Redis is back. The unacknowledged messages stay
in Redis until their visibility timeout, and the store's recovery sweep re-queues any it lost.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import TRANSPORT_ALIASES, redis
from redis.exceptions import ConnectionError as RedisConnectionError

ALIAS = "workers.redis_transport:Transport"


class Channel(redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection.client is None:
            raise RedisConnectionError("the broker connection was closed; reconnect to use Redis")
        return super()._connparams(asynchronous)  # type: ignore[no-any-return]


class Transport(redis.Transport):
    Channel = Channel


def use_for_redis_urls() -> None:
    """`redis://` and `rediss://` URLs resolve to this transport in this process."""
    TRANSPORT_ALIASES["redis"] = ALIAS
    TRANSPORT_ALIASES["rediss"] = ALIAS
