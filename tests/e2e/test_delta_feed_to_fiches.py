"""The service polls the delta feed by itself: a death in the source takes the fiche offline."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx
import pytest
import uvicorn

from fiches.config import FichesSettings
from fiches.entrypoints.app import build_component as build_fiches
from registry_sync.config import RegistrySyncSettings
from registry_sync.entrypoints.app import build_component as build_registry_sync
from registry_sync.simulator.source_server import SimulatedSource, create_source_app
from servicekit.embedded_broker import free_loopback_port
from servicekit.http import api_app
from servicekit.settings import KafkaSettings, PlatformSettings
from tests.support.infrastructure import wait_for

pytestmark = pytest.mark.e2e


async def test_a_death_reported_by_the_polled_feed_depublishes_the_fiche(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    source = SimulatedSource(30, seed=11)
    port = free_loopback_port()
    server = uvicorn.Server(
        uvicorn.Config(create_source_app(source), host="127.0.0.1", port=port, log_config=None)
    )
    serving = asyncio.create_task(server.serve())
    platform = PlatformSettings(data_dir=tmp_path)
    registry = build_registry_sync(
        platform,
        kafka,
        RegistrySyncSettings(feed_url=f"http://127.0.0.1:{port}", feed_poll_interval_s=0.2),
    )
    fiches = build_fiches(platform, kafka, FichesSettings())
    await registry.runtime.start()
    await fiches.runtime.start()
    app = api_app()
    for router in fiches.api_routers():
        app.include_router(router)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    try:

        async def total() -> int:
            response = await client.get("/api/fiches/providers", params={"limit": 1})
            return int(response.json()["total"])

        await wait_for(lambda: _equals(total(), 30), timeout_s=60)
        source.stop(4, "deceased")
        # Only that it arrives: the latency is measured in bench/pipeline.py.
        await wait_for(lambda: _equals(total(), 29), timeout_s=60)
    finally:
        await client.aclose()
        await fiches.runtime.stop()
        await registry.runtime.stop()
        server.should_exit = True
        with contextlib.suppress(Exception):
            await serving


async def _equals(value: object, expected: int) -> bool:
    return await value == expected  # type: ignore[misc]
