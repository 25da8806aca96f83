"""Public search: exactly the published fiches that match, nothing private, stable pages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from servicekit.database import is_sqlite
from tests.directory.support import Searchable, searchable_directory
from tests.support.problems import error_locs

MARC, NELE, AN, JAN = "prov-marc", "prov-nele", "prov-an", "prov-jan"
WARM, SOLO, KLIM = "prac-warm", "prac-solo", "prac-klim"


@pytest.fixture
async def world(database_url_factory: Any, tmp_path: Path) -> AsyncIterator[Searchable]:
    """Marc (GP, nl/fr) at his solo practice and Het Warmste Team; Nele (nurse, nl) at
    Het Warmste Team; Ån (physiotherapist, en) at KLIM in Sint-Niklaas; Jan published but
    linked nowhere."""
    async with searchable_directory(await database_url_factory("directory"), tmp_path) as fiches:
        await fiches.apply(
            fiches.provider_event(MARC, "Marc", "Creemers", languages=("nl", "fr")),
            fiches.provider_event(NELE, "Nele", "Van Schelvergem", ("nurse",)),
            fiches.provider_event(AN, "Ån", "Peeters", ("physiotherapist",), languages=("en",)),
            fiches.provider_event(JAN, "Jan", "Janssens", preferred_name="Jean"),
            fiches.practice_event(WARM, "Het Warmste Team", target_groups=("Kinderen",)),
            fiches.practice_event(
                SOLO, "Praktijk Creemers", postcode="9050", municipality="Gentbrugge"
            ),
        )
        # Links arrive in a later batch, and one before its practice: order must not matter.
        await fiches.apply(
            fiches.link(WARM, MARC),
            fiches.link(WARM, NELE, "nurse"),
            fiches.link(SOLO, MARC),
            fiches.link(KLIM, AN, "physiotherapist"),
        )
        await fiches.apply(
            fiches.practice_event(
                KLIM,
                "KLIM",
                postcode="9100",
                municipality="Sint-Niklaas",
                target_groups=("Ouderen",),
                extra_offer=("Osteopaat",),
            )
        )
        yield fiches


async def test_each_filter_returns_exactly_the_matching_published_fiches(
    world: Searchable,
) -> None:
    ids = world.ids
    assert await ids(q="creem") == [MARC, SOLO]  # Creemers, then Praktijk Creemers
    assert await ids(q="marc creem") == [MARC]
    assert await ids(q="an", type="provider") == [AN]  # accent-free, word prefix
    assert await ids(q="jean") == [JAN]  # the name they go by
    assert await ids(q="warmste") == [WARM]
    assert await ids(profession="nurse") == [WARM, NELE]
    assert await ids(profession="physician", type="practice") == [WARM, SOLO]
    assert await ids(profession="osteopaat") == [KLIM]
    assert await ids(postcode="9000") == [MARC, WARM, NELE]
    assert await ids(postcode="9050", type="provider") == [MARC]
    assert await ids(municipality="sint niklaas") == [KLIM, AN]
    assert await ids(municipality="Sint-Niklaas", type="practice") == [KLIM]
    assert await ids(target_group="kinderen") == [MARC, WARM, NELE]
    assert await ids(target_group="Ouderen", profession="physiotherapist") == [KLIM, AN]
    assert await ids(language="FR") == [MARC, WARM, SOLO]
    assert await ids(language="en", type="practice") == [KLIM]
    assert await ids(profession="physician", postcode="9000", language="nl") == [MARC, WARM]
    assert await ids(q="zzz") == []
    everything = await ids(limit=50)
    assert set(everything) == {MARC, NELE, AN, JAN, WARM, SOLO, KLIM}


async def test_hits_show_offer_blocks_and_practices(world: Searchable) -> None:
    hits = {h["id"]: h for h in (await world.search(limit=50)).json()["items"]}
    warm = hits[WARM]
    assert warm["type"] == "practice"
    assert warm["offer_blocks"] == [
        {"profession": "nurse", "providers": [{"fiche_id": NELE, "name": "Nele Van Schelvergem"}]},
        {"profession": "physician", "providers": [{"fiche_id": MARC, "name": "Marc Creemers"}]},
    ]
    assert [p["practice_id"] for p in hits[MARC]["practices"]] == [WARM, SOLO]
    assert hits[MARC]["practices"][1]["postcode"] == "9050"
    # A preferred first name keeps the surname (Jan Janssens goes by Jean).
    assert hits[JAN]["name"] == "Jean Janssens" and hits[JAN]["practices"] == []


async def test_an_unpublished_edit_never_appears(world: Searchable) -> None:
    """Search is fed by published versions only: an edit saved without publishing sends
    no event, so the hit keeps the published name until a new version is published."""
    await world.component.runtime.engine.dispose()  # nothing cached between requests
    assert await world.ids(q="warmste") == [WARM]
    assert await world.ids(q="koudste") == []
    await world.apply(world.practice_event(WARM, "Het Koudste Team", update=True))
    assert await world.ids(q="koudste") == [WARM]
    assert await world.ids(q="warmste") == []
    # An older version arriving late does not bring the old name back.
    stale = world.practice_event(WARM, "Het Warmste Team", update=True)
    world.revisions[WARM] = 0
    await world.apply(stale.model_copy(update={"revision": 1}))
    assert await world.ids(q="koudste") == [WARM]


async def test_a_depublished_provider_disappears_from_search_and_offer_blocks(
    world: Searchable,
) -> None:
    await world.apply(world.provider_gone(MARC))
    assert await world.ids(q="marc") == []
    assert await world.ids(profession="physician", type="provider") == [JAN]
    hits = {h["id"]: h for h in (await world.search(limit=50)).json()["items"]}
    assert MARC not in hits
    assert [b["profession"] for b in hits[WARM]["offer_blocks"]] == ["nurse"]
    assert hits[SOLO]["offer_blocks"] == []
    # The practices stay, but are no longer found through Marc.
    assert await world.ids(profession="physician", type="practice") == []
    assert await world.ids(language="fr") == []
    assert await world.ids(q="creemers") == [SOLO]
    # Republished (a new revision): back in search and in both offer blocks.
    await world.apply(world.provider_event(MARC, "Marc", "Creemers", languages=("nl", "fr")))
    assert await world.ids(profession="physician", type="practice") == [WARM, SOLO]


async def test_unlinked_offers_and_depublished_practices_leave_search(world: Searchable) -> None:
    await world.apply(world.unlink(WARM, NELE, "nurse"))
    assert await world.ids(profession="nurse", type="practice") == []
    assert await world.ids(postcode="9000", type="provider") == [MARC]
    await world.apply(world.practice_gone(KLIM))
    assert await world.ids(q="klim") == []
    assert await world.ids(municipality="sint niklaas") == []
    assert await world.ids(q="peeters") == [AN]  # the provider stays


async def test_pages_are_stable_and_complete(world: Searchable) -> None:
    everything = await world.ids(limit=50)
    pages: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = (await world.search(limit=2, offset=offset)).json()
        pages += [hit["id"] for hit in page["items"]]
        assert page["has_more"] == (page["next_offset"] is not None)
        offset = page["next_offset"]
    assert pages == everything
    assert len(set(pages)) == 7
    assert await world.ids(limit=3, offset=2) == everything[2:5]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"postcode": "900"}, "postcode"),
        ({"postcode": "0999"}, "postcode"),
        ({"language": "dutch"}, "language"),
        ({"type": "agency"}, "type"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1000"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "20000"}, "offset"),
        ({"q": "!!"}, "q"),
        ({"q": "x" * 101}, "q"),
        ({"q": "a b c d e f g"}, "q"),
        ({"municipality": "--"}, "municipality"),
        ({"profession": " "}, "profession"),
        ({"limit": "ten"}, "limit"),
    ],
)
async def test_bad_parameters_are_refused_naming_the_parameter(
    world: Searchable, params: dict[str, str], param: str
) -> None:
    response = await world.search(**params)
    assert response.status_code == 422, response.text
    assert error_locs(response) == [["query", param]]


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"postcode": "12"}, "postcode must be a Belgian postcode: 4 digits, 1000 to 9999 (9000)"),
        ({"language": "dutch"}, "language must be a language code of two letters (nl, fr, en)"),
    ],
)
async def test_a_value_of_the_wrong_form_is_refused_saying_what_the_right_form_is(
    world: Searchable, params: dict[str, str], detail: str
) -> None:
    response = await world.search(**params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == detail


async def test_no_personal_identifiers_in_any_hit(world: Searchable) -> None:
    body = (await world.search(limit=50)).text
    for hit in (await world.search(limit=50)).json()["items"]:
        assert "professional_id" not in hit
        assert "riziv_number" not in str(hit)
        assert "email_addresses" not in hit
    assert "@" not in body
    assert "prof-" not in body  # the registry's person ids
    assert not re.search(r"\d{2}\.?\d{2}\.?\d{2}-?\d{3}\.?\d{2}", body)  # NRN shapes
    assert "Bearer" not in body


async def test_every_query_plan_gives_the_same_pages(
    world: Searchable, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where a search starts (the rarest filter, chosen from match counts) changes its
    cost, never its result."""
    import json

    from directory.adapters.search_queries import run_search
    from directory.domain import ranking
    from directory.domain.ranking import SearchFilters

    searches: list[tuple[SearchFilters, int, int]] = [
        (SearchFilters(name_words=("creem",)), 20, 0),
        (SearchFilters(name_words=("marc", "creem")), 20, 0),
        (SearchFilters(name_words=("c",)), 1, 1),
        (SearchFilters(name_words=("creem",), postcode="9000"), 20, 0),
        (SearchFilters(name_words=("p",), language="nl"), 20, 0),
        (SearchFilters(profession="physician", postcode="9000", language="nl"), 20, 0),
        (
            SearchFilters(target_group="ouderen", profession="physiotherapist", kind="provider"),
            20,
            0,
        ),
        (SearchFilters(), 3, 2),
    ]

    async def pages() -> list[list[str]]:
        found = []
        async with world.component.runtime.engine.connect() as connection:
            for filters, limit, offset in searches:
                documents = await run_search(connection, filters, limit=limit, offset=offset)
                found.append([json.loads(d)["id"] for d in documents])
        return found

    expected = await pages()
    assert expected[0] == [MARC, SOLO] and expected[3] == [MARC]
    assert expected[1] == await world.ids(q="marc creem")
    assert expected[5] == [MARC, WARM]
    # A cap of 1 makes every filter look equally common: the searches start elsewhere.
    monkeypatch.setattr(ranking, "COUNT_CAP", 1)
    assert await pages() == expected


async def test_search_answers_right_after_the_database_dropped_every_connection(
    world: Searchable,
) -> None:
    """After a database restart the pool's connections are dead: the pre-ping replaces
    them, so the next search answers instead of failing."""
    if is_sqlite(world.component.runtime.database_url):
        pytest.skip("SQLite has no server connections to drop")
    assert await world.ids(q="marc") == [MARC]  # the pool now holds a connection
    database = make_url(world.component.runtime.database_url).database
    # From a connection of its own: the pool's connection is the one to drop.
    outsider = create_async_engine(world.component.runtime.database_url, poolclass=NullPool)
    async with outsider.connect() as admin:
        dropped = await admin.scalar(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :database AND pid <> pg_backend_pid()"
            ),
            {"database": database},
        )
    await outsider.dispose()
    assert dropped, "the pooled connection was dropped"

    answered = await world.search(q="marc")

    assert answered.status_code == 200, answered.text
    assert [hit["id"] for hit in answered.json()["items"]] == [MARC]


async def test_general_practitioners_are_physicians_with_a_gp_qualification(
    database_url_factory: Any, tmp_path: Path
) -> None:
    """`qualification=general_practitioner` finds a GP (accredited or in training) and the
    practices where one works as a physician; a specialist is a physician but no GP."""
    async with searchable_directory(await database_url_factory("directory"), tmp_path) as fiches:
        gp, trainee, specialist, kine = "prov-gp", "prov-trainee", "prov-spec", "prov-kine"
        await fiches.apply(
            fiches.provider_event(gp, "Griet", "Huys", qualification_code="004"),
            fiches.provider_event(trainee, "Tom", "Opleiding", qualification_code="005"),
            fiches.provider_event(specialist, "Sara", "Cardio", qualification_code="580"),
            # A GP code on another profession does not make a GP.
            fiches.provider_event(
                kine, "Kim", "Kine", ("physiotherapist",), qualification_code="004"
            ),
            fiches.practice_event("prac-gp", "Huisartsenpraktijk"),
            fiches.practice_event("prac-spec", "Hartcentrum"),
            fiches.practice_event("prac-kine", "Kinepraktijk"),
            fiches.link("prac-gp", gp),
            fiches.link("prac-spec", specialist),
            fiches.link("prac-kine", kine, "physiotherapist"),
        )
        ids = fiches.ids
        assert await ids(profession="physician", qualification="general_practitioner") == [
            "prac-gp",  # Huisartsenpraktijk, then Huys and Opleiding
            gp,
            trainee,
        ]
        assert await ids(qualification="general_practitioner", type="provider") == [gp, trainee]
        near = await ids(qualification="general_practitioner", near="9000")
        assert sorted(near) == sorted(["prac-gp", gp])  # the trainee works nowhere yet
        # Every physician is still found by the profession alone.
        assert set(await ids(profession="physician")) == {
            gp,
            trainee,
            specialist,
            "prac-gp",
            "prac-spec",
        }
        assert await ids(profession="physiotherapist") == [kine, "prac-kine"]
        refused = await fiches.search(qualification="specialist")
        assert refused.status_code == 422, refused.text
        assert error_locs(refused) == [["query", "qualification"]]
        assert "general_practitioner" in refused.text
