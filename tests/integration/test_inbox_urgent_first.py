"""Urgent events go ahead of their batch, in a transaction of their own, and the order
per key holds: a key with any other kind of event in the batch keeps its place."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from contracts.events.registry import (
    ProfessionalRemoved,
    ProfessionalStatusChanged,
    StatusChangeReason,
)
from servicekit.database import session_factory
from servicekit.messaging.inbox import InboxConsumer, Subscription
from tests.support.consumed_records import consumed_record, sqlite_inbox

VERSION = datetime(2026, 1, 1, tzinfo=UTC)


def _removed(key: str) -> ProfessionalRemoved:
    return ProfessionalRemoved(professional_id=key, source_version=VERSION)


def _stopped(key: str) -> ProfessionalStatusChanged:
    return ProfessionalStatusChanged(
        professional_id=key,
        reason=StatusChangeReason.DECEASED,
        professions=(),
        active_professions=(),
        may_practise=False,
        source_version=VERSION,
    )


async def test_an_urgent_event_alone_on_its_key_is_committed_before_the_rest(
    tmp_path: Path,
) -> None:
    engine, inbox = await sqlite_inbox(tmp_path / "inbox.db")
    applied: list[tuple[str, str]] = []

    async def handler(session: Any, event: Any) -> None:
        applied.append((type(event).__name__, event.professional_id))

    consumer = InboxConsumer(
        service="tests",
        subscription=Subscription(
            name="urgent",
            topics=("registry.professionals.v1",),
            handlers={ProfessionalRemoved: handler, ProfessionalStatusChanged: handler},
            urgent=frozenset({ProfessionalStatusChanged}),
        ),
        sessions=session_factory(engine),
        inbox_table=inbox,
        dead_letters=None,  # type: ignore[arg-type]  # nothing fails here
    )
    commits: list[int] = []
    sa.event.listen(engine.sync_engine, "commit", lambda _c: commits.append(len(applied)))
    a, b, c = (str(uuid.uuid4()) for _ in range(3))
    events = [_removed(a), _stopped(b), _removed(c), _stopped(c)]

    await consumer.handle_batch([consumed_record(e, offset) for offset, e in enumerate(events)])

    assert applied == [
        ("ProfessionalStatusChanged", b),  # alone on its key: ahead of the batch
        ("ProfessionalRemoved", a),
        ("ProfessionalRemoved", c),
        ("ProfessionalStatusChanged", c),  # its key has an earlier event: stays after it
    ]
    assert commits == [1, 4]  # the urgent one committed on its own, first
    await engine.dispose()
