"""The public reads' usual query parameters read without FastAPI's validation
(entrypoints/query_parameters.py): the same answers, refusals still FastAPI's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from directory.entrypoints import cached_route
from directory.entrypoints.query_parameters import UNSURE, integer, matching, positive_number
from tests.directory.support import Searchable
from tests.directory.test_name_prefixes import named_world

# Questions the readers take (answered without FastAPI's validation).
USUAL = [
    "/api/directory/search?q=pee",
    "/api/directory/search?q=jan%20pee&limit=2&offset=1",
    "/api/fiches/search?profession=physician&postcode=9000&type=provider",
    "/api/directory/search?municipality=Gent&language=NL&limit=50",
    "/api/directory/search?near=9000&radius_km=2.5",
    "/api/directory/search?qualification=general_practitioner",
    "/api/directory/search?q=pee&qualification=nurse",
    "/api/directory/search?limit=5000",
    "/hsds/services?search=praktijk&per_page=2&page=2",
    "/hsds/organizations?search=pee&postcode=9000",
    "/hsds/locations?postcode=9000&format=ndjson",
    "/hsds/service_at_locations?per_page=1000",
    "/hsds/services?modified_after=2020-01-01T00:00:00Z",
    "/hsds/services?modified_after=yesterday",
    "/hsds/services?format=ndjson&per_page=10",
    "/hsds/services?format=xml",
    "/hsds/services?postcode=900",
]
# Endpoints whose parameters FastAPI has nothing to check (text path parameters, a query
# the endpoint parses itself): always called directly, their refusals their own.
ALWAYS_DIRECT = [
    "/fhir/PractitionerRole?address-postalcode=9000",
    "/fhir/PractitionerRole?near=51.05|3.72|5|km&_count=2",
    "/fhir/Practitioner?name=pee&_count=2&_offset=1",
    "/fhir/Practitioner?bogus=1",
    "/fhir/Nope?name=pee",
    "/fhir/Practitioner/_history?_count=2",
    "/fhir/Practitioner/unknown-id",
    "/fhir/metadata",
    "/hsds/services/unknown-id",
]
# Questions they leave to FastAPI: refused, or values only FastAPI reads.
LEFT_TO_FASTAPI = [
    "/api/directory/search?postcode=900",
    "/api/directory/search?postcode=9000%0A",
    "/api/directory/search?postcode=%EF%BC%99000",
    "/api/directory/search?limit=0",
    "/api/directory/search?limit=+5",
    "/api/directory/search?limit=%205",
    "/api/directory/search?limit=5.0",
    "/api/directory/search?offset=10001",
    "/api/directory/search?offset=-1",
    "/api/directory/search?radius_km=0&near=9000",
    "/api/directory/search?radius_km=1e1&near=9000",
    "/api/directory/search?type=Provider",
    "/api/directory/search?q=",
    "/api/directory/search?q=a&q=b",
    "/api/directory/search?qq=pee",
    "/api/directory/search?q=" + "p" * 101,
    "/api/directory/search?language=nld",
    "/hsds/services?per_page=0",
    "/hsds/organizations?taxonomy_term_id=physician",
    "/hsds/services?page=0",
    "/hsds/services?page=100001",
    "/hsds/services/unknown-id?search=pee",
]


@pytest.fixture
async def world(database_url_factory: Any, tmp_path: Path) -> AsyncIterator[Searchable]:
    async with named_world(await database_url_factory("directory"), tmp_path) as fiches:
        yield fiches


async def _answers(world: Searchable, paths: list[str]) -> list[tuple[int, str, bytes]]:
    found = []
    for path in paths:
        response = await world.http.get(path)
        found.append((response.status_code, response.headers["content-type"], response.content))
    return found


async def test_the_same_answers_with_and_without_fastapis_validation(
    world: Searchable, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_directly: list[bool] = []
    reading = cached_route.direct_arguments

    def noting(request: Any, readers: Any) -> Any:
        arguments = reading(request, readers)
        read_directly.append(arguments is not None)
        return arguments

    monkeypatch.setattr(cached_route, "direct_arguments", noting)
    usual = await _answers(world, USUAL)
    assert read_directly == [True] * len(USUAL)
    read_directly.clear()
    always = await _answers(world, ALWAYS_DIRECT)
    assert read_directly == [True] * len(ALWAYS_DIRECT)
    read_directly.clear()
    left = await _answers(world, LEFT_TO_FASTAPI)
    # (A control character is refused by the input guard before any route.)
    assert read_directly and not any(read_directly)

    monkeypatch.setattr(cached_route, "direct_arguments", lambda request, readers: None)
    assert usual == await _answers(world, USUAL)
    assert always == await _answers(world, ALWAYS_DIRECT)
    assert [status for status, _, _ in always] == [200, 200, 200, 400, 404, 200, 404, 200, 404]
    assert b'"entry":[{' in always[0][2]
    assert left == await _answers(world, LEFT_TO_FASTAPI)
    # The fixture does test something: hits, pages, and refusals of both kinds.
    assert all(status == 200 for status, _, _ in usual[:6])
    assert sum(b'"id"' in body for _, _, body in usual) >= 6
    assert {status for status, _, _ in left} == {200, 422}
    # Refusals of the endpoints themselves (an unknown qualification, a page beyond the
    # largest) are theirs either way.
    assert [usual[6][0], usual[7][0], usual[-1][0]] == [422, 422, 422]


def test_readers_take_only_what_they_can_check_whole() -> None:
    postcode = matching(r"[1-9][0-9]{3}")
    assert postcode("9000") == "9000"
    assert postcode("9000\n") is UNSURE
    assert postcode("90000") is UNSURE
    assert integer(1, 10)("10") == 10
    assert integer(1, 10)("010") == 10
    assert integer(1, 10)("11") is UNSURE
    assert integer(1, 10)("-1") is UNSURE
    assert integer(1, 10)("\u0661") is UNSURE  # an Arabic-Indic 1
    assert positive_number("2.5") == 2.5
    assert positive_number("0") is UNSURE
    assert positive_number("inf") is UNSURE
    assert positive_number("1e3") is UNSURE


@pytest.mark.parametrize(
    "path",
    [
        "/api/directory/search?postcode=9000&postcode=1000",
        "/api/fiches/search?q=pee&q=jan",
        "/api/directory/search?near=9000&radius_km=2&radius_km=50",
        "/hsds/services?postcode=9000&postcode=1000",
        "/hsds/organizations?search=pee&page=1&page=2",
        "/hsds/locations?per_page=5&per_page=200",
    ],
)
async def test_a_parameter_given_twice_is_refused_not_half_used(
    world: Searchable, path: str
) -> None:
    # FastAPI kept the last value: `postcode=9000&postcode=1000` searched 1000 alone.
    name = path.rpartition("&")[2].partition("=")[0]
    response = await world.http.get(path)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [(e["location"], e["field"]) for e in errors] == [("query", name)], errors
    assert "given 2 times; give it once" in errors[0]["message"]
