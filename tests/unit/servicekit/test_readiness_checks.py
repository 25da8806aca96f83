"""Readiness reports every dependency a service cannot work without, Redis included."""

from __future__ import annotations

from servicekit.auth import redis_readiness
from servicekit.embedded_broker import free_loopback_port
from servicekit.runtime import ServiceRuntime


async def test_readiness_names_redis_reachable_or_not(idle_runtime: ServiceRuntime) -> None:
    runtime = idle_runtime
    runtime.add_readiness_check("redis", redis_readiness("redis://127.0.0.1:6379/0"))
    runtime.add_readiness_check(
        "redis-elsewhere", redis_readiness(f"redis://127.0.0.1:{free_loopback_port()}/0")
    )
    checks = await runtime.readiness()
    assert checks["database"] == "ok"
    assert checks["redis"] == "ok"
    assert checks["redis-elsewhere"].startswith("unreachable: ")
