"""The import settings reach every way a snapshot is imported (`snapshot_import`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry_sync.config import RegistrySyncSettings
from registry_sync.entrypoints.runtime import nrn_hasher, registry_runtime, snapshot_import
from registry_sync.handlers.import_snapshot import MassRemovalRefused
from registry_sync.simulator.demo_data import generate_professionals, write_snapshot
from servicekit.settings import KafkaSettings, PlatformSettings
from skaart import registry_commands


@pytest.fixture
def registry_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """registry-sync on SQLite in a fresh data folder, without a broker."""
    monkeypatch.setenv("SKAART_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("REGISTRY_SYNC_DATABASE_URL", raising=False)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    everyone = tmp_path / "everyone.jsonl"
    write_snapshot(everyone, generate_professionals(20, 5))
    return everyone


def _without_two(everyone: Path) -> Path:
    """The same snapshot with its last two people left out: 10% of them removed."""
    fewer = everyone.with_name("fewer.jsonl")
    fewer.write_bytes(b"".join(everyone.read_bytes().splitlines(keepends=True)[:-2]))
    return fewer


async def test_the_command_takes_the_removal_share_from_the_environment(
    registry_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await registry_commands._import(registry_env, 0.1, lenient=False, force=False) == 0
    fewer = _without_two(registry_env)

    # 10% removed is over the default share (5%): refused.
    with pytest.raises(MassRemovalRefused):
        await registry_commands._import(fewer, 0.1, lenient=False, force=False)

    monkeypatch.setenv("REGISTRY_SYNC_MAX_REMOVAL_SHARE", "0.2")
    assert await registry_commands._import(fewer, 0.1, lenient=False, force=False) == 0


async def test_the_bound_import_uses_the_settings_of_the_deployment(
    registry_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_SYNC_IMPORT_CHUNK_SIZE", "7")
    monkeypatch.setenv("REGISTRY_SYNC_MAX_REMOVAL_SHARE", "0.01")
    settings, platform = RegistrySyncSettings(), PlatformSettings()
    runtime = registry_runtime(platform, KafkaSettings(), settings)
    await runtime.migrate()
    try:
        commits: list[None] = []
        runtime.outbox.on_commit(lambda: commits.append(None))
        import_file = snapshot_import(settings, runtime, nrn_hasher(settings, platform))
        first = await import_file(registry_env)
        assert first.registered == 20
        # Chunks of 7 (the setting, not the default 1,000): 20 people in 3 transactions.
        assert len(commits) == 3

        with pytest.raises(MassRemovalRefused):
            await import_file(_without_two(registry_env))
    finally:
        await runtime.engine.dispose()
