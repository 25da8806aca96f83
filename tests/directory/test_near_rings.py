"""FHIR near a place, across rings of several points (adapters/standard_queries.py).

Resources at the same distance from the centre form a ring; a circle holding more than one
point is read through the points as a table on PostgreSQL (two arrays, `Shape.points_listed`)
and as pairs of values on SQLite. Either way the pages go nearest first, by id within a
ring, and leave out what lies beyond the radius.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from directory.adapters import standard_queries
from directory.adapters.resource_statements import Shape
from directory.domain.geo import Placed, Point
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

    def place(self, text: str) -> Point | None:
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

    listed = any(shape.points_listed for shape in shapes)
    postgresql = world.component.runtime.engine.dialect.name == "postgresql"
    assert listed == postgresql, "several points: a table of them on PostgreSQL only"
