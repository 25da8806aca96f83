"""`skaart registry import` with a broker: each chunk is published while the next applies."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from contracts.events import registry
from registry_sync.adapters.tables import outbox
from registry_sync.handlers import import_snapshot as import_module
from registry_sync.simulator.demo_data import generate_professionals, write_snapshot
from servicekit.settings import KafkaSettings
from skaart import outbox_publisher, registry_commands
from tests.support.infrastructure import wait_for
from tests.support.kafka_reading import header, read_topic

PEOPLE = 60


async def _published(kafka: KafkaSettings) -> list[Any]:
    """Every record registry-sync published: registrations, then identifications."""
    professionals = await read_topic(kafka, registry.PROFESSIONALS_TOPIC, settle_s=0.1)
    return professionals + await read_topic(kafka, registry.IDENTITIES_TOPIC, settle_s=0.1)


@pytest.fixture(autouse=True)
def keep_this_process_priority(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A large import lowers its own CPU priority: here that would be the test run's."""
    lowered: list[int] = []
    monkeypatch.setattr(outbox_publisher.os, "nice", lowered.append)
    return lowered


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The publishing processes the command starts, as they start."""
    processes: list[object] = []
    real_start = outbox_publisher.PublisherProcess.start

    async def counted_start() -> outbox_publisher.PublisherProcess:
        process = await real_start()
        processes.append(process)
        return process

    monkeypatch.setattr(outbox_publisher.PublisherProcess, "start", counted_start)
    return processes


@pytest.fixture
async def command_settings(
    kafka: KafkaSettings,
    database_url_factory: Callable[[str], Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> KafkaSettings:
    """The command's environment: the broker, and registry-sync's database on each backend."""
    monkeypatch.setenv("SKAART_DATA_DIR", str(tmp_path / "data"))
    url = await database_url_factory("registry-sync")
    monkeypatch.setenv("REGISTRY_SYNC_DATABASE_URL", str(url))
    monkeypatch.setenv("REGISTRY_SYNC_IMPORT_CHUNK_SIZE", "10")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrap_servers)
    monkeypatch.setenv("KAFKA_ENABLE_IDEMPOTENCE", str(kafka.enable_idempotence).lower())
    monkeypatch.setenv("COLUMNS", "200")
    return kafka


async def test_each_chunk_is_on_the_topic_before_the_import_returns(
    command_settings: KafkaSettings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kafka = command_settings
    snapshot = tmp_path / "snapshot.jsonl"
    write_snapshot(snapshot, generate_professionals(PEOPLE, 7))
    seen_before_the_import_returned: list[int] = []
    real_import = import_module.import_snapshot

    async def import_then_watch_the_topic(*args: Any, **kwargs: Any) -> Any:
        summary = await real_import(*args, **kwargs)
        # Still inside the import: without a relay running beside it nothing is on the
        # topic until the command publishes the outbox afterwards, and this wait fails.
        expected = summary.events_published

        async def all_published() -> bool:
            return len(await _published(kafka)) == expected

        await wait_for(all_published, timeout_s=60.0)
        seen_before_the_import_returned.append(expected)
        return summary

    # The command binds `import_snapshot` through `snapshot_import`, which looks it up in
    # its module at each call.
    monkeypatch.setattr(import_module, "import_snapshot", import_then_watch_the_topic)

    exit_code = await registry_commands._import(snapshot, 5.0, lenient=False, force=False)

    assert exit_code == 0
    assert seen_before_the_import_returned == [2 * PEOPLE]
    records = await _published(kafka)
    # Each event once: the drain after the import sends nothing the relay already sent.
    ids = Counter(header(record, "ce_id") for record in records)
    assert len(ids) == 2 * PEOPLE and set(ids.values()) == {1}
    assert Counter(header(record, "ce_type") for record in records) == {
        registry.ProfessionalRegistered.event_type: PEOPLE,
        registry.ProfessionalIdentified.event_type: PEOPLE,
    }
    output = capsys.readouterr().err
    assert f"Published {2 * PEOPLE:,} events to {kafka.bootstrap_servers}." in output


async def test_a_broker_that_cannot_be_reached_does_not_stop_the_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SKAART_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("REGISTRY_SYNC_DATABASE_URL", raising=False)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("REGISTRY_SYNC_IMPORT_CHUNK_SIZE", "1")  # five chunks: a process
    monkeypatch.setenv("COLUMNS", "200")
    snapshot = tmp_path / "snapshot.jsonl"
    write_snapshot(snapshot, generate_professionals(5, 3))

    # Publishing at the end cannot succeed either (the broker is still away); the import
    # is in, and the operator is told what waits and what to do.
    with pytest.raises(registry_commands.BrokerUnreachable) as unpublished:
        await registry_commands._import(snapshot, 1.0, lenient=False, force=False)

    output = capsys.readouterr().err
    assert "Cannot reach the broker at 127.0.0.1:9" in output
    assert "the events wait in the outbox" in output
    assert "10 events wait in registry-sync's outbox" in str(unpublished.value)
    assert "run the same command again once the broker answers" in str(unpublished.value)
    runtime = registry_commands.registry_runtime(
        registry_commands.PlatformSettings(),
        registry_commands.KafkaSettings(),
        registry_commands.RegistrySyncSettings(),
    )
    try:
        async with runtime.sessions() as session:
            queued = await session.scalar(sa.select(sa.func.count()).select_from(outbox))
        assert queued == 10
    finally:
        await runtime.engine.dispose()


def _each_event_once(records: list[Any], people: int) -> None:
    ids = Counter(header(record, "ce_id") for record in records)
    assert len(ids) == 2 * people and set(ids.values()) == {1}


async def test_beside_a_running_platform_its_relay_publishes_and_nothing_twice(
    command_settings: KafkaSettings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kafka = command_settings
    # The platform's registry-sync, on the same database: its relay leads, so the
    # command's publishing process waits on standby instead of sending every event again.
    platform = registry_commands.registry_runtime(
        registry_commands.PlatformSettings(), kafka, registry_commands.RegistrySyncSettings()
    )
    await platform.start(migrate=True, relay=True, background=False)
    try:
        snapshot = tmp_path / "snapshot.jsonl"
        write_snapshot(snapshot, generate_professionals(PEOPLE, 5))
        exit_code = await registry_commands._import(snapshot, 60.0, lenient=False, force=False)
        assert exit_code == 0
    finally:
        await platform.stop()

    _each_event_once(await _published(kafka), PEOPLE)
    output = capsys.readouterr().err
    assert f"Published {2 * PEOPLE:,} events" not in output
    assert "All events published" in output or "already published" in output


async def test_a_small_import_publishes_from_the_command_and_a_re_import_starts_nothing(
    command_settings: KafkaSettings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    keep_this_process_priority: list[int],
    started: list[object],
) -> None:
    small = tmp_path / "small.jsonl"
    write_snapshot(small, generate_professionals(40, 2))  # four chunks of 10

    assert await registry_commands._import(small, 5.0, lenient=False, force=False) == 0
    # Too small for a process of its own (its start costs more than it saves): the
    # command publishes at the end, from its own process, at its usual priority.
    assert started == []
    assert keep_this_process_priority == []
    assert "Published 80 events" in capsys.readouterr().err

    large = tmp_path / "large.jsonl"
    write_snapshot(large, generate_professionals(PEOPLE, 2))  # the same 40 and 20 more
    assert await registry_commands._import(large, 5.0, lenient=False, force=False) == 0
    assert len(started) == 0  # two chunks of changes: still small

    assert await registry_commands._import(large, 5.0, lenient=False, force=False) == 0
    assert started == []  # nothing changed, nothing committed
    assert "Nothing to publish" in capsys.readouterr().err
    _each_event_once(await _published(command_settings), PEOPLE)


async def test_a_large_import_starts_one_publishing_process_and_yields_the_cpu(
    command_settings: KafkaSettings,
    tmp_path: Path,
    keep_this_process_priority: list[int],
    started: list[object],
) -> None:
    snapshot = tmp_path / "snapshot.jsonl"
    write_snapshot(snapshot, generate_professionals(PEOPLE, 2))  # six chunks of 10

    assert await registry_commands._import(snapshot, 5.0, lenient=False, force=False) == 0
    assert len(started) == 1
    # Bulk work from its fifth chunk on: the command (and the process it starts) lowered
    # its CPU priority once, below the services sharing the machine.
    assert keep_this_process_priority == [outbox_publisher.BULK_NICENESS]
    _each_event_once(await _published(command_settings), PEOPLE)


async def test_a_publishing_process_that_fails_is_named_and_the_command_publishes_the_rest(
    command_settings: KafkaSettings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def failing_start() -> outbox_publisher.PublisherProcess:
        # What a crash of the real process looks like to the command: it reads until the
        # command is done, publishes nothing, prints no outcome and exits with code 3.
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "import sys; sys.stdin.buffer.read(); sys.exit(3)",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return outbox_publisher.PublisherProcess(process)

    monkeypatch.setattr(outbox_publisher.PublisherProcess, "start", failing_start)
    snapshot = tmp_path / "snapshot.jsonl"
    write_snapshot(snapshot, generate_professionals(PEOPLE, 4))  # six chunks: a process

    assert await registry_commands._import(snapshot, 5.0, lenient=False, force=False) == 0

    output = capsys.readouterr().err
    assert "The publishing process ended with exit code 3" in output
    assert "this command publishes what is left itself" in output
    assert f"Published {2 * PEOPLE:,} events to {command_settings.bootstrap_servers}." in output
    _each_event_once(await _published(command_settings), PEOPLE)
