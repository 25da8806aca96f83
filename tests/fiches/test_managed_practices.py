"""GET /api/fiches/me/managed-practices: what a user manages, for the portal's "Mijn fiches"
(practice staff log in as citizens and have no map status of their own)."""

from __future__ import annotations

from tests.fiches.conftest import FichesUnderTest
from tests.fiches.test_guide_scenarios import SOLO, WARMSTE_TEAM, create


async def test_a_secretary_sees_the_practices_she_manages_and_nothing_else(
    fiches: FichesUnderTest,
) -> None:
    marc = await fiches.professional("marc", ("physician",), first="Marc", last="Creemers")
    team = await create(fiches, marc, WARMSTE_TEAM, ["physician"])
    solo = await create(fiches, marc, SOLO, ["physician"])
    secretary = fiches.citizen("secretaris")
    other = fiches.citizen("buur")

    empty = await fiches.request("GET", "/api/fiches/me/managed-practices", secretary)
    assert empty.status_code == 200 and empty.json() == {"practices": []}

    granted = await fiches.request(
        "POST",
        f"/api/fiches/practices/{team}/managers",
        marc,
        json={"email": secretary.email},
    )
    assert granted.status_code == 200, granted.text
    saved = await fiches.request(
        "PUT",
        f"/api/fiches/practices/{team}/edit",
        secretary,
        json={**WARMSTE_TEAM, "wijken": ["Brugse Poort"]},
    )
    assert saved.status_code == 200, saved.text

    (practice,) = (
        await fiches.request("GET", "/api/fiches/me/managed-practices", secretary)
    ).json()["practices"]
    assert practice["practice_id"] == team
    assert practice["name"] == "Het Warmste Team"
    assert practice["published"] is True
    assert practice["unpublished_changes"] is True, "her saved edit is not published yet"

    mine = (await fiches.request("GET", "/api/fiches/me/managed-practices", marc)).json()
    assert {p["practice_id"] for p in mine["practices"]} == {team, solo}
    assert all(
        p["unpublished_changes"] is False for p in mine["practices"] if p["practice_id"] == solo
    )
    assert (await fiches.request("GET", "/api/fiches/me/managed-practices", other)).json() == {
        "practices": []
    }
    assert (await fiches.request("GET", "/api/fiches/me/managed-practices")).status_code == 401


async def test_each_managed_practice_says_how_many_requests_wait_for_its_managers(
    fiches: FichesUnderTest,
) -> None:
    marc = await fiches.professional("marc", ("physician",), first="Marc", last="Creemers")
    team = await create(fiches, marc, WARMSTE_TEAM, ["physician"])
    solo = await create(fiches, marc, SOLO, ["physician"])
    neighbour = fiches.citizen("buur")
    for change in ({"wijken": ["Brugse Poort"]}, {"wijken": ["Muide"]}):
        proposed = await fiches.request(
            "POST", f"/api/fiches/practices/{team}/proposals", neighbour, json={"changes": change}
        )
        assert proposed.status_code == 201, proposed.text
    # A removal is the team's to decide: not the managers'.
    removal = await fiches.request(
        "POST",
        "/api/fiches/removal-requests",
        neighbour,
        json={"fiche_type": "practice", "fiche_id": solo, "reason": "gestopt"},
    )
    assert removal.status_code == 201, removal.text

    mine = (await fiches.request("GET", "/api/fiches/me/managed-practices", marc)).json()
    waiting = {p["practice_id"]: p["open_requests"] for p in mine["practices"]}
    assert waiting == {team: 2, solo: 0}


async def test_the_edit_version_names_the_provider_of_each_offer(fiches: FichesUnderTest) -> None:
    marc = await fiches.professional("marc", ("physician",), first="Marc", last="Creemers")
    team = await create(fiches, marc, WARMSTE_TEAM, ["physician"])
    edit = await fiches.request("GET", f"/api/fiches/practices/{team}/edit", marc)
    assert edit.status_code == 200, edit.text
    (offer,) = edit.json()["offers"]
    assert (offer["profession"], offer["provider_name"]) == ("physician", "Marc Creemers")
