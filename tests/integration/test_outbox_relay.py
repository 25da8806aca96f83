"""The outbox relay on SQLite and PostgreSQL: nothing committed is lost, per-key order holds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from aiokafka.errors import InvalidMessageError
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.events.registry import ProfessionalStatusChanged, StatusChangeReason
from servicekit.database import create_engine, session_factory
from servicekit.messaging.outbox import Outbox
from servicekit.messaging.relay import OutboxRelay, murmur2
from servicekit.messaging.tables import add_messaging_tables, refused_table


class RecordingBatch:
    """Stands in for aiokafka's BatchBuilder: holds a few records (so lanes take batches)."""

    def __init__(self, capacity: int = 4) -> None:
        self.records: list[tuple[bytes, bytes]] = []
        self._capacity = capacity
        self.closed = False

    def append(self, *, key: bytes, value: bytes, timestamp: None, headers: Any) -> object:
        if self.closed or len(self.records) >= self._capacity:
            self.closed = True
            return None
        self.records.append((key, value))
        return object()

    def close(self) -> None:
        self.closed = True


class RecordingProducer:
    """Stands in for AIOKafkaProducer: records what was sent, in order.

    `refused_marker`: a batch holding a value with it fails as the broker refuses an
    invalid record, and the event itself is refused when sent on its own.
    """

    def __init__(self, refused_marker: bytes | None = None) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []
        self.batches = 0
        self._refused_marker = refused_marker

    def _refuses(self, value: bytes) -> bool:
        return self._refused_marker is not None and self._refused_marker in value

    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1, 2}

    def create_batch(self) -> RecordingBatch:
        return RecordingBatch()

    async def send_batch(
        self, batch: RecordingBatch, topic: str, *, partition: int
    ) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if any(self._refuses(value) for _, value in batch.records):
            future.set_exception(InvalidMessageError())
            return future
        self.batches += 1
        self.sent += [(topic, key, value) for key, value in batch.records]
        future.set_result(None)
        return future

    async def send(
        self, topic: str, *, value: bytes, key: bytes, headers: Any
    ) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._refuses(value):
            future.set_exception(InvalidMessageError())
            return future
        self.sent.append((topic, key, value))
        future.set_result(None)
        return future

    def as_kafka(self) -> AIOKafkaProducer:
        """This stand-in, typed as the producer the relay takes."""
        return cast(AIOKafkaProducer, self)


def _event(professional_id: str, n: int) -> ProfessionalStatusChanged:
    return ProfessionalStatusChanged(
        professional_id=professional_id,
        reason=StatusChangeReason.VISA_INACTIVE,
        professions=("nurse",),
        active_professions=(),
        may_practise=False,
        source_version=datetime(2026, 1, 1, 0, 0, n, tzinfo=UTC),
    )


OutboxDb = tuple[AsyncEngine, sa.Table]


@pytest.fixture
async def outbox_db(
    database_url_factory: Callable[[str], Awaitable[str]],
) -> AsyncIterator[OutboxDb]:
    url = await database_url_factory("outbox")
    engine = create_engine(url)
    metadata = sa.MetaData()
    outbox_table, _ = add_messaging_tables(metadata)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield engine, outbox_table
    await engine.dispose()


async def test_relay_publishes_every_row_in_insert_order_per_key_and_empties_the_outbox(
    outbox_db: OutboxDb,
) -> None:
    engine, table = outbox_db
    sessions = session_factory(engine)
    outbox = Outbox(table, source="/tests")
    async with sessions() as session, session.begin():
        await outbox.add_all(session, [_event(f"p{n % 3}", n) for n in range(30)])
    producer = RecordingProducer()
    relay = OutboxRelay(
        service="tests", table=table, sessions=sessions, producer=producer.as_kafka(), batch_size=7
    )
    total = 0
    while published := await relay.publish_pending():
        total += published
    assert total == 30
    for key in (b"p0", b"p1", b"p2"):
        seconds = [
            ProfessionalStatusChanged.model_validate_json(v).source_version.second
            for _, k, v in producer.sent
            if k == key
        ]
        assert seconds == sorted(seconds) and len(seconds) == 10
    assert await relay.measure_lag() == 0
    await relay.release()


async def test_a_row_committed_after_a_later_row_is_still_published(outbox_db: OutboxDb) -> None:
    engine, table = outbox_db
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: transactions cannot commit out of order")
    sessions = session_factory(engine)
    outbox = Outbox(table, source="/tests")
    producer = RecordingProducer()
    relay = OutboxRelay(
        service="tests", table=table, sessions=sessions, producer=producer.as_kafka()
    )
    slow = sessions()
    await slow.begin()
    await outbox.add(slow, _event("early-id", 1))  # gets the lower id, commits last
    async with sessions() as fast, fast.begin():
        await outbox.add(fast, _event("late-id", 2))
    assert await relay.publish_pending() == 1
    await slow.commit()
    await slow.close()
    assert await relay.publish_pending() == 1
    assert [key for _, key, _ in producer.sent] == [b"late-id", b"early-id"]
    await relay.release()


async def test_rows_of_a_rolled_back_transaction_are_never_published(outbox_db: OutboxDb) -> None:
    engine, table = outbox_db
    sessions = session_factory(engine)
    outbox = Outbox(table, source="/tests")
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            await outbox.add(session, _event("ghost", 1))
            raise RuntimeError("the state change failed")
    producer = RecordingProducer()
    relay = OutboxRelay(
        service="tests", table=table, sessions=sessions, producer=producer.as_kafka()
    )
    assert await relay.publish_pending() == 0
    assert producer.sent == []
    await relay.release()


async def test_a_second_relay_on_another_engine_waits_and_takes_over_when_the_first_stops(
    database_url_factory: Callable[[str], Awaitable[str]],
) -> None:
    url = await database_url_factory("outbox")
    engines = [create_engine(url), create_engine(url)]
    metadata = sa.MetaData()
    table, _ = add_messaging_tables(metadata)
    async with engines[0].begin() as connection:
        await connection.run_sync(metadata.create_all)
    first_sent, second_sent = RecordingProducer(), RecordingProducer()
    first, second = (
        OutboxRelay(
            service="tests", table=table, sessions=session_factory(engine), producer=p.as_kafka()
        )
        for engine, p in zip(engines, (first_sent, second_sent), strict=True)
    )
    outbox = Outbox(table, source="/tests")
    sessions = session_factory(engines[0])
    try:
        async with sessions() as session, session.begin():
            await outbox.add_all(session, [_event("p", n) for n in range(3)])
        assert await first.publish_pending() == 3 and first.is_active
        async with sessions() as session, session.begin():
            await outbox.add_all(session, [_event("p", n) for n in range(3, 5)])
        assert await second.publish_pending() == 0 and not second.is_active
        await first.release()  # the first stops
        assert await second.publish_pending() == 2 and second.is_active
    finally:
        await first.release()
        await second.release()
        for engine in engines:
            await engine.dispose()
    assert (len(first_sent.sent), len(second_sent.sent)) == (3, 2)


async def test_a_batch_refused_for_good_is_sent_again_event_by_event_in_order(
    outbox_db: OutboxDb,
) -> None:
    engine, table = outbox_db
    sessions = session_factory(engine)
    outbox = Outbox(table, source="/tests")
    async with sessions() as session, session.begin():
        await outbox.add_all(session, [_event("p", n) for n in range(10)])
    producer = RecordingProducer(refused_marker=b"2026-01-01T00:00:05Z")
    relay = OutboxRelay(
        service="tests", table=table, sessions=sessions, producer=producer.as_kafka()
    )
    assert await relay.publish_pending() == 10
    seconds = [
        ProfessionalStatusChanged.model_validate_json(value).source_version.second
        for _, _, value in producer.sent
    ]
    # Everything but the refused event, in order: the batches after the refused one
    # waited for it to be sorted out.
    assert seconds == [0, 1, 2, 3, 4, 6, 7, 8, 9]
    assert producer.batches >= 2
    async with sessions() as session:
        [moved] = (await session.execute(sa.select(refused_table(table)))).all()
    assert moved.error_type == type(InvalidMessageError()).__name__
    assert await relay.measure_lag() == 0
    await relay.release()


def test_the_relay_hashes_keys_to_partitions_as_kafka_clients_do() -> None:
    keys = [f"{n:08x}-6b57-4b0e-9a56-3f1f4a0c8d11".encode()[: n % 40] for n in range(2000)]
    keys += [bytes(range(n % 256)) for n in range(300)]
    assert [murmur2(key) for key in keys] == [aiokafka_murmur2(key) for key in keys]
