"""What the inbox does with a failing message: retry, then dead-letter, unless the
failure is the infrastructure's (then nothing is parked and the batch comes again)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from contracts.events.registry import ProfessionalRegistered, ProfessionalRemoved
from servicekit.database import session_factory
from servicekit.messaging.inbox import InboxConsumer, Subscription
from tests.support.consumed_records import (
    RecordingDeadLetters,
    consumed_record,
    sqlite_inbox,
)


def _record(offset: int) -> SimpleNamespace:
    """The removal of someone new, read at `offset`."""
    event = ProfessionalRemoved(
        professional_id=str(uuid.uuid4()), source_version=datetime(2026, 1, 1, tzinfo=UTC)
    )
    return consumed_record(event, offset)


async def _consumer(tmp_path: Path, handler: Any) -> tuple[InboxConsumer, RecordingDeadLetters]:
    engine, inbox = await sqlite_inbox(tmp_path / "inbox.db")
    dead_letters = RecordingDeadLetters()
    consumer = InboxConsumer(
        service="tests",
        subscription=Subscription(
            name="failing",
            topics=("registry.professionals.v1",),
            handlers={ProfessionalRemoved: handler},
        ),
        sessions=session_factory(engine),
        inbox_table=inbox,
        dead_letters=dead_letters,  # type: ignore[arg-type]
        max_attempts=3,
        retry_backoff_s=0.001,
    )
    return consumer, dead_letters


async def test_a_message_failing_every_attempt_is_dead_lettered_once_and_the_rest_applied(
    tmp_path: Path,
) -> None:
    applied: list[str] = []
    bad = _record(1)

    async def handler(session: Any, event: ProfessionalRemoved) -> None:
        if event.partition_key().encode() == bad.key:
            raise ValueError("this event cannot be applied")
        applied.append(event.professional_id)

    consumer, dead_letters = await _consumer(tmp_path, handler)
    await consumer.handle_batch([_record(0), bad, _record(2)])
    # The batch transaction failed and was replayed message by message: the two good
    # events are committed once each (the inbox holds exactly them), the bad one parked.
    async with consumer._sessions() as session:
        committed = await session.scalar(sa.text("SELECT count(*) FROM inbox_messages"))
    assert committed == 2
    assert len(set(applied)) == 2
    [(record, error, attempts)] = dead_letters.parked
    assert record is bad and isinstance(error, ValueError) and attempts == 3


async def test_an_infrastructure_failure_parks_nothing_and_is_raised_for_redelivery(
    tmp_path: Path,
) -> None:
    async def handler(session: Any, event: ProfessionalRemoved) -> None:
        raise sa.exc.OperationalError("UPDATE provider_fiches", {}, Exception("disk I/O error"))

    consumer, dead_letters = await _consumer(tmp_path, handler)
    with pytest.raises(sa.exc.OperationalError):
        await consumer.handle_batch([_record(0)])
    assert dead_letters.parked == []


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (("x-origin", "Liège".encode("latin-1")), "'x-origin' is not UTF-8 text"),
        (("x-trace", None), "'x-trace' has no value"),
    ],
)
async def test_a_record_whose_headers_are_not_text_is_parked_alone(
    tmp_path: Path, header: tuple[str, bytes | None], reason: str
) -> None:
    applied: list[str] = []

    async def handler(session: Any, event: ProfessionalRemoved) -> None:
        applied.append(event.professional_id)

    consumer, dead_letters = await _consumer(tmp_path, handler)
    bad = _record(1)
    bad.headers = [*bad.headers, header]
    await consumer.handle_batch([_record(0), bad, _record(2)])
    assert len(applied) == 2
    [(record, error, attempts)] = dead_letters.parked
    assert record is bad and reason in str(error) and attempts == 1


async def test_a_failed_batch_replays_in_one_transaction_with_a_savepoint_per_message(
    tmp_path: Path,
) -> None:
    bad = _record(1)

    async def handler(session: Any, event: ProfessionalRemoved) -> None:
        # The poison message writes before it fails: its savepoint must take that back.
        await session.execute(
            sa.text("INSERT INTO applied (professional_id) VALUES (:id)"),
            {"id": event.professional_id},
        )
        if event.partition_key().encode() == bad.key:
            raise ValueError("this event cannot be applied")

    consumer, dead_letters = await _consumer(tmp_path, handler)
    engine = consumer._sessions.kw["bind"]
    async with engine.begin() as connection:
        await connection.execute(sa.text("CREATE TABLE applied (professional_id TEXT)"))
    statements: list[str] = []
    commits: list[int] = []
    sa.event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: statements.append(statement.split()[0].upper()),
    )
    sa.event.listen(engine.sync_engine, "commit", lambda _c: commits.append(1))
    good = [_record(0), _record(2)]

    await consumer.handle_batch([good[0], bad, good[1]])

    async with consumer._sessions() as session:
        applied = set((await session.execute(sa.text("SELECT * FROM applied"))).scalars())
        inboxed = await session.scalar(sa.text("SELECT count(*) FROM inbox_messages"))
    assert applied == {g.key.decode() for g in good}  # the poison one's write rolled back
    assert inboxed == 2
    [(record, error, attempts)] = dead_letters.parked
    assert record is bad and isinstance(error, ValueError) and attempts == 3
    # The batch, then the replay: two transactions, not one per message; in the replay
    # each message had its savepoint (the poison one one per attempt).
    assert len(commits) == 1
    assert statements.count("SAVEPOINT") == len(good) + 3
    assert statements.count("ROLLBACK") == 3  # ROLLBACK TO SAVEPOINT, per poison attempt


async def test_a_known_type_the_group_does_not_handle_is_skipped_by_its_type_header(
    tmp_path: Path,
) -> None:
    """A read-ahead group skips most of its topic: by the `ce_type` header alone. A bad
    header on such a record is the handling group's to park, not this group's."""
    applied: list[str] = []

    async def handler(session: Any, event: ProfessionalRemoved) -> None:
        applied.append(event.professional_id)

    consumer, dead_letters = await _consumer(tmp_path, handler)
    registered = consumed_record(
        ProfessionalRemoved(
            professional_id=str(uuid.uuid4()), source_version=datetime(2026, 1, 1, tzinfo=UTC)
        ),
        1,
    )
    # Another known type, with an envelope this group would refuse: no ce_id, a null header.
    registered.headers = [
        ("ce_type", ProfessionalRegistered.event_type.encode()),
        ("ce_subject", None),
    ]
    registered.value = b"not even json"
    await consumer.handle_batch([_record(0), registered, _record(2)])
    assert len(applied) == 2
    assert dead_letters.parked == []


async def test_an_unknown_type_with_bad_headers_is_still_parked(tmp_path: Path) -> None:
    async def handler(session: Any, event: ProfessionalRemoved) -> None:
        return None

    consumer, dead_letters = await _consumer(tmp_path, handler)
    unknown = _record(1)
    unknown.headers = [
        (name, b"be.socialekaart.registry.NoSuchEvent" if name == "ce_type" else value)
        for name, value in unknown.headers
    ] + [("x-trace", None)]
    await consumer.handle_batch([_record(0), unknown])
    [(record, error, _)] = dead_letters.parked
    assert record is unknown and "no value" in str(error)
