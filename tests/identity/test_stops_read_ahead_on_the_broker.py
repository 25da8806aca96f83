"""A stop ends a professional's session while identity's in-order registry group is held.

On a real broker: identity's in-order group (`identity.registry-professionals`) is held at
a batch holding a queued update of the person, as a national import's registrations would
hold it. The read-ahead group (`identity.registry-stops`) still ends her open session and
refuses her next token and her next professional login, with the reason. Released, the
in-order group applies the update and the stop in their turn; what was read ahead is then
forgotten, and the facts alone say the same.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from contracts.events.registry import (
    ProfessionalStatusChanged,
    ProfessionalUpdated,
    StatusChangeReason,
)
from identity.adapters.tables import registry_changes_ahead, registry_professionals
from identity.devidp.people import DemoPerson, demo_people
from servicekit.database import as_utc
from servicekit.settings import KafkaSettings
from tests.identity.flows import access_token, activate, login, running_identity
from tests.identity.registry_facts import VERSION, demo_record, register, registered
from tests.support.held_groups import hold_group_at
from tests.support.infrastructure import wait_for
from tests.support.kafka_publishing import publish_events
from tests.support.problems import problem_of

pytestmark = pytest.mark.e2e


def _person(key: str) -> DemoPerson:
    return next(p for p in demo_people() if p.key == key)


async def test_a_stop_ends_the_session_while_the_in_order_group_is_held(
    kafka: KafkaSettings,
    database_url_factory: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person = _person("professional-4")  # a physician
    gate = asyncio.Event()
    async with running_identity(
        kafka, tmp_path, database_url=await database_url_factory("identity"), consume=True
    ) as identity:
        runtime = identity.component.runtime
        professional_id = await register(identity.component, person)
        # The in-order group waits before any batch holding an update of this person.
        hold_group_at(
            monkeypatch,
            group="registry-professionals",
            event_type=ProfessionalUpdated,
            key=professional_id,
            gate=gate,
        )

        async def facts() -> Any:
            async with runtime.sessions() as session:
                table = registry_professionals
                query = sa.select(table).where(table.c.professional_id == professional_id)
                return (await session.execute(query)).one()

        async def recorded_ahead() -> int:
            async with runtime.sessions() as session:
                table = registry_changes_ahead
                query = sa.select(sa.func.count()).where(table.c.professional_id == professional_id)
                return int(await session.scalar(query) or 0)

        try:
            async with identity.browser() as browser:
                assert (await login(browser, person.key)).status_code == 303
                await activate(identity, browser, f"{uuid.uuid4().hex}@example.be")
                await access_token(browser)

                renamed = ProfessionalUpdated(
                    **{
                        **registered(professional_id, demo_record(person)).model_dump(),
                        "last_name": "Peeters",
                        "source_version": VERSION + timedelta(hours=1),
                    }
                )
                ban = ProfessionalStatusChanged(
                    professional_id=professional_id,
                    reason=StatusChangeReason.PRACTICE_BAN,
                    professions=("physician",),
                    active_professions=(),
                    may_practise=False,
                    source_version=VERSION + timedelta(hours=2),
                )
                await publish_events(kafka, renamed, ban)

                async def session_ended() -> bool:
                    return (await browser.post("/api/identity/token")).status_code == 401

                await wait_for(session_ended, timeout_s=60)
                refused = await browser.post("/api/identity/token")
                assert problem_of(refused)["code"] == "professional_rights_ended"
                assert problem_of(refused)["check"] == "practice_ban"
                # Read ahead: the in-order group has not applied the update, nor the ban.
                held = await facts()
                assert as_utc(held.source_version) == VERSION
                assert not held.practice_ban
                assert await recorded_ahead() == 1

            async with identity.browser() as again:
                relogin = await login(again, person.key)
                assert relogin.status_code == 403, relogin.text
                assert problem_of(relogin)["check"] == "practice_ban"

            gate.set()

            async def caught_up() -> bool:
                row = await facts()
                return as_utc(row.source_version) == ban.source_version

            await wait_for(caught_up, timeout_s=60)
            final = await facts()
            assert final.practice_ban
            assert await recorded_ahead() == 0  # applied in its turn, then forgotten
            async with identity.browser() as after:
                assert (await login(after, person.key)).status_code == 403
        finally:
            gate.set()
