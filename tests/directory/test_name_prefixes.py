"""Stored name prefixes (3 to 7 characters): the same hits as the prefix ranges they replace,
rows that follow their terms, and a migration that backfills them and goes back down."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from directory.adapters import standard_queries
from directory.adapters.search_queries import search_statement
from directory.adapters.tables import search_prefixes, search_terms, standard_prefixes
from directory.adapters.tables import standard_terms as standard_terms_table
from directory.domain import ranking
from directory.domain.ranking import SearchFilters
from directory.domain.text import stored_prefixes
from tests.directory.support import Searchable, migrate_to, searchable_directory


@asynccontextmanager
async def named_world(url: str, tmp_path: Path) -> AsyncIterator[Searchable]:
    """A directory holding NAMES and PRACTICES, with their staff linked (no response cache)."""
    async with searchable_directory(url, tmp_path, response_cache_entries=0) as fiches:
        await fiches.apply(
            *(
                fiches.provider_event(fiche_id, first, last, (profession,))
                for fiche_id, first, last, profession in NAMES
            ),
            *(fiches.practice_event(practice_id, name) for practice_id, name, _ in PRACTICES),
        )
        professions = {fiche_id: profession for fiche_id, _, _, profession in NAMES}
        await fiches.apply(
            *(
                fiches.link(practice_id, fiche_id, professions[fiche_id])
                for practice_id, _, staff in PRACTICES
                for fiche_id in staff
            )
        )
        yield fiches


NAMES = [
    ("pv-peeters", "An", "Peeters", "physician"),
    ("pv-peetermans", "Jan", "Peetermans", "nurse"),
    ("pv-pee", "Lies", "Pee", "physician"),
    ("pv-vanpeel", "Tom", "Van Peel", "dentist"),
    ("pv-double", "Peetje", "Peeters-Peetermans", "physician"),
    ("pv-janssens", "Jan", "Janssens", "physician"),
    ("pv-jansen", "Jana", "Jansen", "nurse"),
    ("pv-celine", "Céline", "Pée", "midwife"),
    ("pv-long", "Bartholomeus", "Vanderstraetenbeke", "physician"),
]
PRACTICES = [
    ("pr-peeters", "Praktijk Peeters", ["pv-peeters", "pv-double"]),
    ("pr-jans", "Groepspraktijk Jansberg", ["pv-janssens", "pv-jansen", "pv-peetermans"]),
    ("pr-vander", "Huisartsen Vanderstraeten", ["pv-long", "pv-pee"]),
]
WORDS = [
    "p",
    "pe",
    "pee",
    "peet",
    "peete",
    "peeter",
    "peeters",
    "peeterm",
    "peeterma",
    "peetermans",
    "jan",
    "jans",
    "jansb",
    "van",
    "vand",
    "vanderst",
    "vanderstraetenbeke",
    "cel",
    "celine",
    "praktijk",
    "prak",
    "bar",
    "bartholo",
]
QUESTIONS = [
    *({"q": word} for word in WORDS),
    {"q": "jan pee"},
    {"q": "pee jan"},
    {"q": "van pee"},
    {"q": "peet peeterm"},
    {"q": "pee", "profession": "physician"},
    {"q": "jan", "type": "provider"},
    {"q": "prak", "type": "practice"},
    {"q": "pee", "postcode": "9000"},
]


@pytest.fixture
async def world(database_url_factory: Any, tmp_path: Path) -> AsyncIterator[Searchable]:
    async with named_world(await database_url_factory("directory"), tmp_path) as fiches:
        yield fiches


def _without_stored_prefixes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Name words searched as prefix ranges of the terms, as before the stored prefixes."""
    monkeypatch.setattr(ranking, "prefix_is_stored", lambda word: False)
    monkeypatch.setattr(standard_queries, "prefix_is_stored", lambda word: False)


async def _pages(world: Searchable, path: str, params: dict[str, str], size: str) -> list[Any]:
    """Every page of a question (pages of `size`), as the ids in their order."""
    found = []
    for offset in range(0, 20, 2):
        if path.startswith("/hsds"):
            paging = {"per_page": size, "page": str(offset // 2 + 1)}
        else:
            paging = {"limit": size, "offset": str(offset)}
        response = await world.http.get(path, params={**params, **paging})
        assert response.status_code == 200, response.text
        body = response.json()
        items = body.get("items", body.get("contents"))
        found.append([(item.get("type"), item["id"]) for item in items])
        found.append(body.get("has_more", body.get("total_items")))
    return found


async def test_public_search_finds_the_same_fiches_in_the_same_order_with_stored_prefixes(
    world: Searchable, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = [await _pages(world, "/api/fiches/search", q, "2") for q in QUESTIONS]
    whole = [(await world.ids(**q, limit=50)) for q in QUESTIONS]
    _without_stored_prefixes(monkeypatch)
    ranged = [await _pages(world, "/api/fiches/search", q, "2") for q in QUESTIONS]
    assert stored == ranged
    assert whole == [(await world.ids(**q, limit=50)) for q in QUESTIONS]
    # The fixture does test something: prefixes of every length find fiches.
    assert all(whole[WORDS.index(word)] for word in ("pee", "peet", "peeterm", "vanderst"))
    assert "pv-double" in whole[WORDS.index("peeter")]


async def test_hsds_search_finds_the_same_services_in_the_same_order_with_stored_prefixes(
    world: Searchable, monkeypatch: pytest.MonkeyPatch
) -> None:
    questions = [{"search": word} for word in WORDS] + [{"search": "praktijk pee"}]
    paths = ["/hsds/services", "/hsds/organizations", "/hsds/locations"]
    pairs = list(itertools.product(paths, questions))
    stored = [await _pages(world, path, q, "2") for path, q in pairs]
    _without_stored_prefixes(monkeypatch)
    assert stored == [await _pages(world, path, q, "2") for path, q in pairs]
    assert any(page for pages in stored for page in pages[::2])


async def test_hsds_pages_read_by_their_ids_first_are_the_pages_of_the_joined_statement(
    world: Searchable, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An HSDS list found by terms alone takes its page's ids from the term index, then
    reads their rows, its total beside them in the same statement (kind
    `counted_page_terms`); the same pages as joining first, then limiting."""
    questions: list[dict[str, str]] = [{"search": word} for word in WORDS]
    questions += [{"search": "praktijk pee"}, {"search": "pee", "postcode": "9000"}]
    questions += [{"postcode": "9000"}]
    paths = ["/hsds/services", "/hsds/organizations", "/hsds/locations"]
    pairs = list(itertools.product(paths, questions))
    pairs += [("/hsds/services", {"taxonomy_term_id": "physician", "search": "pee"})]
    statements: list[str] = []
    real_statement = standard_queries.statement

    def noting(shape: Any) -> Any:
        statements.append(shape.kind)
        return real_statement(shape)

    monkeypatch.setattr(standard_queries, "statement", noting)
    by_ids_first = [await _pages(world, path, q, "2") for path, q in pairs]
    assert "counted_page_terms" in statements and "page" not in statements
    monkeypatch.setattr(standard_queries, "_terms_alone", lambda query: False)
    statements.clear()
    assert by_ids_first == [await _pages(world, path, q, "2") for path, q in pairs]
    assert "page" in statements and "counted_page_terms" not in statements
    assert sum(1 for pages in by_ids_first for page in pages[::2] if page) > 20


async def test_fhir_name_search_finds_the_same_resources_with_stored_prefixes(
    world: Searchable, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def ids(type_: str, word: str) -> list[str]:
        response = await world.http.get(f"/fhir/{type_}", params={"name": word, "_count": "50"})
        assert response.status_code == 200, response.text
        return [e["resource"]["id"] for e in response.json().get("entry", [])]

    pairs = list(itertools.product(["Practitioner", "Organization"], WORDS))
    stored = [await ids(type_, word) for type_, word in pairs]
    _without_stored_prefixes(monkeypatch)
    assert stored == [await ids(type_, word) for type_, word in pairs]
    assert stored[WORDS.index("peete")]


def test_a_name_word_of_three_to_seven_characters_starts_from_the_stored_prefixes() -> None:
    def sql(word: str) -> str:
        return str(search_statement(SearchFilters(name_words=(word,)), 0, limit=21, offset=0))

    assert "search_prefixes" in sql("peet")
    assert "search_prefixes" in sql("peeterm")
    assert "search_prefixes" not in sql("pe")
    assert "search_prefixes" not in sql("peeterma")
    assert stored_prefixes("n:peeters") == [f"n:{'peeters'[:n]}" for n in range(3, 8)]
    assert stored_prefixes("n:jan") == ["n:jan"]
    assert stored_prefixes("n:an") == []
    assert stored_prefixes("pc:9000") == []


async def _prefix_rows(engine: AsyncEngine) -> tuple[set[Any], set[Any]]:
    async with engine.connect() as connection:
        search = set(await connection.execute(sa.select(search_prefixes)))
        standard = set(await connection.execute(sa.select(standard_prefixes)))
    return search, standard


async def _expected_rows(engine: AsyncEngine) -> tuple[set[Any], set[Any]]:
    """What the prefix tables must hold: the stored prefixes of every name term."""
    async with engine.connect() as connection:
        terms = list(await connection.execute(sa.select(search_terms)))
        standard = list(await connection.execute(sa.select(standard_terms_table)))
    return (
        {
            (p, t.sort_key, t.kind, t.fiche_id, t.term)
            for t in terms
            for p in stored_prefixes(t.term)
        },
        {(t.standard, t.type, p, t.id, t.term) for t in standard for p in stored_prefixes(t.term)},
    )


async def test_prefix_rows_follow_their_terms_through_renames_and_depublication(
    world: Searchable,
) -> None:
    engine = world.component.runtime.engine
    assert await _prefix_rows(engine) == await _expected_rows(engine)
    await world.apply(world.provider_event("pv-peeters", "An", "Maes", update=True))
    await world.apply(world.provider_gone("pv-peetermans"))
    await world.apply(world.practice_gone("pr-vander"))
    # Its only physician leaves: the practice's HSDS service and service_at_location for
    # physicians are no longer built (retired: an inactive HSDS record keeps no terms).
    await world.apply(world.unlink("pr-jans", "pv-janssens", "physician"))
    search, standard = await _prefix_rows(engine)
    assert (search, standard) == await _expected_rows(engine)
    assert not {row for row in search if row[3] in ("pv-peetermans", "pr-vander")}
    assert "pv-peeters" not in await world.ids(q="peete")
    assert "pv-peeters" in await world.ids(q="mae")
    assert "pv-peetermans" not in await world.ids(q="peeterm")


async def test_the_migration_backfills_the_prefixes_and_goes_back_down(world: Searchable) -> None:
    engine = world.component.runtime.engine
    expected = await _expected_rows(engine)
    assert expected[0] and expected[1]

    await migrate_to(engine, "0003", down=True)
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
    assert "search_prefixes" not in tables and "standard_prefixes" not in tables
    await migrate_to(engine, "heads")
    assert await _prefix_rows(engine) == expected
    assert "pv-peeters" in await world.ids(q="peete")
