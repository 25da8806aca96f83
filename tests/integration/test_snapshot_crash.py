"""A crash in the middle of an import leaves each person old or new; a rerun finishes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import registry_sync.handlers.import_snapshot as import_module
from registry_sync.adapters.tables import outbox as outbox_messages_table
from registry_sync.adapters.tables import professionals, sync_runs
from registry_sync.config import RegistrySyncSettings
from registry_sync.entrypoints.app import build_component, nrn_hasher
from registry_sync.simulator.demo_data import generate_professionals, write_snapshot
from servicekit.settings import KafkaSettings, PlatformSettings


async def test_a_crash_mid_import_leaves_whole_chunks_and_a_rerun_finishes_without_duplicates(
    tmp_path: Path, database_url_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = PlatformSettings(data_dir=tmp_path)
    settings = RegistrySyncSettings(database_url=await database_url_factory("registry-sync"))
    runtime = build_component(
        platform, KafkaSettings(bootstrap_servers="127.0.0.1:1"), settings
    ).runtime
    await runtime.migrate()
    snapshot = tmp_path / "snapshot.jsonl"
    write_snapshot(snapshot, generate_professionals(50, 9))

    async def run_import() -> Any:
        return await import_module.import_snapshot(
            snapshot,
            sessions=runtime.sessions,
            outbox=runtime.outbox,
            hasher=nrn_hasher(settings, platform),
            chunk_size=10,
        )

    apply_for_real = import_module.apply_changes
    calls = 0

    async def crash_in_third_chunk(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        await apply_for_real(*args, **kwargs)  # the third chunk's writes happen…
        if calls == 3:
            raise RuntimeError("power cut")  # …and its transaction never commits

    monkeypatch.setattr(import_module, "apply_changes", crash_in_third_chunk)
    with pytest.raises(RuntimeError, match="power cut"):
        await run_import()

    async def count(table: sa.Table) -> int:
        async with runtime.sessions() as session:
            return int(await session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)

    assert await count(professionals) == 20  # two whole chunks, nothing of the third
    assert await count(outbox_messages_table) == 40  # their events, two per person
    async with runtime.sessions() as session:
        statuses = list(await session.scalars(sa.select(sync_runs.c.status)))
    assert statuses == ["failed"]

    monkeypatch.setattr(import_module, "apply_changes", apply_for_real)
    summary = await run_import()
    assert summary.registered == 30 and summary.unchanged == 20
    assert await count(professionals) == 50
    assert await count(outbox_messages_table) == 100  # no event published twice
    await runtime.engine.dispose()
