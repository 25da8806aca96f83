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
