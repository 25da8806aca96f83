"""People see names where they need them: the team's queue and a practice's requests
name who asked and who decided (from identity's profiles), never an e-mail address."""

from __future__ import annotations

from tests.fiches.conftest import FichesUnderTest
from tests.fiches.test_guide_scenarios import WARMSTE_TEAM, create


async def test_the_work_queue_names_requesters_and_deciders(fiches: FichesUnderTest) -> None:
    marc = await fiches.professional("marc", ("physician",), first="Marc", last="Creemers")
    nele = await fiches.professional("nele", ("nurse",), first="Nele", last="Van Schelvergem")
    team = fiches.team("lotte")
    practice = await create(fiches, marc, WARMSTE_TEAM, ["physician"])
    await fiches.announce(team, display_name="Lotte Team")

    asked = await fiches.request(
        "POST",
        f"/api/fiches/practices/{practice}/link-requests",
        nele,
        json={"professions": ["nurse"]},
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["request_id"]

    queue = await fiches.request("GET", "/api/fiches/team/requests", team)
    (item,) = queue.json()["items"]
    assert item["requester_user_id"] == nele.user_id
    assert item["requester_name"] == "Nele Van Schelvergem"
    assert item["decided_by_name"] is None
    on_practice = await fiches.request("GET", f"/api/fiches/practices/{practice}/requests", marc)
    assert on_practice.json()[0]["requester_name"] == "Nele Van Schelvergem"

    decided = await fiches.request(
        "POST",
        f"/api/fiches/requests/{request_id}/decision",
        team,
        json={"decision": "approved"},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["decided_by_name"] == "Lotte Team"
    everything = await fiches.request(
        "GET", "/api/fiches/team/requests", team, params={"status": "all"}
    )
    (item,) = everything.json()["items"]
    assert (item["requester_name"], item["decided_by_name"]) == (
        "Nele Van Schelvergem",
        "Lotte Team",
    )
    mine = await fiches.request("GET", "/api/fiches/me/requests", nele)
    assert mine.json()[0]["decided_by_name"] == "Lotte Team"
    for answer in (queue, on_practice, decided, everything, mine):
        assert "example.be" not in answer.text


async def test_the_edit_view_names_the_managers(fiches: FichesUnderTest) -> None:
    marc = await fiches.professional("marc", ("physician",), first="Marc", last="Creemers")
    practice = await create(fiches, marc, WARMSTE_TEAM, ["physician"])
    edit = await fiches.request("GET", f"/api/fiches/practices/{practice}/edit", marc)
    assert edit.json()["managers"] == [marc.user_id]
    assert edit.json()["manager_names"] == {marc.user_id: "Marc Creemers"}
