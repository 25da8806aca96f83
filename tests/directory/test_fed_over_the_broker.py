"""The directory fed over the real broker, read through HTTP: search, near, FHIR and HSDS
all come from the three public topics, and a depublication reaches all of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from servicekit.settings import KafkaSettings
from tests.directory.support import Searchable, searchable_directory
from tests.directory.test_fhir import valid
from tests.support.infrastructure import wait_for
from tests.support.kafka_publishing import publish_events

MARC, NELE = "0b0c1b2e-0000-4000-8000-00000000000a", "0b0c1b2e-0000-4000-8000-00000000000b"
WARM = "0b0c1b2e-0000-4000-8000-0000000000a1"


async def _json(directory: Searchable, path: str, **params: Any) -> Any:
    response = await directory.http.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_public_topics_feed_search_fhir_and_hsds(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'directory.db'}"
    async with searchable_directory(url, tmp_path, kafka=kafka) as directory:
        await directory.component.runtime.start()
        try:
            # The offers first: the topics are independent, order between them is not kept.
            await publish_events(
                kafka,
                directory.link(WARM, MARC),
                directory.link(WARM, NELE, "nurse"),
                directory.provider_event(MARC, "Marc", "Creemers", languages=("nl", "fr")),
                directory.provider_event(NELE, "Nele", "Van Schelvergem", ("nurse",)),
                directory.practice_event(WARM, "Het Warmste Team"),
            )

            async def projected() -> bool:
                hits = await directory.ids(near="Gent", radius_km=5)
                return set(hits) == {MARC, NELE, WARM}

            await wait_for(projected, timeout_s=60)
            assert await directory.ids(near="9000", radius_km=5, type="practice") == [WARM]
            roles = valid(await _json(directory, "/fhir/PractitionerRole", organization=WARM))
            assert len(roles["entry"]) == 2
            near = valid(await _json(directory, "/fhir/Location", near="51.054|3.725|5|km"))
            assert len(near["entry"]) == 1
            services = await _json(directory, "/hsds/services", postcode="9000")
            assert services["total_items"] == 2

            await publish_events(kafka, directory.provider_gone(MARC))

            async def gone() -> bool:
                practitioner = await _json(directory, f"/fhir/Practitioner/{MARC}")
                return practitioner["active"] is False

            await wait_for(gone, timeout_s=60)
            marc = valid(await _json(directory, f"/fhir/Practitioner/{MARC}"))
            assert marc["active"] is False
            assert await directory.ids(q="marc") == []
            assert await directory.ids(near="Gent", radius_km=5, type="provider") == [NELE]
            physicians = await _json(directory, "/hsds/services", taxonomy_term_id="physician")
            assert physicians["total_items"] == 0
            history = valid(
                await _json(directory, "/fhir/Practitioner/_history", _since="2000-01-01")
            )
            assert {e["resource"]["id"]: e["resource"]["active"] for e in history["entry"]} == {
                MARC: False,
                NELE: True,
            }
        finally:
            await directory.component.runtime.stop()
