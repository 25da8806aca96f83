"""The inbox does not grow forever: rows below the committed offsets go, after a while,
and a redelivery of what was not yet committed is still applied once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from contracts.events.registry import ProfessionalRemoved
from servicekit.database import session_factory
from servicekit.messaging.inbox import InboxConsumer, Subscription
from servicekit.messaging.inbox_pruning import InboxPruning
from tests.support.consumed_records import consumed_record, sqlite_inbox


def _record(offset: int, partition: int = 0) -> SimpleNamespace:
    """The removal of someone new, read at `offset` of `partition`."""
    event = ProfessionalRemoved(
        professional_id=str(uuid.uuid4()), source_version=datetime(2026, 1, 1, tzinfo=UTC)
    )
    return consumed_record(event, offset, partition=partition)


async def _consumer(
    tmp_path: Path, pruning: InboxPruning, applied: list[str]
) -> tuple[InboxConsumer, Any]:
    engine, inbox = await sqlite_inbox(tmp_path / "inbox.db")

    async def handler(session: Any, event: ProfessionalRemoved) -> None:
        applied.append(event.professional_id)

    consumer = InboxConsumer(
        service="tests",
        subscription=Subscription(
            name="pruned",
            topics=("registry.professionals.v1",),
            handlers={ProfessionalRemoved: handler},
        ),
        sessions=session_factory(engine),
        inbox_table=inbox,
        dead_letters=None,  # type: ignore[arg-type]  # nothing fails here
        pruning=pruning,
    )
    return consumer, engine


async def _inbox_offsets(engine: Any) -> list[tuple[int, int]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.text('SELECT partition, "offset" FROM inbox_messages ORDER BY 1, 2')
        )
        return [tuple(row) for row in rows]


async def test_rows_below_the_committed_offsets_are_pruned_and_redelivery_still_applies_once(
    tmp_path: Path,
) -> None:
    applied: list[str] = []
    consumer, engine = await _consumer(tmp_path, InboxPruning(interval_s=0, min_age_s=0), applied)
    first = [_record(0), _record(1), _record(0, partition=1)]
    await consumer.handle_batch(first)
    assert await _inbox_offsets(engine) == [(0, 0), (0, 1), (1, 0)]

    # The next batch starts where the offsets were committed (partition 0 at 2,
    # partition 1 at 1): the rows below go; the batch's own rows stay, so a redelivery
    # of it (a crash before its offset commit) still has no second effect.
    second = [_record(2), _record(3), _record(1, partition=1)]
    await consumer.handle_batch(second)
    assert await _inbox_offsets(engine) == [(0, 2), (0, 3), (1, 1)]
    await consumer.handle_batch(second)
    assert len(applied) == len(first) + len(second)
    await engine.dispose()


async def test_rows_younger_than_the_minimum_age_are_kept(tmp_path: Path) -> None:
    applied: list[str] = []
    consumer, engine = await _consumer(
        tmp_path, InboxPruning(interval_s=0, min_age_s=3600), applied
    )
    await consumer.handle_batch([_record(0), _record(1)])
    await consumer.handle_batch([_record(2)])
    assert await _inbox_offsets(engine) == [(0, 0), (0, 1), (0, 2)]
    await engine.dispose()
