"""The public read of a practice fiche: its own two reads, the same answer as the aggregate
gives (offers, managers, a depublished provider, a link not yet published)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from fiches.adapters.practice_repository import PracticeFicheRepository
from fiches.adapters.tables import provider_fiches
from fiches.domain.practice_fiche import preferred_name
from fiches.domain.provider_fiche import display_name
from tests.fiches.conftest import FichesUnderTest
from tests.fiches.test_guide_scenarios import WARMSTE_TEAM, create


async def _through_the_aggregate(fiches: FichesUnderTest, practice_id: str) -> dict[str, Any]:
    """The answer as it was built before the public read had a query of its own: the whole
    PracticeFiche loaded, its `public_offer_blocks`, the providers in name order."""
    async with fiches.component.runtime.sessions() as session:
        fiche = await PracticeFicheRepository(session).get(practice_id, lock=False)
        assert fiche is not None and fiche.published and fiche.published_data is not None
        blocks = fiche.public_offer_blocks()
        shown = sorted({fiche_id for ids in blocks.values() for fiche_id in ids})
        providers = await session.execute(
            sa.select(provider_fiches)
            .where(provider_fiches.c.fiche_id.in_(shown))
            .order_by(provider_fiches.c.official_last_name, provider_fiches.c.official_first_name)
        )
        rank = {row.fiche_id: (index, row) for index, row in enumerate(providers)}
    data = dict(fiche.published_data)
    return {
        "practice_id": practice_id,
        "name": preferred_name(data),
        "revision": fiche.revision,
        "data": data,
        "offer_blocks": [
            {
                "profession": profession,
                "providers": [
                    _provider(rank[fiche_id][1])
                    for fiche_id in sorted(ids, key=lambda i: rank[i][0])
                ],
            }
            for profession, ids in blocks.items()
        ],
    }


def _provider(row: Any) -> dict[str, Any]:
    own = row.own_published or {}
    return {
        "provider_fiche_id": row.fiche_id,
        "professional_id": row.professional_id,
        "name": display_name(
            own.get("preferred_name"), row.official_first_name, row.official_last_name
        ),
    }


@contextmanager
def _statements(fiches: FichesUnderTest) -> Iterator[list[str]]:
    """The SQL statements the service runs meanwhile."""
    engine = fiches.component.runtime.engine.sync_engine
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


async def test_the_public_read_answers_as_the_aggregate_in_two_reads(
    fiches: FichesUnderTest,
) -> None:
    marc = await fiches.professional("marc", ("physician",), first="Marc", last="Creemers")
    nele = await fiches.professional("nele", ("nurse",), first="Nele", last="Van Schelvergem")
    an = await fiches.professional("an", ("nurse",), first="An", last="Aerts")
    bert = await fiches.professional("bert", ("physician",), first="Albert", last="Segers")
    jan = await fiches.professional("jan", ("physiotherapist",), first="Jan", last="Peeters")
    named = await fiches.request(
        "PUT",
        f"/api/fiches/providers/{bert.fiche_id}/edit?publish=true",
        bert,
        json={"preferred_name": "Bert"},
    )
    assert named.status_code == 200, named.text
    practice_id = await create(fiches, marc, WARMSTE_TEAM, ["physician"])
    url = f"/api/fiches/practices/{practice_id}"
    for manager in (nele, an, bert, jan):
        granted = await fiches.request(
            "POST", f"{url}/managers", marc, json={"email": manager.email}
        )
        assert granted.status_code == 200, granted.text
    for who, profession, publish in (
        (nele, "nurse", "true"),
        (an, "nurse", "true"),
        (bert, "physician", "true"),
        (jan, "physiotherapist", "false"),  # in the edit version only
    ):
        linked = await fiches.request(
            "POST", f"{url}/offers?publish={publish}", who, json={"professions": [profession]}
        )
        assert linked.status_code == 200, linked.text
    await fiches.visa_ends(marc)  # his provider fiche is depublished, the practice stays

    expected = await _through_the_aggregate(fiches, practice_id)
    with _statements(fiches) as statements:
        response = await fiches.request("GET", url)
    assert response.status_code == 200, response.text
    assert response.json() == expected
    assert [
        (block["profession"], [p["name"] for p in block["providers"]])
        for block in expected["offer_blocks"]
    ] == [("nurse", ["An Aerts", "Nele Van Schelvergem"]), ("physician", ["Bert Segers"])]
    assert len(statements) == 2, statements


async def test_an_unpublished_or_unknown_practice_is_not_found(fiches: FichesUnderTest) -> None:
    marc = await fiches.professional("marc", ("physician",), first="Marc", last="Creemers")
    draft = await fiches.request(
        "POST", "/api/fiches/practices?publish=false", marc, json=WARMSTE_TEAM
    )
    assert draft.status_code == 201, draft.text
    for practice_id in (draft.json()["practice_id"], "no-such-practice"):
        response = await fiches.request("GET", f"/api/fiches/practices/{practice_id}")
        assert response.status_code == 404, response.text
