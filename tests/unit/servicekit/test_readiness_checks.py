"""Readiness reports every dependency a service cannot work without, Redis included; the
Redis client a service builds for it is closed when the service stops."""

from __future__ import annotations

import uuid
from pathlib import Path

from pydantic import SecretStr

from fiches.config import ExportSettings, FichesSettings
from fiches.entrypoints.app import build_component
from servicekit.auth import AuthSettings
from servicekit.embedded_broker import free_loopback_port
from servicekit.redis_client import redis_client, redis_readiness
from servicekit.runtime import ServiceRuntime
from servicekit.settings import Environment, PlatformSettings

REDIS = "redis://127.0.0.1:6379/0"


async def test_readiness_names_redis_reachable_or_not(idle_runtime: ServiceRuntime) -> None:
    runtime = idle_runtime
    reachable = redis_client(REDIS)
    nowhere = redis_client(f"redis://127.0.0.1:{free_loopback_port()}/0")
    runtime.add_readiness_check("redis", redis_readiness(reachable))
    runtime.add_readiness_check("redis-elsewhere", redis_readiness(nowhere))
    checks = await runtime.readiness()
    await reachable.aclose()
    await nowhere.aclose()
    assert checks["database"] == "ok"
    assert checks["redis"] == "ok"
    assert checks["redis-elsewhere"].startswith("unreachable: ")


def _fiches_in_production(tmp_path: Path, redis_url: str) -> ServiceRuntime:
    component = build_component(
        PlatformSettings(environment=Environment.PRODUCTION, data_dir=tmp_path),
        # Outside development the database URL must be given (a SQLite file here).
        settings=FichesSettings(
            email_lookup_key=SecretStr("k" * 40),
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'fiches.db'}",
        ),
        auth=AuthSettings(redis_url=redis_url),
        export_settings=ExportSettings(
            signing_key=SecretStr("s" * 40), public_base_url="https://fiches.example"
        ),
    )
    return component.runtime


async def _connections_named(name: str) -> int:
    async with redis_client(REDIS) as observer:
        clients = await observer.client_list()
    return sum(1 for client in clients if client.get("name") == name)


async def test_the_revocation_client_is_closed_when_the_service_stops(tmp_path: Path) -> None:
    name = f"readiness-{uuid.uuid4().hex[:12]}"
    runtime = _fiches_in_production(tmp_path, f"{REDIS}?client_name={name}")
    try:
        assert (await runtime.readiness())["redis"] == "ok"
        assert await _connections_named(name) == 1
    finally:
        await runtime.stop()
    assert await _connections_named(name) == 0


async def test_readiness_reports_an_unreachable_session_store(tmp_path: Path) -> None:
    runtime = _fiches_in_production(tmp_path, f"redis://127.0.0.1:{free_loopback_port()}/0")
    try:
        assert (await runtime.readiness())["redis"].startswith("unreachable: ")
    finally:
        await runtime.stop()
