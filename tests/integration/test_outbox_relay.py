"""The outbox relay on SQLite and PostgreSQL: nothing committed is lost, per-key order holds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.events.registry import ProfessionalStatusChanged, StatusChangeReason
from servicekit.database import create_engine, session_factory
from servicekit.messaging.outbox import Outbox
from servicekit.messaging.relay import OutboxRelay
from servicekit.messaging.tables import add_messaging_tables


class RecordingProducer:
    """Stands in for AIOKafkaProducer.send: records what was sent, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []

    async def send(
        self, topic: str, *, value: bytes, key: bytes, headers: Any
    ) -> asyncio.Future[None]:
        self.sent.append((topic, key, value))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    def as_kafka(self) -> AIOKafkaProducer:
        """This stand-in, typed as the producer the relay takes (it only calls `send`)."""
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
