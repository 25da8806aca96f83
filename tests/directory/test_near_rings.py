"""FHIR near a place, across rings of several points (adapters/standard_queries.py).

Resources at the same distance from the centre form a ring. On PostgreSQL a page is one
statement (`nearest`: the circle's points, the first ids at each, the page of those); on
SQLite, which has no LATERAL, the rings are counted and a page is read ring by ring, a
ring of several points as pairs of values. Either way the pages go nearest first, by id
within a ring, and leave out what lies beyond the radius.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import create_async_engine

from directory.adapters import standard_queries
from directory.adapters.resource_statements import Shape
from directory.adapters.sql_distance import sql_distance_km
from directory.domain.geo import Placed, Point, distance_km
from directory.handlers.projection import DirectoryProjection
from tests.directory.support import Searchable, searchable_directory
from tests.directory.test_fhir import all_pages, fhir, ids

CENTRE = "51.0|4.0"
# North and south at the same distance (1.11 km: the same ring, two points), east further
# (3.5 km), far beyond a 5 km radius (33 km).
POINTS = {
    "1000": Point(51.01, 4.0),
    "2000": Point(50.99, 4.0),
    "3000": Point(51.0, 4.05),
    "4000": Point(51.3, 4.0),
}
NORTH, SOUTH, EAST, FAR = "prac-north", "prac-south", "prac-east", "prac-far"
STAFF = {
    NORTH: ["prov-a", "prov-b"],
    SOUTH: ["prov-c"],
    EAST: ["prov-d", "prov-e"],
    FAR: ["prov-f"],
}


class _AtChosenPoints:
    """Places each practice at its postcode's point above."""

    async def locate(self, postcode: str, municipality: str, street: str | None) -> Placed | None:
        point = POINTS.get(postcode)
        return Placed(point, "address") if point else None

    async def place(self, text: str) -> Point | None:
        return None


@pytest.fixture
async def world(database_url_factory: Any, tmp_path: Path) -> AsyncIterator[Searchable]:
    async with searchable_directory(await database_url_factory("near_rings"), tmp_path) as d:
        d.projection = DirectoryProjection(_AtChosenPoints())
        postcodes = dict(zip((NORTH, SOUTH, EAST, FAR), POINTS, strict=True))
        events: list[Any] = []
        for practice, staff in STAFF.items():
            events.append(
                d.practice_event(practice, f"Praktijk {practice}", postcode=postcodes[practice])
            )
            for provider in staff:
                events += [
                    d.provider_event(provider, provider, "Peeters"),
                    d.link(practice, provider),
                ]
        await d.apply(*events)
        yield d


async def _roles_at(world: Searchable, *practices: str) -> list[str]:
    found: list[str] = []
    for practice in practices:
        found += ids(await fhir(world, "PractitionerRole", organization=practice))
    return sorted(found)


async def test_pages_near_a_place_go_ring_by_ring_nearest_first(
    world: Searchable, monkeypatch: pytest.MonkeyPatch
) -> None:
    shapes: list[Shape] = []
    statement = standard_queries.statement

    def recorded(shape: Shape) -> Any:
        shapes.append(shape)
        return statement(shape)

    monkeypatch.setattr(standard_queries, "statement", recorded)
    expected = await _roles_at(world, NORTH, SOUTH) + await _roles_at(world, EAST)

    for count in (1, 2, 50):
        found = await all_pages(world, "PractitionerRole", near=f"{CENTRE}|5|km", _count=count)
        assert found == expected, count
    assert await all_pages(world, "PractitionerRole", near=f"{CENTRE}|2|km") == (
        await _roles_at(world, NORTH, SOUTH)
    )
    locations = {p: ids(await fhir(world, "Location", organization=p)) for p in STAFF}
    assert await all_pages(world, "Location", near=f"{CENTRE}|40|km", _count=1) == (
        sorted(locations[NORTH] + locations[SOUTH]) + locations[EAST] + locations[FAR]
    )

    kinds = {shape.kind for shape in shapes if shape.near}
    if world.component.runtime.engine.dialect.name == "postgresql":
        assert kinds == {"nearest"}, "PostgreSQL: each page one statement"
    else:
        assert "nearest" not in kinds
        assert any(shape.ring_points > 1 for shape in shapes), "a ring of two points"


async def test_a_near_page_keeps_the_searchs_other_conditions(world: Searchable) -> None:
    """The other parameters narrow each point's resources before a page is taken (on
    PostgreSQL inside the one statement), so pages of one match each stay complete."""
    for practice in (EAST, NORTH):
        found = await all_pages(
            world, "PractitionerRole", near=f"{CENTRE}|5|km", organization=practice, _count=1
        )
        assert found == await _roles_at(world, practice), practice
    beyond = await all_pages(world, "PractitionerRole", near=f"{CENTRE}|5|km", organization=FAR)
    assert beyond == []


async def test_the_database_measures_distances_as_the_directory_does(postgresql_url: str) -> None:
    """PostgreSQL's nearest page computes each point's distance itself: it must agree with
    domain.geo.distance_km to the metre that pages order and show by, across Belgium."""
    rng = random.Random(7)
    points = [(rng.uniform(49.5, 51.5), rng.uniform(2.5, 6.4)) for _ in range(500)]
    listed = (
        sa.func.unnest(
            sa.bindparam("lats", type_=postgresql.ARRAY(sa.Float)),
            sa.bindparam("lngs", type_=postgresql.ARRAY(sa.Float)),
        )
        .table_valued("lat", "lng")
        .render_derived(name="p")
    )
    measured = sa.select(listed.c.lat, listed.c.lng, sql_distance_km(listed.c.lat, listed.c.lng))
    engine = create_async_engine(postgresql_url)
    try:
        async with engine.connect() as connection:
            for centre in (Point(51.054, 3.725), Point(50.85, 4.35), Point(49.6, 6.1)):
                rows = await connection.execute(
                    measured,
                    {
                        "lats": [lat for lat, _ in points],
                        "lngs": [lng for _, lng in points],
                        "centre_lat": centre.latitude,
                        "centre_lng": centre.longitude,
                    },
                )
                for lat, lng, database_km in rows:
                    python_km = distance_km(centre, Point(lat, lng))
                    assert abs(database_km - python_km) < 1e-9, (centre, lat, lng)
                    assert round(database_km, 3) == round(python_km, 3)
    finally:
        await engine.dispose()
