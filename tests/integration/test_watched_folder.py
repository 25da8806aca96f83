"""Snapshot files dropped into the watched folder are imported once, then moved."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from registry_sync.adapters.tables import professionals
from registry_sync.config import RegistrySyncSettings
from registry_sync.entrypoints.app import build_component, nrn_hasher
from registry_sync.handlers.import_snapshot import import_snapshot
from registry_sync.handlers.sync_summary import ImportSummary
from registry_sync.handlers.watch_folder import FolderWatcher
from registry_sync.simulator.demo_data import generate_professionals, write_snapshot
from servicekit.settings import KafkaSettings, PlatformSettings


async def test_a_dropped_snapshot_is_imported_once_stable_and_moved_to_processed(
    tmp_path: Path,
) -> None:
    platform = PlatformSettings(data_dir=tmp_path / "data")
    settings = RegistrySyncSettings()
    component = build_component(platform, KafkaSettings(bootstrap_servers="127.0.0.1:1"), settings)
    runtime = component.runtime
    await runtime.migrate()

    async def import_file(path: Path) -> ImportSummary:
        return await import_snapshot(
            path,
            sessions=runtime.sessions,
            outbox=runtime.outbox,
            hasher=nrn_hasher(settings, platform),
        )

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    watcher = FolderWatcher(inbox, import_file)
    write_snapshot(inbox / "snapshot.jsonl", generate_professionals(20, 5))
    (inbox / "bad.jsonl").write_text('{"ssin": "00000000000"}\n')
    (inbox / ".partial.jsonl").write_text("still being written")

    first_scan = await watcher.scan_once()
    assert first_scan == []  # sizes seen once: not yet known to be complete

    handled = dict(
        (path.name.split("-", 1)[1], outcome) for path, outcome in await watcher.scan_once()
    )
    assert handled == {"snapshot.jsonl": "processed", "bad.jsonl": "rejected"}
    assert (inbox / ".partial.jsonl").exists()
    assert not (inbox / "snapshot.jsonl").exists()
    [error_report] = list((inbox / "rejected").glob("*.error.txt"))
    assert "nothing was imported" in error_report.read_text()
    assert await watcher.scan_once() == []
    async with runtime.sessions() as session:
        count = await session.scalar(sa.select(sa.func.count()).select_from(professionals))
    assert count == 20
    await runtime.engine.dispose()
