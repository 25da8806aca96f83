"""DIRECTORY_GEOCODER: the reference geocoder by default, or a platform's own geocoder
named as `package.module:factory`, used on the request path; a name the directory cannot
use stops it with a message naming the setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from directory.adapters.geocoders import UnknownGeocoder, geocoder_named
from directory.adapters.reference_geocoder import ReferenceGeocoder
from directory.domain.geo import Placed, Point
from tests.directory.support import searchable_directory, two_practices

KOUTER = Point(51.0515, 3.7245)


class LandmarkGeocoder:
    """A platform's own geocoder: it knows a landmark the reference data does not."""

    async def locate(self, postcode: str, municipality: str, street: str | None) -> Placed | None:
        return await ReferenceGeocoder().locate(postcode, municipality, street)

    async def place(self, text: str) -> Point | None:
        return KOUTER if text == "Belfort van Gent" else await ReferenceGeocoder().place(text)


def landmarks() -> LandmarkGeocoder:
    return LandmarkGeocoder()


def not_a_geocoder() -> object:
    return object()


THIS_MODULE = __name__


def test_reference_is_the_default_and_a_factory_is_called() -> None:
    assert isinstance(geocoder_named("reference"), ReferenceGeocoder)
    assert isinstance(geocoder_named(f"{THIS_MODULE}:landmarks"), LandmarkGeocoder)


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("crab", "give 'reference' or a factory as 'package.module:factory'"),
        ("no_such_package.geo:factory", "module 'no_such_package.geo' cannot be imported"),
        (f"{THIS_MODULE}:nothing_here", "has no callable 'nothing_here'"),
        (f"{THIS_MODULE}:not_a_geocoder", "has no locate or place"),
    ],
)
def test_a_geocoder_the_directory_cannot_use_stops_it_saying_what_to_fix(
    name: str, said: str
) -> None:
    with pytest.raises(UnknownGeocoder) as refused:
        geocoder_named(name)
    assert str(refused.value).startswith(f"DIRECTORY_GEOCODER={name!r}: ")
    assert said in str(refused.value)


async def test_the_configured_geocoder_places_what_people_search_near(
    database_url_factory: Any, tmp_path: Path
) -> None:
    url = await database_url_factory("directory")
    params = {"near": "Belfort van Gent", "radius_km": "5", "type": "practice"}
    async with searchable_directory(
        url, tmp_path / "own", geocoder=f"{THIS_MODULE}:landmarks"
    ) as own:
        await two_practices(own)
        found = await own.http.get("/api/directory/search", params=params)
        around = await own.http.get(
            "/hsds/service_at_locations", params={"postcode": "9000", "proximity": "5000"}
        )
    assert found.status_code == 200, found.text
    assert [hit["name"] for hit in found.json()["items"]] == ["Het Warmste Team"]
    assert around.status_code == 200, around.text

    async with searchable_directory(url, tmp_path / "reference") as reference:
        unknown = await reference.http.get("/api/directory/search", params=params)
    assert unknown.status_code == 422
