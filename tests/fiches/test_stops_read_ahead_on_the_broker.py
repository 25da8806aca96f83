"""A stop reaches the map while the in-order registry group is held behind a backlog.

On a real broker: the in-order group (`fiches.registry-professionals`) is held at a batch
holding a queued update of the person (as a national import's registrations would hold
it), and the read-ahead group (`fiches.registry-stops`) takes the person off the map
anyway. Released, the in-order group applies the update and the stop in their turn: the
newer facts are kept, and exactly one depublication reaches the public topic's outbox.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from contracts.events.fiches import PROVIDERS_TOPIC, ProviderFicheDepublished
from contracts.events.registry import (
    ProfessionalRegistered,
    ProfessionalStatusChanged,
    ProfessionalUpdated,
    StatusChangeReason,
)
from fiches.adapters.tables import outbox, provider_fiches
from fiches.config import FichesSettings
from fiches.entrypoints.app import build_component
from servicekit.auth import AuthSettings
from servicekit.settings import KafkaSettings, PlatformSettings
from tests.support.auth import TokenSigner
from tests.support.held_groups import hold_group_at
from tests.support.infrastructure import wait_for
from tests.support.kafka_publishing import publish_events
from tests.support.kafka_reading import header, read_topic
from tests.unit.fiches.test_provider_fiche import physician

pytestmark = pytest.mark.e2e

V1 = datetime(2026, 11, 1, tzinfo=UTC)


def _facts(professional_id: str, version: datetime, last_name: str) -> dict[str, Any]:
    return {
        "professional_id": professional_id,
        "last_name": last_name,
        "first_name": "Albert",
        "language": "nl",
        "practice_ban": False,
        "deceased": False,
        "professions": (physician(),),
        "may_practise": True,
        "source_version": version,
    }


async def test_a_stop_takes_the_fiche_off_the_map_while_the_in_order_group_is_held(
    kafka: KafkaSettings,
    database_url_factory: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person = str(uuid.uuid4())
    gate = asyncio.Event()
    # The in-order group waits before any batch holding an update of this person.
    hold_group_at(
        monkeypatch,
        group="registry-professionals",
        event_type=ProfessionalUpdated,
        key=person,
        gate=gate,
    )
    component = build_component(
        PlatformSettings(data_dir=tmp_path / "data"),
        kafka,
        FichesSettings(database_url=await database_url_factory("fiches")),
        AuthSettings(trusted_jwks=TokenSigner().jwks()),
    )
    runtime = component.runtime

    async def fiche() -> Any:
        async with runtime.sessions() as session:
            query = sa.select(provider_fiches).where(provider_fiches.c.professional_id == person)
            return (await session.execute(query)).first()

    async def outbox_empty() -> bool:
        async with runtime.sessions() as session:
            return not await session.scalar(sa.select(sa.func.count()).select_from(outbox))

    async def depublications() -> list[str]:
        """The reasons of this person's depublications on the public topic."""
        await wait_for(outbox_empty, timeout_s=60)  # the relay published everything
        depublished = [
            json.loads(record.value)
            for record in await read_topic(kafka, PROVIDERS_TOPIC)
            if header(record, "ce_type") == ProviderFicheDepublished.event_type
        ]
        return [d["reason"] for d in depublished if d["professional_id"] == person]

    await runtime.start()
    try:
        await publish_events(kafka, ProfessionalRegistered(**_facts(person, V1, "Segers")))

        async def on_the_map() -> bool:
            row = await fiche()
            return row is not None and row.published

        await wait_for(on_the_map, timeout_s=60)

        renamed = ProfessionalUpdated(**_facts(person, V1 + timedelta(hours=1), "Peeters"))
        death = ProfessionalStatusChanged(
            professional_id=person,
            reason=StatusChangeReason.DECEASED,
            professions=("physician",),
            active_professions=(),
            may_practise=False,
            source_version=V1 + timedelta(hours=2),
        )
        await publish_events(kafka, renamed, death)

        async def off_the_map() -> bool:
            row = await fiche()
            return not row.published

        await wait_for(off_the_map, timeout_s=60)
        held = await fiche()
        assert held.official_last_name == "Segers"  # the in-order group is still held
        assert held.depublication_reason == "deceased"

        gate.set()

        async def caught_up() -> bool:
            row = await fiche()
            return row.official_last_name == "Peeters" and not row.may_practise

        await wait_for(caught_up, timeout_s=60)
        final = await fiche()
        assert not final.published
        assert final.registry_version.replace(tzinfo=UTC) == death.source_version
        assert await depublications() == ["deceased"]
    finally:
        gate.set()
        await runtime.stop()
        await runtime.engine.dispose()
