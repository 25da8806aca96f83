"""Transactional outbox: events are rows committed with the state change that caused them.

A handler calls `outbox.add(session, event)` inside its unit of work; nothing reaches the
broker until that transaction commits, and nothing committed is ever lost: the relay
(`servicekit.messaging.relay`) publishes every unpublished row, then deletes it.
"""

from __future__ import annotations

import os
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
from servicekit.messaging.bulk import EncodedJson, copy_rows, insert_rows


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

    def off_commit(self, listener: Callable[[], None]) -> None:
        """Forget a callback registered with `on_commit` (a relay that stopped)."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def notify_committed(self) -> None:
        """Tell in-process relays that new rows are committed, so they publish now."""
        for listener in self._listeners:
            listener()

    def row_for(self, event: Event, *, now: datetime | None = None) -> dict[str, object]:
        """The outbox row for one event (its envelope, key and JSON value)."""
        key = event.partition_key()
        return self.encoded_row(
            type(event),
            key=key,
            subject=event.subject(),
            payload=event.__pydantic_serializer__.to_json(event),
            now=now,
        )

    def encoded_row(
        self,
        event_class: type[Event],
        *,
        key: str,
        payload: bytes,
        subject: str | None = None,
        now: datetime | None = None,
        event_id: str | None = None,
    ) -> dict[str, object]:
        """The outbox row of an event whose JSON value is already encoded.

        For producers that encode many events of one kind more cheaply than building
        and dumping each event object; `payload` must be what the event class's own
        JSON serialisation gives (their tests compare the two).
        """
        time = now or datetime.now(UTC)
        event_id = event_id or str(uuid.uuid4())
        headers = binary_headers(
            event_id=event_id,
            source=self._source,
            event_type=event_class.event_type,
            subject=key if subject is None else subject,
            time=time,
            correlation_id=current_correlation_id(),
        )
        return {
            "event_id": event_id,
            "topic": topic_for_event(event_class).name,
            "message_key": key,
            "headers": headers,
            "payload": payload,
            "created_at": time,
        }

    async def add(self, session: AsyncSession, event: Event) -> None:
        """Queue one event in the caller's transaction."""
        await self.add_all(session, [event])

    async def add_all(self, session: AsyncSession, events: Iterable[Event]) -> int:
        """Queue several events in the caller's transaction, in order (one round trip)."""
        now = datetime.now(UTC)
        return await self.add_rows(session, [self.row_for(event, now=now) for event in events])

    async def add_rows(
        self, session: AsyncSession, rows: list[dict[str, object]], *, bulk: bool = False
    ) -> int:
        """Queue rows of `row_for` or `encoded_row` in the caller's transaction, in order.

        One driver-level statement on the session's connection: the ORM layer adds nothing
        to a plain table insert but per-row bookkeeping. `bulk` (thousands of rows): COPY
        on PostgreSQL, inside the transaction (`bulk.copy_rows`).
        """
        for row in rows:
            row["headers"] = EncodedJson(orjson.dumps(row["headers"]).decode())
        if rows:
            write = copy_rows if bulk else insert_rows
            await write(await session.connection(), self._table, rows)
        return len(rows)


def random_uuids(count: int) -> list[str]:
    """`count` random (version 4) UUIDs as text, as `str(uuid.uuid4())` gives them.

    From one read of the system's random source instead of one per id: a first national
    import needs three per person.
    """
    raw = bytearray(os.urandom(16 * count))
    ids = []
    for start in range(0, 16 * count, 16):
        raw[start + 6] = (raw[start + 6] & 0x0F) | 0x40
        raw[start + 8] = (raw[start + 8] & 0x3F) | 0x80
        text = raw[start : start + 16].hex()
        ids.append(f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}")
    return ids
