"""The name a provider goes by: Albert Segers, known as Bert, shows as "Bert Segers"."""

from __future__ import annotations

from fiches.domain.provider_fiche import display_name
from tests.fiches.conftest import FichesUnderTest
from tests.fiches.test_guide_scenarios import WARMSTE_TEAM, create


def test_a_preferred_first_name_keeps_the_surname() -> None:
    assert display_name("Bert", "Albert", "Segers") == "Bert Segers"
    assert display_name("Bert Segers", "Albert", "Segers") == "Bert Segers"
    assert display_name("Ann Peeters-Janssens", "Ann", "Janssens") == "Ann Peeters-Janssens"
    assert display_name(None, "Albert", "Segers") == "Albert Segers"
    assert display_name("  ", "Albert", "Segers") == "Albert Segers"


async def test_the_practice_fiche_shows_bert_segers(fiches: FichesUnderTest) -> None:
    albert = await fiches.professional("albert", ("physician",), first="Albert", last="Segers")
    edited = await fiches.request(
        "PUT",
        f"/api/fiches/providers/{albert.fiche_id}/edit?publish=true",
        albert,
        json={"preferred_name": "Bert"},
    )
    assert edited.status_code == 200, edited.text
    team = await create(fiches, albert, WARMSTE_TEAM, ["physician"])

    practice = (await fiches.request("GET", f"/api/fiches/practices/{team}", albert)).json()
    names = [p["name"] for block in practice["offer_blocks"] for p in block["providers"]]
    assert names == ["Bert Segers"]
