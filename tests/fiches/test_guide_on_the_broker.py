"""The guide's story end to end: registry import → fiches → HTTP → topics, on a real broker.

One test (a broker test costs seconds): Marc and Nele come from a registry snapshot;
Marc creates Het Warmste Team and his solo practice; Nele's link request is approved;
an accepted invitation links a third colleague; Marc stops at Het Warmste Team; his visa
ends in the next snapshot and he disappears from the offer blocks while both practice
fiches stay published. The public topics carry exactly the published changes.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contracts.events.fiches import OFFERS_TOPIC, PRACTICES_TOPIC
from contracts.events.identity import Role
from contracts.events.invitations import InvitationAccepted
from fiches.config import FichesSettings
from fiches.entrypoints.app import build_component as build_fiches
from registry_sync.simulator.demo_data import (
    apply_stop_reason,
    generate_professionals,
    write_snapshot,
)
from servicekit.auth import AuthSettings
from servicekit.component import ServiceComponent
from servicekit.settings import KafkaSettings, PlatformSettings
from tests.fiches.test_guide_scenarios import SOLO, WARMSTE_TEAM
from tests.support.auth import TokenSigner
from tests.support.infrastructure import wait_for
from tests.support.kafka_publishing import publish_events
from tests.support.kafka_reading import header, read_topic
from tests.support.platform import running_platform

pytestmark = pytest.mark.e2e


def pick(records: list[dict[str, Any]], profession: str, skip: int = 0) -> dict[str, Any]:
    """A person holding exactly this one profession."""
    found = [r for r in records if [p["profession"] for p in r["professions"]] == [profession]]
    return found[skip]


async def test_the_guide_on_the_broker(kafka: KafkaSettings, tmp_path: Path) -> None:
    records = list(generate_professionals(40, seed=3))
    marc_record = pick(records, "physician")
    nele_record = pick(records, "nurse")
    jan_record = pick(records, "nurse", skip=1)
    first = tmp_path / "snapshot-1.jsonl"
    write_snapshot(first, records)
    signer = TokenSigner()

    def fiches_factory(
        platform: PlatformSettings, kafka: KafkaSettings, settings: FichesSettings
    ) -> ServiceComponent:
        return build_fiches(
            platform,
            kafka,
            settings.model_copy(update={"check_revoked_sessions": False}),
            AuthSettings(trusted_jwks=signer.jwks()),
        )

    async with running_platform(kafka, tmp_path, fiches_factory=fiches_factory) as platform:
        await platform.import_file(first)

        async def all_published() -> bool:
            return await platform.published_total() == len(records)

        await wait_for(all_published, timeout_s=60)
        ids = {
            name: await platform.professional_id_of(record["ssin"])
            for name, record in (("marc", marc_record), ("nele", nele_record), ("jan", jan_record))
        }
        fiche = {name: (await platform.fiche_of(pid))["fiche_id"] for name, pid in ids.items()}  # type: ignore[index]
        users = {name: str(uuid.uuid4()) for name in ids}

        def as_(name: str, profession: str) -> dict[str, str]:
            return signer.headers(
                users[name],
                roles=(Role.PROFESSIONAL,),
                professional_id=ids[name],
                professions=(profession,),
            )

        http = platform.http
        created = await http.post(
            "/api/fiches/practices?publish=true",
            json={**WARMSTE_TEAM, "offers": ["physician"]},
            headers=as_("marc", "physician"),
        )
        assert created.status_code == 201, created.text
        team = created.json()["practice_id"]
        solo = (
            await http.post(
                "/api/fiches/practices?publish=true",
                json={**SOLO, "offers": ["physician"]},
                headers=as_("marc", "physician"),
            )
        ).json()["practice_id"]
        asked = await http.post(
            f"/api/fiches/practices/{team}/link-requests",
            json={"professions": ["nurse"]},
            headers=as_("nele", "nurse"),
        )
        decided = await http.post(
            f"/api/fiches/requests/{asked.json()['request_id']}/decision",
            json={"decision": "approved"},
            headers=as_("marc", "physician"),
        )
        assert decided.status_code == 200, decided.text

        # Jan accepted an invitation: fiches consumes it from invitations' topic.
        await publish_events(
            kafka,
            InvitationAccepted(
                invitation_id=str(uuid.uuid4()),
                practice_id=team,
                professional_id=ids["jan"],
                professions=("nurse",),
                occurred_at=datetime.now(UTC),
            ),
        )

        async def blocks(practice_id: str) -> dict[str, set[str]]:
            response = await http.get(f"/api/fiches/practices/{practice_id}")
            assert response.status_code == 200, response.text
            return {
                b["profession"]: {p["professional_id"] for p in b["providers"]}
                for b in response.json()["offer_blocks"]
            }

        async def jan_linked() -> bool:
            return ids["jan"] in (await blocks(team)).get("nurse", set())

        await wait_for(jan_linked, timeout_s=60, interval_s=0.2)
        assert await blocks(team) == {
            "physician": {ids["marc"]},
            "nurse": {ids["nele"], ids["jan"]},
        }

        # Marc stops at Het Warmste Team, then links again (he manages it).
        stopped = await http.delete(
            f"/api/fiches/providers/{fiche['marc']}/offers/{team}/physician",
            params={"confirm": "true", "publish": "true"},
            headers=as_("marc", "physician"),
        )
        assert stopped.status_code == 204, stopped.text
        assert "physician" not in await blocks(team)
        relinked = await http.post(
            f"/api/fiches/practices/{team}/offers?publish=true",
            json={"professions": ["physician"]},
            headers=as_("marc", "physician"),
        )
        assert relinked.json() == {"linked": ["physician"]}
        assert ids["marc"] in (await blocks(team))["physician"]

        # His visa ends in the next snapshot: gone from both blocks, practices stay.
        stopped_marc, _ = apply_stop_reason(marc_record, "visa_inactive")
        stopped_marc["version"] = "2026-11-28T06:00:00Z"
        second = tmp_path / "snapshot-2.jsonl"
        write_snapshot(second, [stopped_marc if r is marc_record else r for r in records])
        await platform.import_file(second, force=True)

        async def marc_gone() -> bool:
            return await platform.fiche_of(ids["marc"]) is None

        await wait_for(marc_gone, timeout_s=60, interval_s=0.1)
        assert await blocks(team) == {"nurse": {ids["nele"], ids["jan"]}}
        assert await blocks(solo) == {}

        async def on_topics() -> tuple[Counter[str | None], Counter[str | None]]:
            practices = Counter(
                header(r, "ce_type") for r in await read_topic(kafka, PRACTICES_TOPIC)
            )
            offers = Counter(header(r, "ce_type") for r in await read_topic(kafka, OFFERS_TOPIC))
            return practices, offers

        prefix = "be.socialekaart.fiches."
        expected_offers = {prefix + "OfferLinked": 5, prefix + "OfferUnlinked": 1}

        async def topics_settled() -> bool:
            return (await on_topics())[1] == expected_offers

        await wait_for(topics_settled, timeout_s=60, interval_s=0.2)
        practices, _ = await on_topics()
        # Two practices published, never depublished (no automatic depublication).
        assert practices == {prefix + "PracticeFichePublished": 2}
        practice_text = "\n".join(
            r.value.decode() for r in await read_topic(kafka, PRACTICES_TOPIC)
        )
        assert "onthaal@warmsteteam.be" not in practice_text
        assert "warmsteteam.be" in practice_text  # the website is public
