"""The user guide's stories (DOMAIN.md flows 2, 4 and 5) over fiches' HTTP API.

Marc Creemers (GP) works in his solo practice and in Het Warmste Team; Nele Van
Schelvergem (nurse) works only in Het Warmste Team. Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from contracts.events.fiches import OFFERS_TOPIC, PRACTICES_TOPIC, REQUESTS_TOPIC
from tests.fiches.conftest import FichesUnderTest, User
from tests.support.problems import error_locs

WARMSTE_TEAM: dict[str, Any] = {
    "names": [{"name": "Het Warmste Team", "preferred": True}, {"name": "HWT"}],
    "addresses": [{"street": "Kouter", "number": "12", "postcode": "9000", "municipality": "Gent"}],
    "phone_numbers": [{"number": "09 265 81 11"}],
    "email_addresses": [{"email": "onthaal@warmsteteam.be"}],
    "websites": [{"url": "https://www.warmsteteam.be"}],
    "target_groups": ["gezinnen"],
    "age_categories": ["adult", "senior"],
    "wijken": ["Sluizeken", "Muide"],
    "contact_persons": [{"name": "An Peeters", "role": "onthaal"}],
    "opening_hours": [{"day": "monday", "opens": "08:30", "closes": "18:00"}],
    "extra_offer": ["osteopaat"],
}
SOLO = {"names": [{"name": "Huisartsenpraktijk Creemers"}]}


async def public_blocks(fiches: FichesUnderTest, practice_id: str) -> dict[str, set[str]]:
    response = await fiches.request("GET", f"/api/fiches/practices/{practice_id}")
    assert response.status_code == 200, response.text
    return {
        block["profession"]: {p["professional_id"] for p in block["providers"]}
        for block in response.json()["offer_blocks"]
    }


async def create(
    fiches: FichesUnderTest, who: User, body: dict[str, Any], offers: list[str]
) -> str:
    response = await fiches.request(
        "POST", "/api/fiches/practices?publish=true", who, json={**body, "offers": offers}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["practice_id"])


async def situations(fiches: FichesUnderTest, who: User, *names: str) -> dict[str, str]:
    response = await fiches.request(
        "GET", "/api/fiches/me/map-status", who, params={"practice": list(names)}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    found = {p["name"]: p["situation"] for p in body["practices"]}
    found.update({p["practice_name"]: p["situation"] for p in body["to_create"]})
    return found


async def test_nele_links_to_het_warmste_team_after_approval(fiches: FichesUnderTest) -> None:
    marc = await fiches.professional("marc", ("physician",), first="Marc", last="Creemers")
    nele = await fiches.professional("nele", ("nurse",), first="Nele", last="Van Schelvergem")
    team = await create(fiches, marc, WARMSTE_TEAM, ["physician"])

    # Almost ready: the practice exists, her offer is not linked.
    assert await situations(fiches, nele, "Het Warmste Team") == {
        "Het Warmste Team": "almost_ready"
    }
    asked = await fiches.request(
        "POST",
        f"/api/fiches/practices/{team}/link-requests",
        nele,
        json={"professions": ["nurse"]},
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["request_id"]
    assert "nurse" not in await public_blocks(fiches, team)

    # Marc manages the practice: he sees and approves the request.
    pending = await fiches.request("GET", f"/api/fiches/practices/{team}/requests", marc)
    assert [r["request_id"] for r in pending.json()] == [request_id]
    decided = await fiches.request(
        "POST",
        f"/api/fiches/requests/{request_id}/decision",
        marc,
        json={"decision": "approved", "comment": "welkom Nele"},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"

    assert await public_blocks(fiches, team) == {
        "physician": {marc.professional_id},
        "nurse": {nele.professional_id},
    }
    assert await situations(fiches, nele) == {"Het Warmste Team": "ready"}
    requests = await fiches.events(REQUESTS_TOPIC)
    assert [t for t, _ in requests] == ["RequestSubmitted", "RequestDecided"]
    assert requests[1][1]["requester_user_id"] == nele.user_id
    assert requests[1][1]["decision"] == "approved"
    linked = [p for t, p in await fiches.events(OFFERS_TOPIC) if t == "OfferLinked"]
    assert {(p["professional_id"], p["profession"]) for p in linked} == {
        (marc.professional_id, "physician"),
        (nele.professional_id, "nurse"),
    }
    managers = [p for t, p in await fiches.events() if t == "PracticeManagersChanged"]
    assert managers[-1]["practice_name"] == "Het Warmste Team"
    assert set(managers[-1]["linked_professional_ids"]) == {
        marc.professional_id,
        nele.professional_id,
    }


async def test_marc_in_two_practices_stops_at_one_then_loses_his_visa(
    fiches: FichesUnderTest,
) -> None:
    marc = await fiches.professional("marc", ("physician",), first="Marc", last="Creemers")
    nele = await fiches.professional("nele", ("nurse",), first="Nele", last="Van Schelvergem")
    # Nele created Het Warmste Team; Marc asks to join, she approves.
    team = await create(fiches, nele, WARMSTE_TEAM, ["nurse"])
    assert await situations(fiches, marc, "Het Warmste Team", "Huisartsenpraktijk Creemers") == {
        "Het Warmste Team": "almost_ready",
        "Huisartsenpraktijk Creemers": "create",
    }
    asked = await fiches.request(
        "POST",
        f"/api/fiches/practices/{team}/link-requests",
        marc,
        json={"professions": ["physician"]},
    )
    await fiches.request(
        "POST",
        f"/api/fiches/requests/{asked.json()['request_id']}/decision",
        nele,
        json={"decision": "approved"},
    )
    # His solo practice: created, his offer ticked, published.
    solo = await create(fiches, marc, SOLO, ["physician"])
    assert await situations(fiches, marc) == {
        "Het Warmste Team": "ready",
        "Huisartsenpraktijk Creemers": "ready",
    }
    for practice in (team, solo):
        assert marc.professional_id in (await public_blocks(fiches, practice))["physician"]

    # Flow 4: he stops at Het Warmste Team (his edit version, confirm, save and publish).
    unconfirmed = await fiches.request(
        "DELETE",
        f"/api/fiches/providers/{marc.fiche_id}/offers/{team}/physician?publish=true",
        marc,
    )
    assert unconfirmed.status_code == 422
    assert "confirm" in unconfirmed.text
    assert "physician" in await public_blocks(fiches, team)
    stopped = await fiches.request(
        "DELETE",
        f"/api/fiches/providers/{marc.fiche_id}/offers/{team}/physician",
        marc,
        params={"confirm": "true", "publish": "true"},
    )
    assert stopped.status_code == 204, stopped.text
    assert await public_blocks(fiches, team) == {"nurse": {nele.professional_id}}
    unlinked = [p for t, p in await fiches.events(OFFERS_TOPIC) if t == "OfferUnlinked"]
    assert [(p["practice_id"], p["reason"]) for p in unlinked] == [(team, "stopped")]

    # He is back at Het Warmste Team by a new approved request, then his visa ends.
    again = await fiches.request(
        "POST",
        f"/api/fiches/practices/{team}/link-requests",
        marc,
        json={"professions": ["physician"]},
    )
    await fiches.request(
        "POST",
        f"/api/fiches/requests/{again.json()['request_id']}/decision",
        nele,
        json={"decision": "approved"},
    )
    assert "physician" in await public_blocks(fiches, team)
    practice_events_before = await fiches.events(PRACTICES_TOPIC)

    await fiches.visa_ends(marc)
    # Gone from both offer blocks; both practice fiches stay published.
    assert await public_blocks(fiches, team) == {"nurse": {nele.professional_id}}
    assert await public_blocks(fiches, solo) == {}
    assert await fiches.events(PRACTICES_TOPIC) == practice_events_before
    status = (await fiches.request("GET", "/api/fiches/me/map-status", marc)).json()
    assert status["provider_fiche"]["published"] is False
    assert status["provider_fiche"]["depublication_reason"] == "visa_inactive"

    # Reactivation does not republish by itself; Marc publishes, and is back in both.
    await fiches.reactivated(marc)
    assert await public_blocks(fiches, solo) == {}
    published = await fiches.request("POST", f"/api/fiches/providers/{marc.fiche_id}/publish", marc)
    assert published.status_code == 200, published.text
    assert marc.professional_id in (await public_blocks(fiches, solo))["physician"]
    assert marc.professional_id in (await public_blocks(fiches, team))["physician"]


async def test_a_professional_ticks_only_their_own_offer(fiches: FichesUnderTest) -> None:
    marc = await fiches.professional("marc", ("physician",))
    response = await fiches.request(
        "POST", "/api/fiches/practices", marc, json={**SOLO, "offers": ["physician", "nurse"]}
    )
    assert response.status_code == 422
    assert error_locs(response)[0] == ["body", "offers"]
    citizen = fiches.citizen("secretaris")
    response = await fiches.request(
        "POST", "/api/fiches/practices", citizen, json={**SOLO, "offers": ["physician"]}
    )
    assert response.status_code == 403
    # Without offers a citizen (a practice secretary) may create one, and manages it.
    response = await fiches.request("POST", "/api/fiches/practices", citizen, json=SOLO)
    assert response.status_code == 201
    practice_id = response.json()["practice_id"]
    managers = await fiches.request("GET", f"/api/fiches/practices/{practice_id}/managers", citizen)
    assert managers.json() == {
        "manager_user_ids": [citizen.user_id],
        "managers": [{"user_id": citizen.user_id, "name": "Secretaris"}],
    }
