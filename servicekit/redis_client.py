"""The one way a service builds a Redis client, and the readiness check over it.

Sessions (identity's and the portal's), revoked-session checks, rate limits and the
readiness checks all use clients from `redis_client`. Its timeouts are bounded: a Redis
that stops answering fails a request, never hangs it. The composition root that builds a
client owns it and closes it when the component stops
(`runtime.close_on_stop(name, client.aclose)`, or the store that wraps it closes it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis

#: Seconds to open a connection and to wait for an answer when nothing else is said.
CONNECT_TIMEOUT_S = 2.0
ANSWER_TIMEOUT_S = 5.0


def redis_client(
    url: str,
    *,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
    answer_timeout_s: float = ANSWER_TIMEOUT_S,
) -> Redis:
    """A client for `url` with bounded waits (the caller closes it on stop)."""
    import redis.asyncio as redis

    client: Redis = redis.Redis.from_url(
        url, socket_connect_timeout=connect_timeout_s, socket_timeout=answer_timeout_s
    )
    return client


def redis_readiness(client: Redis) -> Callable[[], Awaitable[str]]:
    """A readiness check: `ok` when Redis answers a PING on `client`."""

    async def check() -> str:
        await client.ping()
        return "ok"

    return check
