"""Transactional outbox: events are rows committed with the state change that caused them.

A handler calls `outbox.add(session, event)` inside its unit of work; nothing reaches the
broker until that transaction commits, and nothing committed is ever lost: the relay
(`servicekit.messaging.relay`) publishes every unpublished row, then deletes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.base import Event
from contracts.envelope import binary_headers
from contracts.topics import topic_for_event
from servicekit.logging import current_correlation_id
from servicekit.messaging.bulk import EncodedJson, insert_rows


class Outbox:
    """Writes a service's events into its outbox table, in the caller's transaction."""

    def __init__(self, table: sa.Table, source: str) -> None:
        self._table = table
        self._source = source
        self._listeners: list[Callable[[], None]] = []

    @property
    def table(self) -> sa.Table:
        """The outbox table."""
        return self._table

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Register a callback (the relay's wake-up) for `notify_committed`."""
        self._listeners.append(listener)

    def notify_committed(self) -> None:
        """Tell in-process relays that new rows are committed, so they publish now."""
        for listener in self._listeners:
            listener()

    def row_for(self, event: Event, *, now: datetime | None = None) -> dict[str, object]:
        """The outbox row for one event (its envelope, key and JSON value)."""
        spec = topic_for_event(type(event))
        key = event.partition_key()
        event_id = str(uuid.uuid4())
        time = now or datetime.now(UTC)
        headers = binary_headers(
            event_id=event_id,
            source=self._source,
            event_type=event.event_type,
            subject=event.subject(),
            time=time,
            correlation_id=current_correlation_id(),
        )
        return {
            "event_id": event_id,
            "topic": spec.name,
            "message_key": key,
            "headers": headers,
            "payload": event.__pydantic_serializer__.to_json(event),
            "created_at": time,
        }

    async def add(self, session: AsyncSession, event: Event) -> None:
        """Queue one event in the caller's transaction."""
        await self.add_all(session, [event])

    async def add_all(self, session: AsyncSession, events: Iterable[Event]) -> int:
        """Queue several events in the caller's transaction, in order (one round trip)."""
        now = datetime.now(UTC)
        rows = [self.row_for(event, now=now) for event in events]
        for row in rows:
            row["headers"] = EncodedJson(orjson.dumps(row["headers"]).decode())
        if rows:
            # One driver-level statement on the session's connection: the ORM layer adds
            # nothing to a plain table insert but per-row bookkeeping.
            await insert_rows(await session.connection(), self._table, rows)
        return len(rows)
