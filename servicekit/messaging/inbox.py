"""Consuming in batches, exactly one effect per event, and failures parked not lost.

Per batch: one database transaction applies every message's effect and records each
event id in the inbox table, then the offsets are committed. A redelivered event (the
process died between the database commit and the offset commit) finds its id in the
inbox and has no second effect.

When the batch transaction fails, the batch is replayed in one new transaction with a
savepoint per message, each with bounded retries and exponential backoff: the messages
that apply are committed together, and a message that still fails is rolled back to its
savepoint and published to the dead-letter topic *before* the offsets move past it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.base import Event, event_class_for_type
from contracts.envelope import Envelope
from servicekit import metrics
from servicekit.database import is_sqlite
from servicekit.id_lists import one_of
from servicekit.logging import correlation_scope
from servicekit.messaging.bulk import copy_rows
from servicekit.messaging.dead_letters import DeadLetters
from servicekit.messaging.inbox_pruning import InboxPruner, InboxPruning

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReceivedEvent:
    """A decoded message: its envelope, its event, and where it came from."""

    envelope: Envelope
    event: Event
    topic: str
    partition: int
    offset: int


EventHandler = Callable[[AsyncSession, Any], Awaitable[None]]
"""A use case applying one event inside the batch's transaction: `(session, event)`."""

BatchHook = Callable[[AsyncSession, Sequence[Event]], Awaitable[None]]
"""Runs once per batch, in its transaction: `before` prefetches, `after` flushes writes."""


@dataclass(frozen=True)
class Subscription:
    """What one consumer group of a service reads and which handler applies each event."""

    name: str
    topics: tuple[str, ...]
    handlers: Mapping[type[Event], EventHandler]
    description: str = ""
    before_batch: BatchHook | None = None
    after_batch: BatchHook | None = None
    urgent: frozenset[type[Event]] = frozenset()
    """Event types applied ahead of the rest of their batch, in a transaction of their own
    (only those whose key has no other kind of event in the batch, so the order per key
    holds): a status change does not wait behind hundreds of registrations."""
    batch_size: int | None = None
    """Most records per batch, when not the platform's `consumer_batch_size`."""
    exclusive: asyncio.Lock | None = None
    """Held around each of this subscription's transactions. Subscriptions of a process
    that change the same rows share one where the database has no row locks (SQLite: a
    read takes no lock, so one's write could overwrite what the other committed since):
    `kept_apart` decides."""
    turn_size: int | None = None
    """With `exclusive`: the most events applied per transaction, so a group sharing the
    lock waits for at most that many (a stop read ahead does not wait for a whole batch
    of registrations). The offsets still move once per batch."""
    parks_failures: bool = True
    """False for a group that reads ahead of another group of the service on the same
    topic: a record it cannot apply is skipped and logged, not dead-lettered twice; the
    group reading in order applies it, or parks it."""


READ_AHEAD_BATCH_SIZE = 5000
"""Records per batch of a group that reads ahead of an in-order one (fiches' and identity's
stops, the directory's depublications). It skips all but a few records by their type
header, unread: large batches keep it at the head of the topic during a national import,
even where it takes turns with the in-order group (SQLite)."""


def kept_apart(database_url: str, *subscriptions: Subscription) -> list[Subscription]:
    """Subscriptions of one process that change the same rows, kept apart on this database.

    On PostgreSQL they are returned as they are: the row locks their batches take when
    they load the rows they change (`SELECT ... FOR UPDATE`) keep one from overwriting
    what the other committed since. On SQLite, which has no row locks, they take turns:
    each is returned holding one shared lock (`Subscription.exclusive`) around its
    transactions. Every service with such subscriptions (an in-order group and a group
    reading ahead of it on the same topic) declares them through this function.
    """
    if any(subscription.exclusive is not None for subscription in subscriptions):
        raise ValueError("kept_apart gives the lock: these subscriptions already hold one")
    if not is_sqlite(database_url):
        return list(subscriptions)
    turns = asyncio.Lock()
    return [dataclasses.replace(subscription, exclusive=turns) for subscription in subscriptions]


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    ConnectionError,
    TimeoutError,
)
"""Failures of infrastructure, not of a message: never a reason to dead-letter."""


class PoisonMessage(ValueError):
    """A message that can never be processed as it is (bad headers or payload)."""


def _check_header_values(headers: Sequence[tuple[str, bytes | None]]) -> None:
    """Refuse headers that are not text: the CloudEvents Kafka binding's are UTF-8 strings.

    Checked per record, so such a record is dead-lettered on its own and never takes the
    valid records of its batch with it.
    """
    for name, value in headers:
        if value is None:
            raise PoisonMessage(f"header {name!r} has no value (null); headers must be text")
        try:
            value.decode("utf-8")
        except UnicodeDecodeError as error:
            raise PoisonMessage(
                f"header {name!r} is not UTF-8 text (invalid byte at position {error.start})"
            ) from error


class InboxConsumer:
    """Applies batches of records through a subscription's handlers, idempotently."""

    def __init__(
        self,
        *,
        service: str,
        subscription: Subscription,
        sessions: async_sessionmaker[AsyncSession],
        inbox_table: sa.Table,
        dead_letters: DeadLetters,
        max_attempts: int = 4,
        retry_backoff_s: float = 0.2,
        on_committed: Callable[[], None] | None = None,
        pruning: InboxPruning | None = InboxPruning(),  # frozen, shared
    ) -> None:
        self._service = service
        self._subscription = subscription
        self._sessions = sessions
        self._inbox = inbox_table
        self._dead_letters = dead_letters
        self._max_attempts = max_attempts
        self._retry_backoff_s = retry_backoff_s
        self._on_committed = on_committed
        self._handled_types = {cls.event_type: cls for cls in subscription.handlers}
        self._pruner = (
            InboxPruner(subscription.name, sessions, inbox_table, pruning) if pruning else None
        )

    @property
    def subscription(self) -> Subscription:
        """What this consumer reads and applies."""
        return self._subscription

    @property
    def name(self) -> str:
        """The subscription's name (the inbox's consumer column)."""
        return self._subscription.name

    async def handle_batch(self, records: Sequence[Any]) -> None:
        """Apply a batch; returns when every record is applied, skipped or dead-lettered."""
        started = time.perf_counter()
        decoded: list[tuple[Any, ReceivedEvent | None]] = []
        for record in records:
            try:
                decoded.append((record, self._decode(record)))
            except PoisonMessage as error:
                await self._park(record, error, attempts=1)
        applicable = [(record, event) for record, event in decoded if event is not None]
        for part in self._turns(self._urgent_first(applicable)):
            try:
                await self._apply([event for _, event in part])
            except Exception:
                log.warning(
                    "batch failed; replaying it with a savepoint per message",
                    exc_info=True,
                    extra={"consumer": self.name, "size": len(part)},
                )
                await self._replay_with_savepoints(part)
        if self._pruner is not None:
            await self._pruner.after_batch(records)
        metrics.BATCH_SECONDS.labels(self._service, self.name).observe(
            time.perf_counter() - started
        )

    def _urgent_first(
        self, applicable: list[tuple[Any, ReceivedEvent]]
    ) -> list[list[tuple[Any, ReceivedEvent]]]:
        """The batch as (urgent part, the rest), each non-empty part applied in turn."""
        urgent_types = self._subscription.urgent
        if not urgent_types:
            return [applicable] if applicable else []
        not_urgent_keys = {
            record.key for record, got in applicable if type(got.event) not in urgent_types
        }
        urgent: list[tuple[Any, ReceivedEvent]] = []
        rest: list[tuple[Any, ReceivedEvent]] = []
        for pair in applicable:
            is_urgent = type(pair[1].event) in urgent_types and pair[0].key not in not_urgent_keys
            (urgent if is_urgent else rest).append(pair)
        return [part for part in (urgent, rest) if part]

    def _turns(
        self, parts: list[list[tuple[Any, ReceivedEvent]]]
    ) -> list[list[tuple[Any, ReceivedEvent]]]:
        """Each part cut into transactions of `turn_size` events, in order, when shared."""
        size = self._subscription.turn_size
        if self._subscription.exclusive is None or not size:
            return parts
        return [part[start : start + size] for part in parts for start in range(0, len(part), size)]

    def _decode(self, record: Any) -> ReceivedEvent | None:
        if self._is_known_but_not_handled(record):
            # Another group's record (a read-ahead group skips most of its topic): ignored
            # by its type header alone, without validating the envelope. Its headers are
            # checked, and a bad record parked, by the group that handles its type.
            metrics.MESSAGES_IGNORED.labels(self._service, self.name, record.topic).inc()
            return None
        _check_header_values(record.headers or ())
        try:
            envelope = Envelope.from_headers(record.headers or ())
        except (ValueError, ValidationError) as error:
            raise PoisonMessage(f"invalid CloudEvents headers: {error}") from error
        event_class = self._handled_types.get(envelope.type)
        if event_class is None:
            if event_class_for_type(envelope.type) is None:
                log.warning(
                    "unknown event type ignored",
                    extra={"event_type": envelope.type, "topic": record.topic},
                )
            metrics.MESSAGES_IGNORED.labels(self._service, self.name, record.topic).inc()
            return None
        try:
            event = event_class.model_validate_json(record.value)
        except ValidationError as error:
            raise PoisonMessage(
                f"{envelope.type} payload does not match its schema: {error}"
            ) from error
        return ReceivedEvent(envelope, event, record.topic, record.partition, record.offset)

    def _is_known_but_not_handled(self, record: Any) -> bool:
        for name, value in record.headers or ():
            if name == "ce_type":
                try:
                    event_type = value.decode("utf-8")
                except (AttributeError, UnicodeDecodeError):
                    return False  # the full path parks it with a clear reason
                return (
                    event_type not in self._handled_types
                    and event_class_for_type(event_type) is not None
                )
        return False

    def _exclusive(self) -> contextlib.AbstractAsyncContextManager[object]:
        return self._subscription.exclusive or contextlib.nullcontext()

    async def _apply(self, events: Sequence[ReceivedEvent]) -> None:
        async with self._exclusive(), self._sessions() as session, session.begin():
            fresh = await self._apply_in(session, events)
        self._committed(fresh)

    async def _apply_in(
        self, session: AsyncSession, events: Sequence[ReceivedEvent]
    ) -> list[ReceivedEvent]:
        """Apply the events not applied before, and record them in the inbox."""
        already = await self._already_processed(session, [e.envelope.id for e in events])
        fresh: list[ReceivedEvent] = []
        for received in events:
            if received.envelope.id in already:
                metrics.MESSAGES_DUPLICATE.labels(self._service, self.name, received.topic).inc()
                continue
            already.add(received.envelope.id)
            fresh.append(received)
        if not fresh:
            return fresh
        subscription = self._subscription
        if subscription.before_batch:
            await subscription.before_batch(session, [e.event for e in fresh])
        for received in fresh:
            handler = subscription.handlers[type(received.event)]
            with correlation_scope(received.envelope.correlationid or received.envelope.id):
                await handler(session, received.event)
        if subscription.after_batch:
            await subscription.after_batch(session, [e.event for e in fresh])
        now = datetime.now(UTC)
        # COPY on PostgreSQL: a catch-up records 100,000 event ids, which an executemany
        # sent as 100,000 statements (2.6 s of PostgreSQL's time, bench/directory.py).
        await copy_rows(
            await session.connection(),
            self._inbox,
            [
                {
                    "consumer": self.name,
                    "event_id": e.envelope.id,
                    "topic": e.topic,
                    "partition": e.partition,
                    "offset": e.offset,
                    "processed_at": now,
                }
                for e in fresh
            ],
        )
        return fresh

    def _committed(self, fresh: Sequence[ReceivedEvent]) -> None:
        for received in fresh:
            metrics.MESSAGES_CONSUMED.labels(self._service, self.name, received.topic).inc()
        if fresh and self._on_committed:
            self._on_committed()

    async def _already_processed(self, session: AsyncSession, event_ids: list[str]) -> set[str]:
        inbox = self._inbox
        rows = await session.execute(
            sa.select(inbox.c.event_id).where(
                inbox.c.consumer == self.name, one_of(session, inbox.c.event_id, event_ids)
            )
        )
        return set(rows.scalars())

    async def _replay_with_savepoints(
        self, applicable: Sequence[tuple[Any, ReceivedEvent]]
    ) -> None:
        """One transaction, a savepoint per message: the good ones commit together.

        A message that fails every attempt is rolled back to its savepoint alone and
        parked after the commit (before the offsets move). Handlers keep per-transaction
        caches in `session.info`; they are dropped with a rolled-back savepoint, since
        they may hold that message's half-applied changes.
        """
        applied: list[ReceivedEvent] = []
        poison: list[tuple[Any, BaseException, int]] = []
        async with self._exclusive(), self._sessions() as session, session.begin():
            connection = await session.connection()
            if connection.dialect.name == "sqlite":
                # Python's sqlite3 opens a transaction only before a write; a SAVEPOINT
                # outside one would be a transaction of its own, committed on release.
                await connection.exec_driver_sql("BEGIN")
            for record, received in applicable:
                failure = await self._apply_with_retries(session, record, received, applied)
                if failure is not None:
                    poison.append((record, failure, self._max_attempts))
        self._committed(applied)
        for record, error, attempts in poison:
            await self._park(record, error, attempts=attempts)

    async def _park(self, record: Any, error: BaseException, *, attempts: int) -> None:
        if self._subscription.parks_failures:
            await self._dead_letters.park(record, error, attempts=attempts)
            return
        log.warning(
            "record skipped; the in-order group applies or parks it",
            extra={
                "consumer": self.name,
                "topic": record.topic,
                "offset": record.offset,
                "error_type": type(error).__name__,
            },
        )

    async def _apply_with_retries(
        self,
        session: AsyncSession,
        record: Any,
        received: ReceivedEvent,
        applied: list[ReceivedEvent],
    ) -> BaseException | None:
        """Apply one message in a savepoint, retried; returns the error if it never applied."""
        delay = self._retry_backoff_s
        for attempt in range(1, self._max_attempts + 1):
            try:
                async with session.begin_nested():
                    applied.extend(await self._apply_in(session, [received]))
                return None
            except Exception as error:
                session.info.clear()
                metrics.MESSAGES_FAILED.labels(self._service, self.name, record.topic).inc()
                if attempt == self._max_attempts:
                    if isinstance(error, TRANSIENT_ERRORS):
                        # The database, not the message, is the problem: park nothing;
                        # the subscriber rewinds and the batch is delivered again later.
                        raise
                    return error
                log.warning(
                    "message failed; retrying",
                    extra={
                        "consumer": self.name,
                        "topic": record.topic,
                        "offset": record.offset,
                        "attempt": attempt,
                        "error_type": type(error).__name__,
                    },
                )
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable: the last attempt returns or raises")
