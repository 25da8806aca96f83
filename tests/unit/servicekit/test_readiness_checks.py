"""Readiness reports every dependency a service cannot work without, Redis included."""

from __future__ import annotations

from pathlib import Path

from servicekit.auth import redis_readiness
from servicekit.embedded_broker import free_loopback_port
from servicekit.runtime import ServiceRuntime
from servicekit.settings import KafkaSettings


async def test_readiness_names_redis_reachable_or_not(tmp_path: Path) -> None:
    from fiches.adapters.tables import TABLES

    runtime = ServiceRuntime(
        name="fiches",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'f.db'}",
        kafka=KafkaSettings(),
        tables=TABLES,
        migrations_package="fiches.migrations",
    )
    runtime.add_readiness_check("redis", redis_readiness("redis://127.0.0.1:6379/0"))
    runtime.add_readiness_check(
        "redis-elsewhere", redis_readiness(f"redis://127.0.0.1:{free_loopback_port()}/0")
    )
    try:
        checks = await runtime.readiness()
    finally:
        await runtime.engine.dispose()
    assert checks["database"] == "ok"
    assert checks["redis"] == "ok"
    assert checks["redis-elsewhere"].startswith("unreachable: ")
