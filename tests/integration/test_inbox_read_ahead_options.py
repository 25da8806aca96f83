"""The options a read-ahead group uses (fiches' `registry-stops`): subscriptions sharing
an `exclusive` lock never hold a transaction at the same time (SQLite takes no row lock on
a read), and a group that does not park failures leaves them to the in-order group."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.events.registry import ProfessionalRemoved
from servicekit.database import session_factory
from servicekit.messaging.inbox import InboxConsumer, Subscription
from servicekit.waiting import within
from tests.integration.test_inbox_urgent_first import _removed
from tests.support.consumed_records import (
    RecordingDeadLetters,
    consumed_record,
    sqlite_inbox,
)


def _removals_consumer(
    engine: AsyncEngine, inbox: sa.Table, name: str, handler: Any, **options: Any
) -> InboxConsumer:
    """A consumer of removals on the SQLite inbox, with the subscription options given."""
    return InboxConsumer(
        service="tests",
        subscription=Subscription(
            name=name,
            topics=("registry.professionals.v1",),
            handlers={ProfessionalRemoved: handler},
            **options,
        ),
        sessions=session_factory(engine),
        inbox_table=inbox,
        dead_letters=None,  # type: ignore[arg-type]  # nothing fails here
    )


async def test_a_consumer_waits_for_the_transaction_of_one_sharing_its_lock(
    tmp_path: Path,
) -> None:
    engine, inbox = await sqlite_inbox(tmp_path / "inbox.db")
    turns = asyncio.Lock()
    first_inside, release_first = asyncio.Event(), asyncio.Event()
    applied: list[str] = []

    async def slow(session: Any, event: Any) -> None:
        first_inside.set()
        await release_first.wait()
        applied.append("first")

    async def quick(session: Any, event: Any) -> None:
        applied.append("second")

    def consumer(name: str, handler: Any) -> InboxConsumer:
        return _removals_consumer(engine, inbox, name, handler, exclusive=turns)

    record = consumed_record(_removed(str(uuid.uuid4())), 0)
    first = asyncio.create_task(consumer("first", slow).handle_batch([record]))
    await first_inside.wait()
    second = asyncio.create_task(consumer("second", quick).handle_batch([record]))
    await asyncio.sleep(0.3)  # time enough for the second to apply, were it not waiting

    assert applied == []
    release_first.set()
    await within(asyncio.gather(first, second), timeout_s=30)
    assert applied == ["first", "second"]
    await engine.dispose()


async def _consumer_failing_on(tmp_path: Path, *, parks_failures: bool) -> RecordingDeadLetters:
    engine, inbox = await sqlite_inbox(tmp_path / f"inbox-{parks_failures}.db")
    spy = RecordingDeadLetters()

    async def failing(session: Any, event: Any) -> None:
        raise LookupError("never applies")

    consumer = InboxConsumer(
        service="tests",
        subscription=Subscription(
            name="read-ahead",
            topics=("registry.professionals.v1",),
            handlers={ProfessionalRemoved: failing},
            parks_failures=parks_failures,
        ),
        sessions=session_factory(engine),
        inbox_table=inbox,
        dead_letters=spy,  # type: ignore[arg-type]
        max_attempts=1,
    )
    unreadable = consumed_record(_removed(str(uuid.uuid4())), 0)
    unreadable.value = b'{"not": "a removal"'
    failing_record = consumed_record(_removed(str(uuid.uuid4())), 1)
    await consumer.handle_batch([unreadable, failing_record])
    await engine.dispose()
    return spy


async def test_a_group_that_does_not_park_failures_skips_them(tmp_path: Path) -> None:
    assert (await _consumer_failing_on(tmp_path, parks_failures=False)).parked == []


async def test_by_default_both_kinds_of_failure_are_parked(tmp_path: Path) -> None:
    parked = (await _consumer_failing_on(tmp_path, parks_failures=True)).parked
    assert sorted(type(error).__name__ for _, error, _ in parked) == [
        "LookupError",
        "PoisonMessage",
    ]


async def test_a_batch_is_applied_in_turns_so_a_group_sharing_the_lock_gets_in_between(
    tmp_path: Path,
) -> None:
    engine, inbox = await sqlite_inbox(tmp_path / "inbox.db")
    turns = asyncio.Lock()
    transactions: list[str] = []
    read_ahead_task: list[asyncio.Task[None]] = []

    def consumer(name: str, turn_size: int | None) -> InboxConsumer:
        async def record_transaction(session: Any, events: Any) -> None:
            transactions.append(f"{name}: {len(events)}")

        async def apply(session: Any, event: Any) -> None:
            if name == "in-order" and not read_ahead_task:
                # A stop read ahead arrives while the in-order group holds the lock.
                stop = consumed_record(_removed(str(uuid.uuid4())), 100)
                read_ahead_task.append(
                    asyncio.create_task(consumer("read-ahead", None).handle_batch([stop]))
                )
                await asyncio.sleep(0.1)  # it is waiting for the lock now

        return _removals_consumer(
            engine,
            inbox,
            name,
            apply,
            before_batch=record_transaction,
            exclusive=turns,
            turn_size=turn_size,
        )

    batch = [consumed_record(_removed(str(uuid.uuid4())), offset) for offset in range(5)]
    await within(consumer("in-order", 2).handle_batch(batch), timeout_s=30)
    await within(read_ahead_task[0], timeout_s=30)

    assert transactions == ["in-order: 2", "read-ahead: 1", "in-order: 2", "in-order: 1"]
    async with session_factory(engine)() as session:
        applied = await session.scalar(sa.select(sa.func.count()).select_from(inbox))
    assert applied == 6  # every event recorded once, each in its turn's transaction
    await engine.dispose()


async def test_turns_apply_only_where_the_lock_is_shared(tmp_path: Path) -> None:
    engine, inbox = await sqlite_inbox(tmp_path / "inbox.db")
    sizes: list[int] = []

    async def record_transaction(session: Any, events: Any) -> None:
        sizes.append(len(events))

    async def apply(session: Any, event: Any) -> None:
        return None

    # No `exclusive` (PostgreSQL's row locks): one transaction a batch.
    consumer = _removals_consumer(
        engine, inbox, "in-order", apply, before_batch=record_transaction, turn_size=2
    )
    batch = [consumed_record(_removed(str(uuid.uuid4())), offset) for offset in range(5)]
    await within(consumer.handle_batch(batch), timeout_s=30)
    assert sizes == [5]
    await engine.dispose()
