"""Which requests may wait side by side, and which one at a time per person and fiche."""

from __future__ import annotations

from tests.fiches.conftest import FichesUnderTest
from tests.fiches.test_guide_scenarios import WARMSTE_TEAM, create


async def test_proposals_wait_side_by_side_rights_requests_one_at_a_time(
    fiches: FichesUnderTest,
) -> None:
    marc = await fiches.professional("marc", ("physician",))
    visitor = fiches.citizen("bezoeker")
    practice = await create(fiches, marc, WARMSTE_TEAM, ["physician"])
    url = f"/api/fiches/practices/{practice}"

    for wijk in ("Brugse Poort", "Dampoort"):
        proposed = await fiches.request(
            "POST", f"{url}/proposals", visitor, json={"changes": {"wijken": [wijk]}}
        )
        assert proposed.status_code == 201, proposed.text
    first = await fiches.request("POST", f"{url}/rights-requests", visitor, json={})
    again = await fiches.request("POST", f"{url}/rights-requests", visitor, json={})

    assert first.status_code == 201, first.text
    assert again.status_code == 409, again.text


async def test_a_provider_reports_several_source_errors(fiches: FichesUnderTest) -> None:
    marc = await fiches.professional("marc", ("physician",))
    url = f"/api/fiches/providers/{marc.fiche_id}/source-errors"

    for description in ("Mijn voornaam is fout gespeld", "Mijn visum is actief"):
        reported = await fiches.request("POST", url, marc, json={"description": description})
        assert reported.status_code == 201, reported.text


async def test_deciders_see_what_a_proposal_would_replace_and_the_requester_does_not(
    fiches: FichesUnderTest,
) -> None:
    marc = await fiches.professional("marc", ("physician",))
    visitor = fiches.citizen("bezoeker")
    practice = await create(fiches, marc, WARMSTE_TEAM, ["physician"])
    url = f"/api/fiches/practices/{practice}"
    proposed = await fiches.request(
        "POST",
        f"{url}/proposals",
        visitor,
        json={"changes": {"wijken": ["Dampoort"], "extra_offer": []}},
    )
    assert proposed.status_code == 201, proposed.text

    for_managers = await fiches.request("GET", f"{url}/requests", marc)
    for_team = await fiches.request(
        "GET", "/api/fiches/team/requests", fiches.team(), params={"kind": "proposal"}
    )
    for_requester = await fiches.request("GET", "/api/fiches/me/requests", visitor)

    assert for_managers.status_code == 200, for_managers.text
    assert for_team.status_code == 200, for_team.text
    now = {"wijken": ["Sluizeken", "Muide"], "extra_offer": ["osteopaat"]}
    assert [r["current"] for r in for_managers.json()] == [now]
    assert [r["current"] for r in for_team.json()["items"]] == [now]
    assert "current" not in for_requester.json()[0]

    decided = await fiches.request(
        "POST",
        f"/api/fiches/requests/{proposed.json()['request_id']}/decision",
        marc,
        json={"decision": "approved"},
    )
    assert decided.status_code == 200, decided.text
    queue = await fiches.request(
        "GET", "/api/fiches/team/requests", fiches.team(), params={"status": "all"}
    )
    assert "current" not in queue.json()["items"][0], "a decided proposal has no 'now' left"
