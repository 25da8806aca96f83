"""A page near a place on PostgreSQL is asked of a smaller circle first: it must be the page
the whole circle gives, whichever circle answered it.

The reference is the page read the slow way, on the same database: every candidate in
the whole circle read and sorted in Python (`page_read_in_python`, SQLite's path). The
practices lie on points of their own (a geocoder reading them from the street), spread
so that pages end inside, on and just beyond the smaller circles' edges, with ties at
equal distances and providers linked to practices near and far.
"""

from __future__ import annotations

import math
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from directory.adapters import near_queries
from directory.adapters.near_queries import Near, page_read_in_python, run_near_search
from directory.domain.geo import EARTH_RADIUS_KM, Placed, Point
from directory.domain.ranking import SearchFilters
from directory.handlers.projection import DirectoryProjection
from tests.directory.support import Searchable, searchable_directory

pytestmark = pytest.mark.postgres

CENTRE = Point(51.0543, 3.7174)  # Gent
JUST_INSIDE, JUST_OUTSIDE = "prac-edge-in", "prac-edge-out"
KM_PER_DEGREE_LATITUDE = EARTH_RADIUS_KM * math.radians(1)


class StreetPoints:
    """Places an address at the point its street names ("51.0543 3.7174")."""

    async def locate(self, postcode: str, municipality: str, street: str | None) -> Placed | None:
        latitude, longitude = (street or "").split()
        return Placed(Point(float(latitude), float(longitude)), "address")

    async def place(self, text: str) -> Point | None:
        return None


def _north_of_the_centre(km: float) -> str:
    # Along a meridian the great-circle distance is the latitude's difference; 1e-7
    # degrees is about a centimetre.
    return f"{CENTRE.latitude + km / KM_PER_DEGREE_LATITUDE:.7f} {CENTRE.longitude:.7f}"


@pytest.fixture
async def spread(postgresql_url: str, tmp_path: Path) -> AsyncIterator[Searchable]:
    """80 practices from 0 to 12 km north of the centre (some on one point, some a
    metre apart), 160 providers (physicians and nurses, a few depublished), each linked
    to one to three practices."""
    rng = random.Random(20261202)
    async with searchable_directory(postgresql_url, tmp_path) as directory:
        directory.projection = DirectoryProjection(StreetPoints())
        shared = [rng.uniform(0, 12) for _ in range(10)]
        events: list[Any] = []
        practices = []
        for number in range(80):
            km = rng.choice(shared) if number % 3 == 0 else rng.uniform(0, 12)
            km += 0.001 * (number % 2) if number % 7 == 0 else 0  # a metre apart
            practice = f"prac-{number:03}"
            practices.append(practice)
            events.append(
                directory.practice_event(
                    practice,
                    f"Praktijk {rng.choice('ABCDEFGH')}{number}",
                    street=_north_of_the_centre(km),
                )
            )
        for number in range(160):
            provider = f"prov-{number:03}"
            profession = "nurse" if number % 4 == 0 else "physician"
            events.append(
                directory.provider_event(
                    provider, "Alex", f"{rng.choice('KLMN')}aes{number}", (profession,)
                )
            )
            for practice in rng.sample(practices, rng.randint(1, 3)):
                events.append(directory.link(practice, provider, profession))
        # Both 1.000 km away once rounded to metres, one just inside the first circle a
        # 16 km search asks (1 km), one just outside it; by name the outside one is first.
        for practice, km, name in (
            (JUST_INSIDE, 0.9996, "Zeta Praktijk"),
            (JUST_OUTSIDE, 1.0004, "Alfa Praktijk"),
        ):
            events.append(directory.practice_event(practice, name, street=_north_of_the_centre(km)))
        await directory.apply(*events)
        await directory.apply(*(directory.provider_gone(f"prov-{n:03}") for n in range(0, 160, 9)))
        yield directory


async def test_a_page_from_a_smaller_circle_is_the_page_of_the_whole_circle(
    spread: Searchable, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[float] = []
    whole_statement = near_queries._page_statement

    def recorded(filters: SearchFilters, near: Near, **page: int) -> Any:
        asked.append(near.radius_km)
        return whole_statement(filters, near, **page)

    monkeypatch.setattr(near_queries, "_page_statement", recorded)
    answered_by_a_smaller_circle = answered_after_growing = 0
    searches = [
        (filters, radius_km, limit, offset)
        for filters in (
            SearchFilters(),
            SearchFilters(kind="provider"),
            SearchFilters(kind="practice"),
            SearchFilters(profession="nurse"),
        )
        for radius_km in (1.0, 4.0, 16.0)
        for limit, offset in ((1, 0), (3, 0), (11, 0), (5, 7), (21, 40), (11, 200))
    ]
    async with spread.component.runtime.sessions() as session:
        connection = await session.connection()
        for filters, radius_km, limit, offset in searches:
            near = Near(CENTRE, radius_km)
            asked.clear()
            found = await run_near_search(connection, filters, near, limit=limit, offset=offset)
            expected = await page_read_in_python(
                connection, filters, near, limit=limit, offset=offset
            )
            assert found == [
                near_queries._with_distance(document, exact) for document, exact in expected
            ], (filters, radius_km, limit, offset, asked)
            answered_by_a_smaller_circle += asked[-1] < radius_km
            answered_after_growing += len(asked) > 1
    # Both ways of answering were taken, so both were compared with the whole circle's.
    assert answered_by_a_smaller_circle > 10
    assert answered_after_growing > 10
    assert answered_by_a_smaller_circle < len(searches)


async def test_a_hit_just_beyond_a_smaller_circle_keeps_its_place_before_an_equal_one_inside(
    spread: Searchable,
) -> None:
    """The page the first circle (1 km of 16) could give ends on a practice 0.9996 km away;
    one 1.0004 km away, outside that circle, is as far once rounded to metres and comes
    first by name. The smaller circle's page must not be taken."""
    near = Near(CENTRE, 16.0)
    practices = SearchFilters(kind="practice")
    async with spread.component.runtime.sessions() as session:
        connection = await session.connection()
        within_a_km = await page_read_in_python(
            connection, practices, Near(CENTRE, 1.0), limit=1000, offset=0
        )
        ids = [orjson.loads(document)["id"] for document, _ in within_a_km]
        assert ids[-1] == JUST_INSIDE and JUST_OUTSIDE not in ids
        page = await run_near_search(connection, practices, near, limit=len(ids), offset=0)
    assert [orjson.loads(document)["id"] for document in page] == [*ids[:-1], JUST_OUTSIDE]
