"""The one Redis client factory: bounded waits, and a readiness check over its client."""

from __future__ import annotations

from servicekit.auth import redis_client as revocation_redis_client
from servicekit.embedded_broker import free_loopback_port
from servicekit.redis_client import redis_client, redis_readiness


async def test_a_client_waits_a_bounded_time_and_readiness_pings_it() -> None:
    client = redis_client("redis://127.0.0.1:6379/0")
    options = client.connection_pool.connection_kwargs
    assert (options["socket_connect_timeout"], options["socket_timeout"]) == (2.0, 5.0)
    assert await redis_readiness(client)() == "ok"
    await client.aclose()


async def test_revocation_checks_wait_less_a_request_waits_on_them() -> None:
    client = revocation_redis_client(f"redis://127.0.0.1:{free_loopback_port()}/0")
    options = client.connection_pool.connection_kwargs
    assert (options["socket_connect_timeout"], options["socket_timeout"]) == (1, 2)
    await client.aclose()
