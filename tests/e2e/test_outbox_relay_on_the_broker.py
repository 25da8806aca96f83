"""The outbox relay on a real broker: one event refused for good never stalls the others,
and one relay publishes a database's outbox, also across processes, with takeover."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contracts.events.registry import (
    PROFESSIONALS_TOPIC,
    ProfessionalStatusChanged,
    StatusChangeReason,
)
from registry_sync.config import RegistrySyncSettings
from registry_sync.entrypoints.app import build_component as build_registry_sync
from servicekit import metrics
from servicekit.database import create_engine, session_factory
from servicekit.messaging.kafka_clients import create_producer
from servicekit.messaging.outbox import Outbox
from servicekit.messaging.relay import OutboxRelay
from servicekit.messaging.tables import add_messaging_tables, refused_table
from servicekit.runtime import AnotherRelayPublishes
from servicekit.settings import KafkaSettings
from servicekit.waiting import within
from tests.support.infrastructure import wait_for
from tests.support.kafka_reading import header, read_topic
from tests.support.platform import running_platform
from tests.support.relay_process import SERVICE

pytestmark = pytest.mark.e2e

REPOSITORY = Path(__file__).resolve().parents[2]


def _event(professional_id: str, second: int = 0) -> ProfessionalStatusChanged:
    return ProfessionalStatusChanged(
        professional_id=professional_id,
        reason=StatusChangeReason.DECEASED,
        professions=("nurse",),
        active_professions=(),
        may_practise=False,
        source_version=datetime(2026, 11, 29, 0, 0, second % 60, tzinfo=UTC),
    )


class OutboxDatabase:
    """A database with only the messaging tables, and an outbox writing to it."""

    def __init__(self, url: str, engine: AsyncEngine) -> None:
        self.url = url
        self.engine = engine
        metadata = sa.MetaData()
        self.table, _ = add_messaging_tables(metadata)
        self.metadata = metadata
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(engine)
        self.outbox = Outbox(self.table, source="/tests")

    async def write(self, events: list[ProfessionalStatusChanged]) -> list[str]:
        """Commit the events in one transaction; returns their CloudEvents ids."""
        rows = [self.outbox.row_for(event) for event in events]
        async with self.sessions() as session, session.begin():
            await session.execute(sa.insert(self.table), rows)
        return [str(row["event_id"]) for row in rows]

    async def pending(self) -> int:
        async with self.sessions() as session:
            return int(
                await session.scalar(sa.select(sa.func.count()).select_from(self.table)) or 0
            )

    async def empty(self) -> bool:
        return await self.pending() == 0


@pytest.fixture
async def outbox_database(
    database_url_factory: Callable[[str], Awaitable[str]],
) -> AsyncIterator[OutboxDatabase]:
    url = await database_url_factory("outbox")
    engine = create_engine(url)
    database = OutboxDatabase(url, engine)
    async with engine.begin() as connection:
        await connection.run_sync(database.metadata.create_all)
    yield database
    await engine.dispose()


@pytest.fixture
async def producer(kafka: KafkaSettings) -> AsyncIterator[AIOKafkaProducer]:
    started = create_producer(kafka, client_id="tests")
    await started.start()
    yield started
    await started.stop()


async def _published_ids(kafka: KafkaSettings) -> list[str]:
    return [
        header(record, "ce_id") or "" for record in await read_topic(kafka, PROFESSIONALS_TOPIC)
    ]


async def test_an_event_the_broker_refuses_is_moved_aside_and_the_events_after_it_are_published(
    kafka: KafkaSettings,
    outbox_database: OutboxDatabase,
    producer: AIOKafkaProducer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    database = outbox_database
    before = await database.write([_event("same-professional", n) for n in range(3)])
    # A 1.1 MB event (the imported 1.1 MB last_name): more than any Kafka broker accepts
    # by default, refused whatever the number of attempts.
    oversized = database.outbox.row_for(_event("same-professional", 3))
    oversized["payload"] = b'{"last_name": "' + b"x" * 1_100_000 + b'"}'
    async with database.sessions() as session, session.begin():
        await session.execute(sa.insert(database.table), [oversized])
    oversized_id = str(oversized["event_id"])
    after = await database.write([_event("same-professional", n) for n in range(4, 7)])
    refused_counter = metrics.OUTBOX_REFUSED.labels(SERVICE, PROFESSIONALS_TOPIC)
    refused_before = refused_counter._value.get()

    relay = OutboxRelay(
        service=SERVICE, table=database.table, sessions=database.sessions, producer=producer
    )
    caplog.set_level(logging.ERROR, logger="servicekit.messaging.relay")
    running = asyncio.create_task(relay.run())
    try:
        await wait_for(database.empty)
    finally:
        relay.stop()
        await within(running, 60)

    # The events before and after it were published, in order, the refused one not.
    assert await _published_ids(kafka) == before + after
    async with database.sessions() as session:
        [moved] = (await session.execute(sa.select(refused_table(database.table)))).all()
    assert moved.event_id == oversized_id
    assert moved.payload == oversized["payload"]  # kept whole, to publish again after a fix
    assert moved.error_type == "MessageSizeTooLargeError"
    assert "MessageSizeTooLargeError" in moved.reason and "bytes" in moved.reason
    assert refused_counter._value.get() == refused_before + 1
    [alert] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert alert.event_id == oversized_id and alert.error_type == "MessageSizeTooLargeError"  # type: ignore[attr-defined]


@contextlib.asynccontextmanager
async def _relay_process(
    url: str, kafka: KafkaSettings
) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.relay_process",
        url,
        kafka.bootstrap_servers or "",
        cwd=REPOSITORY,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await within(process.stdout.readline(), 120)
        assert line.strip() == b"active", f"the relay process did not lead: {line!r}"
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await within(process.wait(), 60)


async def _events_written_over_time(database: OutboxDatabase, prefix: str) -> list[str]:
    ids: list[str] = []
    for batch in range(10):
        ids += await database.write([_event(f"{prefix}-{batch}-{n}", n) for n in range(15)])
        await asyncio.sleep(0.02)  # let the relays read between the commits
    return ids


async def test_two_relays_in_two_processes_publish_each_event_once_and_the_second_takes_over(
    kafka: KafkaSettings, outbox_database: OutboxDatabase, producer: AIOKafkaProducer
) -> None:
    database = outbox_database
    standby = OutboxRelay(
        service=SERVICE,
        table=database.table,
        sessions=database.sessions,
        producer=producer,
        standby_poll_s=0.1,
    )
    standby_task: asyncio.Task[Any] | None = None
    try:
        async with _relay_process(database.url, kafka) as leader:
            standby_task = asyncio.create_task(standby.run())
            written = await _events_written_over_time(database, "first")
            for _ in range(20):  # both relays are told, as an in-process commit does
                standby.wake()
                await asyncio.sleep(0.01)
            await wait_for(database.empty)
            assert not standby.is_active, "the standby published while the leader lived"
            leader.send_signal(signal.SIGKILL)  # dies without letting go of anything
            await within(leader.wait(), 60)
        written += await _events_written_over_time(database, "second")
        await wait_for(database.empty)
        assert standby.is_active
    finally:
        standby.stop()
        if standby_task is not None:
            await within(standby_task, 60)

    published = Counter(await _published_ids(kafka))
    assert set(published) == set(written)
    assert [event_id for event_id, times in published.items() if times > 1] == []


async def test_a_one_shot_publisher_does_not_publish_beside_a_running_relay(
    kafka: KafkaSettings, outbox_database: OutboxDatabase, producer: AIOKafkaProducer
) -> None:
    database = outbox_database
    async with _relay_process(database.url, kafka):
        one_shot = OutboxRelay(
            service=SERVICE, table=database.table, sessions=database.sessions, producer=producer
        )
        await database.write([_event(f"p{n}", n) for n in range(50)])
        # What `skaart registry import` with KAFKA_BOOTSTRAP_SERVERS does while the
        # platform runs: it finds the lead taken and leaves the rows to the platform.
        assert await one_shot.publish_pending() == 0
        assert not one_shot.is_active
        await wait_for(database.empty)
        await one_shot.release()
    assert len(await _published_ids(kafka)) == 50


async def test_a_one_shot_command_beside_the_running_platform_leaves_its_outbox_to_it(
    kafka: KafkaSettings, tmp_path: Path, database_url_factory: Callable[[str], Awaitable[str]]
) -> None:
    urls: dict[str, str] = {}

    async def same_databases(service: str) -> str:
        if service not in urls:
            urls[service] = await database_url_factory(service)
        return urls[service]

    async with running_platform(kafka, tmp_path, same_databases) as platform:
        # What `skaart registry import` does with KAFKA_BOOTSTRAP_SERVERS set: a second
        # registry-sync runtime on the same database, publishing its outbox itself.
        command = build_registry_sync(
            platform.platform,
            kafka,
            RegistrySyncSettings(database_url=await same_databases("registry-sync")),
        )
        await command.runtime.start(migrate=False, relay=False, background=False)
        try:
            async with command.runtime.sessions() as session, session.begin():
                await command.runtime.outbox.add(session, _event("imported-by-the-command"))
            with pytest.raises(AnotherRelayPublishes):
                await command.runtime.publish_pending_now()

            async def published_by_the_platform() -> bool:
                records = await read_topic(kafka, PROFESSIONALS_TOPIC)
                return any(r.key == b"imported-by-the-command" for r in records)

            await wait_for(published_by_the_platform)
        finally:
            await command.runtime.stop()
    keys = [r.key for r in await read_topic(kafka, PROFESSIONALS_TOPIC)]
    assert keys.count(b"imported-by-the-command") == 1
