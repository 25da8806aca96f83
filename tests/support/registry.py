"""registry-sync on a migrated database without a broker, for import tests.

The component is built as in production but never started: tests call the import
handlers directly and read the tables. Each test file subclasses `RegistryUnderTest`
with the queries it needs.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa

from registry_sync.adapters import tables
from registry_sync.config import RegistrySyncSettings
from registry_sync.domain.pseudonyms import NrnHasher
from registry_sync.entrypoints.app import build_component, nrn_hasher
from registry_sync.handlers.import_snapshot import ImportSummary, import_snapshot
from servicekit.runtime import ServiceRuntime
from servicekit.settings import KafkaSettings, PlatformSettings


def utc(value: datetime) -> datetime:
    """A stored datetime as UTC (SQLite hands back naive datetimes for what was UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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

    async def rows(self, table: sa.Table, *order_by: Any) -> list[Any]:
        async with self.runtime.sessions() as session:
            return list(await session.execute(sa.select(table).order_by(*order_by)))

    async def professional(self, ssin: str) -> Any:
        """The stored row of the person with this national register number."""
        table = tables.professionals
        async with self.runtime.sessions() as session:
            result = await session.execute(
                sa.select(table).where(table.c.nrn_hash == self.hasher.hash(ssin))
            )
            return result.one()

    async def state(self) -> tuple[dict[str, Any], list[Any]]:
        """The stored people by keyed hash, and the outbox in order, free of random ids.

        A `professional_id` is a fresh UUID per database, so in the outbox it is replaced
        by the person's keyed hash, which is the same whichever import produced it.
        """
        people_rows = await self.rows(tables.professionals, tables.professionals.c.nrn_hash)
        hash_of = {row.professional_id: row.nrn_hash for row in people_rows}
        professionals = {
            row.nrn_hash: (utc(row.source_version), row.facts, row.removed) for row in people_rows
        }
        outbox = []
        for row in await self.rows(tables.outbox, tables.outbox.c.id):
            payload = json.loads(row.payload)
            payload["professional_id"] = hash_of[payload["professional_id"]]
            headers = dict(row.headers)
            outbox.append((row.topic, hash_of[row.message_key], headers["ce_type"], payload))
        return professionals, outbox


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
