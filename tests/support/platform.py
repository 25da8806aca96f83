"""registry-sync, fiches and directory running in-process against a real broker, for
end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from directory.config import DirectorySettings
from directory.entrypoints.app import build_component as build_directory
from fiches.config import FichesSettings
from fiches.entrypoints.app import build_component as build_fiches
from registry_sync.config import RegistrySyncSettings
from registry_sync.entrypoints.app import build_component as build_registry_sync
from registry_sync.entrypoints.app import nrn_hasher
from registry_sync.handlers.import_snapshot import ImportSummary, import_snapshot
from servicekit.component import ServiceComponent
from servicekit.http import api_app
from servicekit.settings import KafkaSettings, PlatformSettings


@dataclass
class RunningPlatform:
    """The two components, an HTTP client on their routes, and helpers."""

    platform: PlatformSettings
    registry: ServiceComponent
    fiches: ServiceComponent
    http: httpx.AsyncClient

    async def import_file(self, path: Path, **options: Any) -> ImportSummary:
        """Import a snapshot the way `skaart registry import` does."""
        settings = RegistrySyncSettings()
        return await import_snapshot(
            path,
            sessions=self.registry.runtime.sessions,
            outbox=self.registry.runtime.outbox,
            hasher=nrn_hasher(settings, self.platform),
            **options,
        )

    async def professional_id_of(self, ssin: str) -> str:
        """registry-sync's opaque id of a person (via the keyed hash, as identity would)."""
        from registry_sync.adapters.tables import professionals

        digest = nrn_hasher(RegistrySyncSettings(), self.platform).hash(ssin)
        async with self.registry.runtime.sessions() as session:
            value = await session.scalar(
                sa.select(professionals.c.professional_id).where(professionals.c.nrn_hash == digest)
            )
        assert value is not None
        return str(value)

    async def published_total(self) -> int:
        """How many provider fiches the public list shows."""
        response = await self.http.get("/api/fiches/providers", params={"limit": 1})
        response.raise_for_status()
        return int(response.json()["total"])

    async def fiche_of(self, professional_id: str) -> dict[str, Any] | None:
        """The published fiche of a professional, or None."""
        response = await self.http.get(
            "/api/fiches/providers", params={"professional_id": professional_id}
        )
        response.raise_for_status()
        items = response.json()["items"]
        return items[0] if items else None


@asynccontextmanager
async def running_platform(
    kafka: KafkaSettings,
    tmp_path: Path,
    database_url: Callable[[str], Any] | None = None,
    fiches_factory: Callable[[PlatformSettings, KafkaSettings, FichesSettings], ServiceComponent]
    | None = None,
) -> AsyncIterator[RunningPlatform]:
    """Start registry-sync, fiches and directory (the public search); stop them afterwards."""
    platform = PlatformSettings(data_dir=tmp_path / "data")
    registry_url = await database_url("registry-sync") if database_url else None
    fiches_url = await database_url("fiches") if database_url else None
    registry = build_registry_sync(platform, kafka, RegistrySyncSettings(database_url=registry_url))
    fiches = (fiches_factory or build_fiches)(
        platform, kafka, FichesSettings(database_url=fiches_url)
    )
    directory_url = await database_url("directory") if database_url else None
    directory = build_directory(platform, kafka, DirectorySettings(database_url=directory_url))
    await registry.runtime.start()
    await fiches.runtime.start()
    await directory.runtime.start()
    app = api_app()
    for component in (registry, fiches, directory):
        for router in component.api_routers():
            app.include_router(router)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    try:
        yield RunningPlatform(platform, registry, fiches, client)
    finally:
        await client.aclose()
        await directory.runtime.stop()
        await fiches.runtime.stop()
        await registry.runtime.stop()
