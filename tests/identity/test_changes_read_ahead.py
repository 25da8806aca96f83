"""What identity reads ahead of its in-order registry group, and how the facts replay it.

The read-ahead handler (`change_read_ahead`) records a status change or removal without
touching the facts; every read of the facts (`facts_of`) replays what was recorded ahead
of them, oldest first; the in-order group forgets each change once it applied it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from contracts.events.registry import (
    ProfessionalRemoved,
    ProfessionalStatusChanged,
    StatusChangeReason,
)
from identity.adapters.tables import registry_changes_ahead
from identity.devidp.people import demo_people
from identity.domain.eligibility import Refusal, decide
from identity.handlers import registry_events
from servicekit.settings import KafkaSettings
from tests.identity.flows import RunningIdentity, running_identity
from tests.identity.registry_facts import VERSION, register


@pytest.fixture
async def identity(kafka: KafkaSettings, tmp_path: Path) -> AsyncIterator[RunningIdentity]:
    async with running_identity(kafka, tmp_path) as running:
        yield running


def _status(
    professional_id: str, reason: StatusChangeReason, hours: int, *, may_practise: bool
) -> ProfessionalStatusChanged:
    return ProfessionalStatusChanged(
        professional_id=professional_id,
        reason=reason,
        professions=("physician",),
        active_professions=("physician",) if may_practise else (),
        may_practise=may_practise,
        source_version=VERSION + timedelta(hours=hours),
    )


async def _physician(identity: RunningIdentity) -> str:
    return await register(
        identity.component, next(p for p in demo_people() if p.key == "professional-4")
    )


async def _apply(identity: RunningIdentity, handler: Any, *events: Any) -> None:
    async with identity.component.runtime.sessions.begin() as session:
        for event in events:
            await handler(session, event)


async def _refusal(identity: RunningIdentity, professional_id: str) -> Refusal | None:
    async with identity.component.runtime.sessions() as session:
        return decide(await registry_events.facts_of(session, professional_id)).refusal


async def _recorded(identity: RunningIdentity) -> int:
    async with identity.component.runtime.sessions() as session:
        count = sa.select(sa.func.count()).select_from(registry_changes_ahead)
        return int(await session.scalar(count) or 0)


async def test_a_stop_read_ahead_refuses_until_the_in_order_group_applies_it(
    identity: RunningIdentity,
) -> None:
    person = await _physician(identity)
    ban = _status(person, StatusChangeReason.PRACTICE_BAN, 2, may_practise=False)

    await _apply(identity, registry_events.change_read_ahead, ban)
    assert await _refusal(identity, person) is Refusal.PRACTICE_BAN

    await _apply(identity, registry_events.professional_status_changed, ban)
    assert await _recorded(identity) == 0
    assert await _refusal(identity, person) is Refusal.PRACTICE_BAN


async def test_a_reactivation_read_ahead_after_the_stop_lets_the_person_in_again(
    identity: RunningIdentity,
) -> None:
    person = await _physician(identity)
    ban = _status(person, StatusChangeReason.PRACTICE_BAN, 2, may_practise=False)
    lifted = _status(person, StatusChangeReason.REACTIVATED, 3, may_practise=True)

    await _apply(identity, registry_events.change_read_ahead, ban, lifted)

    assert await _refusal(identity, person) is None
    # The in-order group applies the ban: the reactivation read ahead still counts.
    await _apply(identity, registry_events.professional_status_changed, ban)
    assert await _recorded(identity) == 1
    assert await _refusal(identity, person) is None


async def test_a_removal_read_ahead_refuses_as_removed(identity: RunningIdentity) -> None:
    person = await _physician(identity)
    removal = ProfessionalRemoved(
        professional_id=person, source_version=VERSION + timedelta(hours=1)
    )

    await _apply(identity, registry_events.change_read_ahead, removal)

    assert await _refusal(identity, person) is Refusal.REMOVED_FROM_REGISTRY
    await _apply(identity, registry_events.professional_removed, removal)
    assert await _recorded(identity) == 0


async def test_a_change_the_facts_already_hold_is_not_recorded_and_an_older_one_is_ignored(
    identity: RunningIdentity,
) -> None:
    person = await _physician(identity)
    ban = _status(person, StatusChangeReason.PRACTICE_BAN, 2, may_practise=False)
    await _apply(identity, registry_events.professional_status_changed, ban)

    # Delivered to the read-ahead group after the in-order group applied it: nothing to do.
    await _apply(identity, registry_events.change_read_ahead, ban)
    assert await _recorded(identity) == 0

    # A row older than the facts (a race on PostgreSQL can leave one) is not replayed:
    # the facts are newer and win.
    older = _status(person, StatusChangeReason.REACTIVATED, 1, may_practise=True)
    async with identity.component.runtime.sessions.begin() as session:
        await session.execute(
            sa.insert(registry_changes_ahead).values(
                professional_id=person,
                source_version=older.source_version,
                event={"type": older.event_type, "data": older.model_dump(mode="json")},
            )
        )
    assert await _refusal(identity, person) is Refusal.PRACTICE_BAN
