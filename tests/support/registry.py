"""registry-sync on a migrated database without a broker, for import tests.

The component is built as in production but never started: tests call the import
handlers directly and read the tables. Each test file subclasses `RegistryUnderTest`
with the queries it needs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa

from registry_sync.config import RegistrySyncSettings
from registry_sync.domain.pseudonyms import NrnHasher
from registry_sync.entrypoints.app import build_component, nrn_hasher
from registry_sync.handlers.import_snapshot import ImportSummary, import_snapshot
from servicekit.runtime import ServiceRuntime
from servicekit.settings import KafkaSettings, PlatformSettings


@dataclass
class RegistryUnderTest:
    """registry-sync's runtime on a migrated database, and its keyed hasher."""

    runtime: ServiceRuntime
    hasher: NrnHasher

    async def import_file(self, path: Path, **options: Any) -> ImportSummary:
        """Import as `skaart registry import` does (production defaults unless overridden)."""
        return await import_snapshot(
            path,
            sessions=self.runtime.sessions,
            outbox=self.runtime.outbox,
            hasher=self.hasher,
            **options,
        )

    async def count(self, table: sa.Table) -> int:
        async with self.runtime.sessions() as session:
            return int(await session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


R = TypeVar("R", bound=RegistryUnderTest)


@asynccontextmanager
async def registry_opener(
    tmp_path: Path, database_url_factory: Callable[[str], Any], registry_class: type[R]
) -> AsyncIterator[Callable[[str], Any]]:
    """`await open_registry(name)` gives a fresh, migrated registry-sync database."""
    platform = PlatformSettings(data_dir=tmp_path)
    kafka = KafkaSettings(bootstrap_servers="127.0.0.1:1")  # never contacted
    opened: list[ServiceRuntime] = []

    async def open_registry(name: str = "registry-sync") -> R:
        settings = RegistrySyncSettings(database_url=await database_url_factory(name))
        runtime = build_component(platform, kafka, settings).runtime
        opened.append(runtime)
        await runtime.migrate()
        return registry_class(runtime, nrn_hasher(settings, platform))

    try:
        yield open_registry
    finally:
        for runtime in opened:
            await runtime.engine.dispose()
