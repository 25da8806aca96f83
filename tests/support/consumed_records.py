"""Events as a Kafka consumer hands them to `InboxConsumer` (without a broker).

Used by the inbox tests and by bench/fiches_apply.py, which feed the consumer directly,
with an SQLite inbox and a dead-letter recorder for the tests.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.base import Event
from contracts.envelope import Envelope
from servicekit.database import create_engine
from servicekit.messaging.tables import add_messaging_tables


def consumed_record(
    event: Event,
    offset: int,
    *,
    partition: int = 0,
    source: str = "/tests",
    correlation_id: str | None = None,
) -> SimpleNamespace:
    """`event` as a consumer record at `offset`: CloudEvents headers, key, JSON value."""
    envelope = Envelope(
        source=source,
        type=event.event_type,
        subject=event.partition_key(),
        correlationid=correlation_id,
    )
    return SimpleNamespace(
        topic=event.topic,
        partition=partition,
        offset=offset,
        key=event.partition_key().encode(),
        value=event.model_dump_json().encode(),
        headers=envelope.to_headers(),
    )


async def sqlite_inbox(path: Path) -> tuple[AsyncEngine, sa.Table]:
    """An SQLite database at `path` with the messaging tables; (engine, inbox table)."""
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    metadata = sa.MetaData()
    _, inbox = add_messaging_tables(metadata)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return engine, inbox


class RecordingDeadLetters:
    """Stands in for `DeadLetters`: remembers what was parked, publishes nothing."""

    def __init__(self) -> None:
        self.parked: list[tuple[Any, BaseException, int]] = []

    async def park(self, record: Any, error: BaseException, attempts: int) -> None:
        self.parked.append((record, error, attempts))
