"""The outbox relay: publishes committed outbox rows in order, then deletes them.

Why it reads "every unpublished row" and not "rows after the last id seen": ids are
assigned at insert but become visible at commit, and transactions commit out of order,
so a cursor on ids skips rows. Deleting what was published keeps the scan small.

One relay per database: only the holder of the relay lock (`relay_lock`) publishes; a
relay that finds it held waits on standby and takes over when the holder stops or dies.
On PostgreSQL each batch also takes a transaction advisory lock, so even two relays that
both believed they led could never publish the same rows twice.

Per-key order: one relay publishes in id order. Each batch of rows is split by the
partition its keys go to (Kafka's default partitioner), each partition's rows are sent as
record batches (`send_batch`), and a partition's next record batch leaves only once the
previous one is acknowledged. A send that fails rolls the batch back: its rows are
published again (at least once), and consumers deduplicate on the CloudEvents id.

Never stalled by one event: an event the broker refuses for good (`REFUSED_FOR_GOOD`:
larger than the broker accepts, an invalid record) is moved to the `outbox_refused` table
with the reason, counted (`skaart_outbox_refused_total`) and logged at ERROR, and the
events after it are published (a record batch refused for good is sent again event by
event, to tell which one it was). Failures that are not the event's (no connection, no
authorization, timeouts) stop the relay, which retries with backoff: moving events aside
for those would empty the outbox into the refused table.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    CorruptRecordException,
    InvalidMessageError,
    InvalidTimestampError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit import metrics
from servicekit.logging import redact_national_numbers
from servicekit.messaging.relay_lock import RelayLock, relay_lock_for
from servicekit.messaging.tables import refused_table
from servicekit.waiting import wait_until_set

log = logging.getLogger(__name__)

REFUSED_FOR_GOOD: tuple[type[Exception], ...] = (
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    CorruptRecordException,
    InvalidMessageError,
    InvalidTimestampError,
)
"""Refusals of the event itself: sending it again can never succeed."""

_MAX_REASON_CHARS = 2000
_LARGE_PAYLOAD_BYTES = 256 * 1024
"""Larger events are sent on their own, through the producer's checks of their size."""


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
        standby_poll_s: float = 1.0,
        lock: RelayLock | None = None,
    ) -> None:
        self._service = service
        self._table = table
        self._refused = refused_table(table)
        self._sessions = sessions
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._standby_poll_s = standby_poll_s
        self._lock = lock or _lock_for_sessions(sessions, service)
        self._leading: bool | None = None
        self._wakeup = asyncio.Event()
        self._stopping = False
        # One advisory-lock key per service database (PostgreSQL only), for each batch.
        self._lock_key = zlib.crc32(f"outbox-relay:{service}".encode())

    @property
    def is_active(self) -> bool:
        """Whether this relay holds the lock and publishes (False on standby)."""
        return bool(self._leading)

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
        try:
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
                    await wait_until_set(
                        self._wakeup, backoff if self.is_active else self._standby_poll_s
                    )
        finally:
            await self.release()

    async def release(self) -> None:
        """Give up the lead, so a standby relay takes over (called when `run` ends)."""
        was_leading = self._leading
        self._leading = None
        await self._lock.release()
        if was_leading:
            metrics.OUTBOX_RELAY_ACTIVE.labels(self._service).set(0)
            log.info("outbox relay stepped down", extra={"service": self._service})

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished rows; returns how many left the outbox.

        Returns 0 without reading anything while another relay holds the lead.
        """
        if not await self._lead():
            return 0
        table = self._table
        async with self._sessions() as session, session.begin():
            on_postgresql = session.get_bind().dialect.name == "postgresql"
            if on_postgresql:
                got_lock = await session.scalar(
                    sa.select(sa.func.pg_try_advisory_xact_lock(self._lock_key))
                )
                if not got_lock:
                    return 0
            # Only what sending needs: the event id and creation time are read again for
            # the rare refused row (they were a tenth of the relay's time per row).
            c = table.c
            query = (
                sa.select(c.id, c.topic, c.message_key, c.headers, c.payload)
                .order_by(c.id)
                .limit(self._batch_size)
            )
            if on_postgresql:
                query = query.with_for_update(skip_locked=True)
            rows = (await session.execute(query)).all()
            if not rows:
                self._record_lag(0, None)
                return 0
            refused = await self._send_all(rows)
            refused_rows: Sequence[Any] = ()
            if refused:
                refused_rows = (
                    await session.execute(
                        sa.select(table).where(table.c.id.in_(list(refused))).order_by(table.c.id)
                    )
                ).all()
                await self._move_aside(session, refused_rows, refused)
            await session.execute(
                self._delete_published(on_postgresql), {"ids": [row.id for row in rows]}
            )
        for row in refused_rows:
            self._report_refused(row, refused[row.id])
        metrics.OUTBOX_PUBLISHED.labels(self._service).inc(len(rows) - len(refused))
        if len(rows) < self._batch_size:
            self._record_lag(0, None)
        return len(rows)

    def _delete_published(self, on_postgresql: bool) -> sa.Delete:
        # One parameter for all the ids on PostgreSQL (an array), an expanding IN elsewhere:
        # a statement with thousands of literal parameters was compiled again every batch.
        table = self._table
        if on_postgresql:
            ids = sa.bindparam("ids", type_=postgresql.ARRAY(table.c.id.type))
            return sa.delete(table).where(table.c.id == sa.func.any(ids))
        return sa.delete(table).where(table.c.id.in_(sa.bindparam("ids", expanding=True)))

    async def _lead(self) -> bool:
        leading = await self._lock.acquire()
        if leading != self._leading:
            self._leading = leading
            metrics.OUTBOX_RELAY_ACTIVE.labels(self._service).set(int(leading))
            if leading:
                log.info("outbox relay active", extra={"service": self._service})
            else:
                log.info(
                    "outbox relay on standby: another relay publishes this database's outbox",
                    extra={"service": self._service},
                )
        return leading

    async def _send_all(self, rows: Sequence[Any]) -> dict[int, Exception]:
        """Send every row; returns the ones refused for good, by id. Other failures raise.

        Rows are grouped by the partition their key goes to (the default partitioner's
        choice, as Kafka's own clients make it) and each partition's rows are sent in
        record batches built here (`send_batch`), one batch after the other: a batch
        costs the producer one future instead of one per event, and the next batch of a
        partition leaves only once the previous one is acknowledged, so a batch refused
        for good can be sent again event by event without overtaking anything.
        """
        refused: dict[int, Exception] = {}
        lanes: dict[tuple[str, int], list[Any]] = {}
        partitions: dict[str, list[int]] = {}
        # A key's events often come together (a registration and its identification).
        hashes: dict[str, int] = {}
        for row in rows:
            topic = row.topic
            known = partitions.get(topic)
            if known is None:
                known = partitions[topic] = sorted(await self._producer.partitions_for(topic))
            key = row.message_key
            hashed = hashes.get(key)
            if hashed is None:
                hashed = hashes[key] = murmur2(key.encode()) & 0x7FFFFFFF
            lanes.setdefault((topic, known[hashed % len(known)]), []).append(row)
        outcomes = await asyncio.gather(
            *(
                self._send_lane(topic, partition, lane, refused)
                for (topic, partition), lane in lanes.items()
            ),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return refused

    async def _send_lane(
        self, topic: str, partition: int, rows: list[Any], refused: dict[int, Exception]
    ) -> None:
        """One partition's rows, in order, in batches sent one after the other."""
        batch = self._producer.create_batch()
        batched: list[Any] = []
        for row in rows:
            headers = [(name, value.encode()) for name, value in row.headers]
            key = row.message_key.encode()
            if len(row.payload) > _LARGE_PAYLOAD_BYTES:
                # The producer's own checks (its maximum request size) decide on it.
                await self._send_batch(topic, partition, batch, batched, refused)
                batch, batched = self._producer.create_batch(), []
                refused.update(await self._send_one_by_one([row]))
                continue
            if batch.append(key=key, value=row.payload, timestamp=None, headers=headers) is None:
                await self._send_batch(topic, partition, batch, batched, refused)
                batch, batched = self._producer.create_batch(), []
                batch.append(key=key, value=row.payload, timestamp=None, headers=headers)
            batched.append(row)
        await self._send_batch(topic, partition, batch, batched, refused)

    async def _send_batch(
        self,
        topic: str,
        partition: int,
        batch: Any,
        rows: list[Any],
        refused: dict[int, Exception],
    ) -> None:
        if not rows:
            return
        batch.close()
        try:
            await (await self._producer.send_batch(batch, topic, partition=partition))
        except REFUSED_FOR_GOOD:
            # One of them is refused: event by event, to tell which (the others go on).
            refused.update(await self._send_one_by_one(rows))

    async def _send_one_by_one(self, rows: Sequence[Any]) -> dict[int, Exception]:
        """Send rows event by event; the ones refused for good, by id. Others raise."""
        refused: dict[int, Exception] = {}
        sending: list[tuple[Any, asyncio.Future[Any]]] = []
        try:
            for row in rows:
                try:
                    delivery = await self._producer.send(
                        row.topic,
                        value=row.payload,
                        key=row.message_key.encode(),
                        headers=[(name, value.encode()) for name, value in row.headers],
                    )
                except REFUSED_FOR_GOOD as error:  # refused by the client, before sending
                    refused[row.id] = error
                    continue
                sending.append((row, delivery))
        finally:
            outcomes = await asyncio.gather(
                *(delivery for _, delivery in sending), return_exceptions=True
            )
        for (row, _), outcome in zip(sending, outcomes, strict=True):
            if isinstance(outcome, REFUSED_FOR_GOOD):
                refused[row.id] = outcome
            elif isinstance(outcome, BaseException):
                raise outcome
        return refused

    async def _move_aside(
        self, session: AsyncSession, rows: Sequence[Any], refused: dict[int, Exception]
    ) -> None:
        now = datetime.now(UTC)
        await session.execute(
            sa.insert(self._refused),
            [
                {
                    "id": row.id,
                    "event_id": row.event_id,
                    "topic": row.topic,
                    "message_key": row.message_key,
                    "headers": row.headers,
                    "payload": row.payload,
                    "created_at": row.created_at,
                    "refused_at": now,
                    "error_type": type(refused[row.id]).__name__,
                    "reason": _reason(refused[row.id]),
                }
                for row in rows
                if row.id in refused
            ],
        )

    def _report_refused(self, row: Any, error: Exception) -> None:
        metrics.OUTBOX_REFUSED.labels(self._service, row.topic).inc()
        # The alert hook: operators page on this line or on skaart_outbox_refused_total.
        log.error(
            "outbox event refused by the broker; moved to outbox_refused, later events go on",
            extra={
                "service": self._service,
                "event_id": row.event_id,
                "topic": row.topic,
                "payload_bytes": len(row.payload),
                "error_type": type(error).__name__,
                "reason": _reason(error),
            },
        )

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


def _lock_for_sessions(sessions: async_sessionmaker[AsyncSession], service: str) -> RelayLock:
    engine = sessions.kw.get("bind")
    if engine is None:
        raise ValueError("the relay's sessions must be bound to an engine, or pass `lock`")
    return relay_lock_for(engine, service)


def _reason(error: Exception) -> str:
    return redact_national_numbers(f"{type(error).__name__}: {error}")[:_MAX_REASON_CHARS]


_M = 0x5BD1E995
_MASK = 0xFFFFFFFF
_WORDS: dict[int, Any] = {}


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 of a key (unsigned), as its default partitioner computes it.

    The same function as `aiokafka.partitioner.murmur2` and Java's `Utils.murmur2`, several
    times faster: the relay hashes every key to group a batch by partition.
    """
    length = len(data)
    h = 0x9747B28C ^ length
    words = length >> 2
    unpack = _WORDS.get(words)
    if unpack is None:
        unpack = _WORDS[words] = struct.Struct(f"<{words}I").unpack_from
    m, mask = _M, _MASK
    for k in unpack(data):
        k = (k * m) & mask
        h = ((h * m) & mask) ^ (((k ^ (k >> 24)) * m) & mask)
    whole, extra = length & ~3, length & 3
    if extra:
        if extra == 3:
            h ^= data[whole + 2] << 16
        if extra >= 2:
            h ^= data[whole + 1] << 8
        h = ((h ^ data[whole]) * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    return h ^ (h >> 15)
