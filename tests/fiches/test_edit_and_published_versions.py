"""Edit version vs published version, history and restore (DOMAIN.md: "Opslaan en publiceren")."""

from __future__ import annotations

from typing import Any

from contracts.events.fiches import (
    MANAGERS_TOPIC,
    OFFERS_TOPIC,
    PRACTICES_TOPIC,
    PROVIDERS_TOPIC,
)
from tests.fiches.conftest import FichesUnderTest
from tests.fiches.test_guide_scenarios import SOLO, WARMSTE_TEAM, create, public_blocks

PUBLIC_TOPICS = (PRACTICES_TOPIC, OFFERS_TOPIC, PROVIDERS_TOPIC)


async def public_events(fiches: FichesUnderTest) -> list[tuple[str, dict[str, Any]]]:
    return [e for topic in PUBLIC_TOPICS for e in await fiches.events(topic)]


async def test_an_unpublished_edit_is_invisible_to_the_public_and_the_topics(
    fiches: FichesUnderTest,
) -> None:
    marc = await fiches.professional("marc", ("physician",))
    practice = await create(fiches, marc, WARMSTE_TEAM, ["physician"])
    before = await public_events(fiches)
    assert [t for t, _ in before if t.startswith("Practice")] == ["PracticeFichePublished"]

    renamed = {**WARMSTE_TEAM, "names": [{"name": "Het Allerwarmste Team"}], "wijken": ["Dampoort"]}
    saved = await fiches.request(
        "PUT", f"/api/fiches/practices/{practice}/edit", marc, json=renamed
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["changed_fields"] == ["names", "wijken"]

    public = (await fiches.request("GET", f"/api/fiches/practices/{practice}")).json()
    assert public["name"] == "Het Warmste Team"
    assert public["data"]["wijken"] == ["Sluizeken", "Muide"]
    assert await public_events(fiches) == before
    edit = (await fiches.request("GET", f"/api/fiches/practices/{practice}/edit", marc)).json()
    assert edit["draft"]["names"][0]["name"] == "Het Allerwarmste Team"
    assert edit["unpublished_changes"] is True
    # Managers (invitations) follow the edit version's name at once: internal topic.
    managers = [p for _, p in await fiches.events(MANAGERS_TOPIC)]
    assert managers[-1]["practice_name"] == "Het Allerwarmste Team"

    published = await fiches.request("POST", f"/api/fiches/practices/{practice}/publish", marc)
    assert published.json()["changed_fields"] == ["names", "wijken"]
    public = (await fiches.request("GET", f"/api/fiches/practices/{practice}")).json()
    assert public["name"] == "Het Allerwarmste Team"
    assert public["revision"] == 2
    updated = [p for t, p in await fiches.events(PRACTICES_TOPIC) if t == "PracticeFicheUpdated"]
    assert [(p["name"], p["revision"], p["wijken"]) for p in updated] == [
        ("Het Allerwarmste Team", 2, ["Dampoort"])
    ]


async def test_an_unpublished_practice_and_an_unpublished_offer_stay_private(
    fiches: FichesUnderTest,
) -> None:
    marc = await fiches.professional("marc", ("physician",))
    created = await fiches.request(
        "POST", "/api/fiches/practices", marc, json={**SOLO, "offers": ["physician"]}
    )
    practice = created.json()["practice_id"]
    assert (await fiches.request("GET", f"/api/fiches/practices/{practice}")).status_code == 404
    assert [t for t, _ in await public_events(fiches)] == ["ProviderFichePublished"]
    await fiches.request("POST", f"/api/fiches/practices/{practice}/publish", marc)
    assert await public_blocks(fiches, practice) == {"physician": {marc.professional_id}}

    # An offer taken off in the edit version stays in the public block until published.
    removed = await fiches.request(
        "DELETE",
        f"/api/fiches/practices/{practice}/offers/{marc.professional_id}/physician",
        marc,
    )
    assert removed.status_code == 204
    assert await public_blocks(fiches, practice) == {"physician": {marc.professional_id}}
    assert not [t for t, _ in await fiches.events(OFFERS_TOPIC) if t == "OfferUnlinked"]
    await fiches.request("POST", f"/api/fiches/practices/{practice}/publish", marc)
    assert await public_blocks(fiches, practice) == {}
    assert [t for t, _ in await fiches.events(OFFERS_TOPIC)] == ["OfferLinked", "OfferUnlinked"]


async def test_provider_own_fields_are_published_only_when_asked(fiches: FichesUnderTest) -> None:
    albert = await fiches.professional("albert", ("physician",), first="Albert", last="Segers")
    own = {
        "preferred_name": "Bert Segers",
        "languages": ["nl", "fr"],
        "description": "Huisarts met interesse in sportgeneeskunde.",
        "phone_numbers": [{"number": "0470 12 34 56"}],
        "email_addresses": [{"email": "bert@segers.be"}],
    }
    saved = await fiches.request(
        "PUT", f"/api/fiches/providers/{albert.fiche_id}/edit", albert, json=own
    )
    assert saved.status_code == 200, saved.text
    public = (await fiches.request("GET", f"/api/fiches/providers/{albert.fiche_id}")).json()
    assert public.get("preferred_name") is None
    assert [t for t, _ in await fiches.events(PROVIDERS_TOPIC)] == ["ProviderFichePublished"]

    saved = await fiches.request(
        "PUT", f"/api/fiches/providers/{albert.fiche_id}/edit?publish=true", albert, json=own
    )
    assert saved.status_code == 200, saved.text
    public = (await fiches.request("GET", f"/api/fiches/providers/{albert.fiche_id}")).json()
    assert public["preferred_name"] == "Bert Segers"
    assert public["official_first_name"] == "Albert"
    assert public["phone_numbers"][0]["number"] == "+32470123456"
    events = await fiches.events(PROVIDERS_TOPIC)
    assert events[-1][0] == "ProviderFicheUpdated"
    assert events[-1][1]["preferred_name"] == "Bert Segers"
    assert events[-1][1]["languages"] == ["nl", "fr"]
    assert "bert@segers.be" not in str(events)


async def test_history_records_who_when_what_and_the_team_restores(
    fiches: FichesUnderTest,
) -> None:
    marc = await fiches.professional("marc", ("physician",))
    team = fiches.team()
    practice = await create(fiches, marc, WARMSTE_TEAM, [])
    vandal = {**WARMSTE_TEAM, "names": [{"name": "Kapot"}], "websites": []}
    await fiches.request("PUT", f"/api/fiches/practices/{practice}/edit", marc, json=vandal)

    history = (
        await fiches.request("GET", f"/api/fiches/practices/{practice}/history", marc)
    ).json()
    assert [(h["version"], h["action"]) for h in history] == [
        (1, "create"),
        (2, "publish"),
        (3, "save"),
    ]
    assert history[2]["user_id"] == marc.user_id
    assert history[2]["changed_fields"] == ["names", "websites"]
    assert history[2]["at"]

    refused = await fiches.request(
        "POST", f"/api/fiches/practices/{practice}/history/1/restore", marc
    )
    assert refused.status_code == 403
    restored = await fiches.request(
        "POST", f"/api/fiches/practices/{practice}/history/1/restore", team
    )
    assert restored.status_code == 200, restored.text
    assert restored.json()["changed_fields"] == ["names", "websites"]
    edit = (await fiches.request("GET", f"/api/fiches/practices/{practice}/edit", team)).json()
    assert edit["draft"]["names"][0]["name"] == "Het Warmste Team"
    history = (
        await fiches.request("GET", f"/api/fiches/practices/{practice}/history", team)
    ).json()
    assert (history[-1]["action"], history[-1]["user_id"]) == ("restore:1", team.user_id)
