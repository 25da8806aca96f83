"""A FHIR or HSDS resource's row lists its terms (standard_resources.terms): the term rows
are deleted by their whole key from that list, and a name word of one or two letters, or
of eight and more, beside another filter is checked against it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from directory.adapters.resource_statements import Conditions, statement
from directory.adapters.tables import standard_resources, standard_terms
from directory.domain.resources import terms_stored
from servicekit.database import _alembic_config
from tests.directory.support import Searchable
from tests.directory.test_name_prefixes import named_world


@pytest.fixture
async def world(database_url_factory: Any, tmp_path: Path) -> AsyncIterator[Searchable]:
    async with named_world(await database_url_factory("directory"), tmp_path) as fiches:
        yield fiches


async def _listed_and_stored(engine: AsyncEngine) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """Per resource: the terms its row lists, and the term rows that name it."""
    async with engine.connect() as connection:
        resources = list(await connection.execute(sa.select(standard_resources)))
        terms = list(await connection.execute(sa.select(standard_terms)))
    listed = {(r.standard, r.type, r.id): terms_stored(r.terms) for r in resources if r.terms}
    stored: dict[Any, set[str]] = {}
    for t in terms:
        stored.setdefault((t.standard, t.type, t.id), set()).add(t.term)
    return listed, {key: frozenset(found) for key, found in stored.items()}


async def test_each_resource_lists_exactly_its_term_rows_as_fiches_change(
    world: Searchable,
) -> None:
    engine = world.component.runtime.engine
    listed, stored = await _listed_and_stored(engine)
    assert listed == stored and len(listed) > 20
    await world.apply(world.provider_event("pv-peeters", "An", "Maes", update=True))
    await world.apply(world.provider_gone("pv-peetermans"))
    await world.apply(world.practice_gone("pr-vander"))
    # Its only physician leaves: the HSDS service for physicians is retired (no terms).
    await world.apply(world.unlink("pr-jans", "pv-janssens", "physician"))
    await world.apply(world.practice_event("pr-peeters", "Praktijk Peeters-Maes", update=True))
    listed, stored = await _listed_and_stored(engine)
    assert listed == stored
    assert "n:maes" in listed["fhir", "Practitioner", "pv-peeters"]
    assert "n:peeters" not in listed["fhir", "Practitioner", "pv-peeters"]
    # A depublished provider's Practitioner keeps its terms (FHIR finds it, inactive);
    # a retired HSDS record keeps none.
    assert "n:peetermans" in listed["fhir", "Practitioner", "pv-peetermans"]
    async with engine.connect() as connection:
        retired = list(
            await connection.execute(
                sa.select(standard_resources.c.terms).where(
                    standard_resources.c.standard == "hsds", ~standard_resources.c.active
                )
            )
        )
    assert retired and all(row.terms == "" for row in retired)


async def _names(world: Searchable, path: str, **params: str) -> list[str]:
    response = await world.http.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    if "contents" in body:
        return sorted(item["name"] for item in body["contents"])
    return sorted(entry["resource"]["name"] for entry in body.get("entry", []))


async def test_a_short_name_word_beside_another_filter_finds_the_resources_named_so(
    world: Searchable,
) -> None:
    organizations, fhir = "/hsds/organizations", "/fhir/Organization"
    assert await _names(world, organizations, postcode="9000", search="h") == [
        "Huisartsen Vanderstraeten"
    ]
    assert await _names(world, organizations, postcode="9000", search="gr") == [
        "Groepspraktijk Jansberg"
    ]
    assert await _names(world, organizations, search="praktijk p") == ["Praktijk Peeters"]
    assert await _names(world, organizations, postcode="9000", search="x") == []
    assert await _names(world, fhir, **{"address-postalcode": "9000", "name": "h"}) == [
        "Huisartsen Vanderstraeten"
    ]
    assert await _names(
        world, fhir, **{"address-postalcode": "9000", "name": "vanderstraeten"}
    ) == ["Huisartsen Vanderstraeten"]
    services = await world.http.get("/hsds/services", params={"postcode": "9000", "search": "j"})
    assert services.status_code == 200 and services.json()["total_items"] >= 1


def test_a_range_checked_per_resource_reads_the_listed_terms() -> None:
    """With a term first, a one-letter name word is looked for in the resource's listed
    terms, not in a range of the term index per resource (its key holds no resource order)."""
    conditions = Conditions(
        "hsds", "organization", (("in", "pc:9000"), ("range", "n:h", "n:i")), (), None, (), None
    )
    for kind in ("page", "count", "count_terms", "page_terms"):
        sql = str(statement(conditions.shape(kind)))
        assert "terms LIKE" in sql, kind
    assert conditions.values()["p1_listed"] == "%\nn:h%"


async def test_the_migration_lists_the_terms_of_stored_resources(world: Searchable) -> None:
    from alembic import command

    engine = world.component.runtime.engine
    listed, stored = await _listed_and_stored(engine)

    def to(revision: str, down: bool) -> Any:
        def run(connection: Any) -> None:
            config = _alembic_config("directory.migrations", connection)
            (command.downgrade if down else command.upgrade)(config, revision)

        return run

    async with engine.begin() as connection:
        await connection.run_sync(to("0007", down=True))
    async with engine.connect() as connection:
        columns = await connection.run_sync(
            lambda c: [column["name"] for column in sa.inspect(c).get_columns("standard_resources")]
        )
    assert "terms" not in columns
    async with engine.begin() as connection:
        await connection.run_sync(to("heads", down=False))
    assert await _listed_and_stored(engine) == (listed, stored)
    assert await _names(world, "/hsds/organizations", postcode="9000", search="h") == [
        "Huisartsen Vanderstraeten"
    ]


async def test_a_resource_stored_without_its_terms_listed_is_refused(world: Searchable) -> None:
    """What the release before migration 0008 writes (it does not know the column): during
    a rollout its batch fails and is redelivered instead of leaving a resource whose list
    does not match its term rows (this release deletes term rows by that list)."""
    engine = world.component.runtime.engine
    with pytest.raises(sa.exc.IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "INSERT INTO standard_resources (standard, type, id, owner, active, "
                    "version, last_updated, content) VALUES ('fhir', 'Practitioner', "
                    "'pv-older', 'pv-older', true, 1, CURRENT_TIMESTAMP, '{}')"
                )
            )
