"""'Am I on the map?' names the step that fits the person: never a request they already
made, and never a request to a manager who can link directly."""

from __future__ import annotations

from typing import Any

from tests.fiches.conftest import FichesUnderTest, User
from tests.fiches.test_guide_scenarios import WARMSTE_TEAM, create


async def _practice_status(fiches: FichesUnderTest, who: User, practice_id: str) -> dict[str, Any]:
    response = await fiches.request("GET", "/api/fiches/me/map-status", who)
    assert response.status_code == 200, response.text
    (practice,) = [p for p in response.json()["practices"] if p["practice_id"] == practice_id]
    return dict(practice)


async def test_with_an_open_link_request_the_next_step_is_to_wait_not_to_ask_again(
    fiches: FichesUnderTest,
) -> None:
    marc = await fiches.professional("marc", ("physician",), first="Marc", last="Creemers")
    nele = await fiches.professional("nele", ("nurse",), first="Nele", last="Van Schelvergem")
    team = await create(fiches, marc, WARMSTE_TEAM, ["physician"])
    asked = await fiches.request(
        "POST", f"/api/fiches/practices/{team}/link-requests", nele, json={"professions": ["nurse"]}
    )
    assert asked.status_code == 201, asked.text

    status = await _practice_status(fiches, nele, team)
    assert status["situation"] == "almost_ready" and status["link_request_open"] is True
    assert "link-requests" not in status["next_step"]
    assert "waiting" in status["next_step"]


async def test_a_manager_whose_offer_is_not_linked_is_told_to_link_it_directly(
    fiches: FichesUnderTest,
) -> None:
    marc = await fiches.professional("marc", ("physician",), first="Marc", last="Creemers")
    team = await create(fiches, marc, WARMSTE_TEAM, [])  # he manages it, offer not ticked

    status = await _practice_status(fiches, marc, team)
    assert status["situation"] == "almost_ready"
    assert "link-requests" not in status["next_step"]
    assert status["next_step"].endswith(f"POST /api/fiches/practices/{team}/offers")

    # Ticked in the edit version only: the step is to publish.
    ticked = await fiches.request(
        "POST", f"/api/fiches/practices/{team}/offers", marc, json={"professions": ["physician"]}
    )
    assert ticked.status_code < 300, ticked.text
    status = await _practice_status(fiches, marc, team)
    assert status["next_step"].endswith(f"POST /api/fiches/practices/{team}/publish")
