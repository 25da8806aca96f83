"""A depublication leaves the directory while its in-order group is held behind a backlog.

On a real broker: the in-order group (`directory.projection`) is held at a batch holding
a queued update of the provider (as a national import's publications would hold it); the
read-ahead group (`directory.depublications`) takes the provider off search and FHIR
anyway. Released, the in-order group applies the queued update and the depublication in
their turn, and the update does not put the provider back on the map.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from contracts.events.fiches import ProviderFicheUpdated
from directory.adapters.tables import inbox
from servicekit.settings import KafkaSettings
from tests.directory.support import Searchable, searchable_directory
from tests.directory.test_fhir import valid
from tests.support.held_groups import hold_group_at
from tests.support.infrastructure import wait_for
from tests.support.kafka_publishing import publish_events

pytestmark = pytest.mark.e2e

MARC = "0b0c1b2e-0000-4000-8000-0000000000c1"
WARM = "0b0c1b2e-0000-4000-8000-0000000000c2"


async def _practitioner(directory: Searchable) -> dict[str, Any]:
    response = await directory.http.get(f"/fhir/Practitioner/{MARC}")
    assert response.status_code == 200, response.text
    return dict(valid(response.json()))


async def test_a_depublication_leaves_the_directory_while_the_in_order_group_is_held(
    kafka: KafkaSettings,
    database_url_factory: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = asyncio.Event()
    # The in-order group waits before any batch holding an update of this provider (the
    # key of a provider fiche's events is its fiche id).
    hold_group_at(
        monkeypatch, group="projection", event_type=ProviderFicheUpdated, key=MARC, gate=gate
    )
    url = await database_url_factory("directory")
    async with searchable_directory(url, tmp_path, kafka=kafka) as directory:
        runtime = directory.component.runtime
        await runtime.start()
        try:
            await publish_events(
                kafka,
                directory.link(WARM, MARC),
                directory.provider_event(MARC, "Marc", "Creemers"),
                directory.practice_event(WARM, "Het Warmste Team"),
            )

            async def on_the_map() -> bool:
                practice = (await directory.search(q="warmste")).json()["items"]
                found = await directory.ids(q="creemers")
                return MARC in found and bool(practice) and bool(practice[0]["offer_blocks"])

            await wait_for(on_the_map, timeout_s=60)

            queued = directory.provider_event(MARC, "Marc", "Creemers-Peeters", update=True)
            gone = directory.provider_gone(MARC)
            ids = await publish_events(kafka, queued, gone)

            async def off_the_map() -> bool:
                return (await _practitioner(directory))["active"] is False

            await wait_for(off_the_map, timeout_s=60)
            assert await directory.ids(q="marc") == []
            assert await directory.ids(q="warmste") == [WARM]  # without Marc's offer block
            hit = (await directory.search(q="warmste")).json()["items"][0]
            assert hit["offer_blocks"] == []

            gate.set()

            async def applied_in_order() -> bool:
                async with runtime.sessions() as session:
                    done = await session.scalar(
                        sa.select(sa.func.count())
                        .select_from(inbox)
                        .where(inbox.c.consumer == "projection", inbox.c.event_id.in_(ids))
                    )
                return done == len(ids)

            await wait_for(applied_in_order, timeout_s=60)
            assert (await _practitioner(directory))["active"] is False
            assert await directory.ids(q="marc") == []
            assert await directory.ids(q="peeters") == []
        finally:
            gate.set()
            await runtime.stop()


async def test_a_version_queued_before_a_depublication_does_not_put_the_provider_back(
    database_url_factory: Any, tmp_path: Path
) -> None:
    """The in-order group's batches after the read-ahead group's: the queued update comes
    alone, in a batch of its own, after the depublication was recorded."""
    url = await database_url_factory("directory")
    async with searchable_directory(url, tmp_path) as directory:
        await directory.apply(directory.provider_event(MARC, "Marc", "Creemers"))
        queued = directory.provider_event(MARC, "Marc", "Creemers-Peeters", update=True)
        gone = directory.provider_gone(MARC)  # published after the queued update
        await directory.apply(gone)  # the read-ahead group

        await directory.apply(queued)  # the in-order group, in its turn
        assert await directory.ids(q="creemers") == []
        await directory.apply(gone)
        assert await directory.ids(q="creemers") == []

        republished = directory.provider_event(MARC, "Marc", "Creemers")  # later: shows
        await directory.apply(republished)
        assert await directory.ids(q="creemers") == [MARC]
