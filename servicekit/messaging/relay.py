"""The outbox relay: publishes committed outbox rows in order, then deletes them.

Why it reads "every unpublished row" and not "rows after the last id seen": ids are
assigned at insert but become visible at commit, and transactions commit out of order,
so a cursor on ids skips rows. Deleting what was published keeps the scan small.

Per-key order: one relay publishes a service's outbox at a time (a PostgreSQL advisory
lock; SQLite has a single writer anyway), in id order, and aiokafka keeps the order of
sends to one partition. A send that fails rolls the batch back: its rows are published
again (at least once), and consumers deduplicate on the CloudEvents id.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from datetime import UTC, datetime

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit import metrics
from servicekit.waiting import wait_until_set

log = logging.getLogger(__name__)


class OutboxRelay:
    """Moves a service's outbox rows to the broker; wake it after commits for low latency."""

    def __init__(
        self,
        *,
        service: str,
        table: sa.Table,
        sessions: async_sessionmaker[AsyncSession],
        producer: AIOKafkaProducer,
        batch_size: int = 5000,
        poll_interval_s: float = 0.1,
    ) -> None:
        self._service = service
        self._table = table
        self._sessions = sessions
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._wakeup = asyncio.Event()
        self._stopping = False
        # One advisory-lock key per service database (PostgreSQL only).
        self._lock_key = zlib.crc32(f"outbox-relay:{service}".encode())

    def wake(self) -> None:
        """Publish now instead of at the next poll (called after a commit)."""
        self._wakeup.set()

    def stop(self) -> None:
        """Let `run` return after its current batch."""
        self._stopping = True
        self._wakeup.set()

    async def run(self) -> None:
        """Publish until stopped; errors are logged and retried with backoff."""
        backoff = self._poll_interval_s
        while not self._stopping:
            try:
                published = await self.publish_pending()
                backoff = self._poll_interval_s
            except Exception:
                log.exception("outbox relay failed; retrying", extra={"service": self._service})
                published = 0
                backoff = min(backoff * 2, 5.0)
            if published == 0 and not self._stopping:
                self._wakeup.clear()
                await wait_until_set(self._wakeup, backoff)

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished rows; returns how many were published."""
        table = self._table
        async with self._sessions() as session, session.begin():
            on_postgresql = session.get_bind().dialect.name == "postgresql"
            if on_postgresql:
                got_lock = await session.scalar(
                    sa.select(sa.func.pg_try_advisory_xact_lock(self._lock_key))
                )
                if not got_lock:
                    return 0
            query = sa.select(table).order_by(table.c.id).limit(self._batch_size)
            if on_postgresql:
                query = query.with_for_update(skip_locked=True)
            rows = (await session.execute(query)).all()
            if not rows:
                self._record_lag(0, None)
                return 0
            deliveries = [
                await self._producer.send(
                    row.topic,
                    value=row.payload,
                    key=row.message_key.encode(),
                    headers=[(name, value.encode()) for name, value in row.headers],
                )
                for row in rows
            ]
            await asyncio.gather(*deliveries)
            await session.execute(sa.delete(table).where(table.c.id.in_([row.id for row in rows])))
        metrics.OUTBOX_PUBLISHED.labels(self._service).inc(len(rows))
        if len(rows) < self._batch_size:
            self._record_lag(0, None)
        return len(rows)

    async def measure_lag(self) -> int:
        """Count unpublished rows and record the lag gauges."""
        async with self._sessions() as session:
            count, oldest = (
                await session.execute(
                    sa.select(sa.func.count(), sa.func.min(self._table.c.created_at))
                )
            ).one()
        self._record_lag(count, oldest)
        return int(count)

    def _record_lag(self, count: int, oldest: datetime | None) -> None:
        metrics.OUTBOX_LAG.labels(self._service).set(count)
        if oldest is None:
            metrics.OUTBOX_OLDEST_AGE.labels(self._service).set(0)
        else:
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=UTC)
            age = (datetime.now(UTC) - oldest).total_seconds()
            metrics.OUTBOX_OLDEST_AGE.labels(self._service).set(max(age, 0.0))
