"""HSDS 3.0 `/taxonomies` and `/taxonomy_terms`: the professions an agency filters services
by (`taxonomy_term_id`), listed as the HSDS API reference says and valid per its schemas."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from directory.domain.hsds import TAXONOMY_ID, taxonomy_term_id
from directory.domain.professions import PROFESSIONS
from tests.directory.support import Searchable, warm_team_directory
from tests.directory.test_hsds import PAGE_KEYS, validator
from tests.support.problems import error_locs


@pytest.fixture
async def world(database_url_factory: Any, tmp_path: Path) -> AsyncIterator[Searchable]:
    async with warm_team_directory(await database_url_factory("directory"), tmp_path) as team:
        yield team


async def page_of(world: Searchable, path: str, schema: str, **params: Any) -> dict[str, Any]:
    response = await world.http.get(f"/hsds/{path}", params=params)
    assert response.status_code == 200, response.text
    page = response.json()
    assert set(page) == PAGE_KEYS
    check = validator(schema)
    for item in page["contents"]:
        assert not list(check.iter_errors(item)), item
    return page


async def test_the_professions_are_the_one_taxonomy(world: Searchable) -> None:
    page = await page_of(world, "taxonomies", "taxonomy.json")
    assert [t["id"] for t in page["contents"]] == [TAXONOMY_ID]
    assert (page["total_items"], page["total_pages"], page["last_page"]) == (1, 1, True)
    one = (await world.http.get(f"/hsds/taxonomies/{TAXONOMY_ID}")).json()
    assert not list(validator("taxonomy.json").iter_errors(one))
    assert one == page["contents"][0]
    assert (await page_of(world, "taxonomies", "taxonomy.json", search="beroep"))["empty"]
    assert (await world.http.get("/hsds/taxonomies/other")).status_code == 404


async def test_every_profession_is_a_term_and_the_services_terms_are_listed(
    world: Searchable,
) -> None:
    page = await page_of(world, "taxonomy_terms", "taxonomy_term.json")
    terms = {term["code"]: term for term in page["contents"]}
    assert set(terms) == {p.code for p in PROFESSIONS}
    assert page["total_items"] == len(PROFESSIONS)
    assert all(t["id"] == taxonomy_term_id(code) for code, t in terms.items())
    assert all(t["taxonomy_id"] == TAXONOMY_ID for t in terms.values())
    # The term a service carries is the listed one, and it finds that service.
    services = (await world.http.get("/hsds/services")).json()["contents"]
    carried = [a["taxonomy_term"] for s in services for a in s["attributes"]]
    assert carried and all(term == terms[term["code"]] for term in carried)
    nurse = terms["nurse"]["id"]
    found = (await world.http.get("/hsds/services", params={"taxonomy_term_id": nurse})).json()
    assert [s["name"] for s in found["contents"]] == ["Het Warmste Team: verpleegkundige"]
    for key in (nurse, "nurse"):
        one = (await world.http.get(f"/hsds/taxonomy_terms/{key}")).json()
        assert one == terms["nurse"]
    assert (await world.http.get("/hsds/taxonomy_terms/astrologer")).status_code == 404


@pytest.mark.parametrize(
    ("params", "codes"),
    [
        ({"search": "kine"}, ["physiotherapist"]),  # Dutch: kinesitherapeut
        ({"search": "Infirm"}, ["nurse"]),  # French, any case
        ({"search": "dieet"}, []),
        ({"search": "dieti"}, ["dietitian"]),  # diëtist, accent aside
        ({"search": "speech ther"}, ["speech_therapist"]),
        # Words by prefix, not anywhere in a word: not physiotherapist, kinesitherapeut.
        ({"search": "therap"}, ["occupational_therapist", "speech_therapist"]),
        ({"taxonomy_id": TAXONOMY_ID, "search": "arts"}, ["physician"]),
        ({"taxonomy_id": "another"}, []),
        ({"parent_id": "anything"}, []),
        ({"top_only": "true", "search": "nurse"}, ["nurse"]),
    ],
)
async def test_term_filters(world: Searchable, params: dict[str, str], codes: list[str]) -> None:
    page = await page_of(world, "taxonomy_terms", "taxonomy_term.json", **params)
    assert [t["code"] for t in page["contents"]] == codes


async def test_term_pages_and_ndjson(world: Searchable) -> None:
    everything = await page_of(world, "taxonomy_terms", "taxonomy_term.json", per_page=100)
    codes = [t["code"] for t in everything["contents"]]
    assert codes == sorted(codes)
    second = await page_of(world, "taxonomy_terms", "taxonomy_term.json", per_page=3, page=2)
    assert [t["code"] for t in second["contents"]] == codes[3:6]
    assert second["total_pages"] == -(-len(codes) // 3)
    assert (second["first_page"], second["last_page"], second["size"]) == (False, False, 3)
    beyond = await page_of(world, "taxonomy_terms", "taxonomy_term.json", page=9)
    assert beyond["empty"] and beyond["last_page"] and beyond["total_items"] == len(codes)
    response = await world.http.get("/hsds/taxonomy_terms", params={"format": "ndjson"})
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = [orjson.loads(line) for line in response.text.splitlines()]
    assert lines == everything["contents"]


@pytest.mark.parametrize(
    ("path", "query", "param"),
    [
        ("taxonomy_terms", "search=%21%21", "search"),
        ("taxonomy_terms", "per_page=1000", "per_page"),
        ("taxonomy_terms", "page=0", "page"),
        ("taxonomy_terms", "format=xml", "format"),
        ("taxonomy_terms", "top_only=perhaps", "top_only"),
        ("taxonomy_terms", "code=nurse", "code"),
        ("taxonomy_terms", "search=kine&search=arts", "search"),
        ("taxonomies", "taxonomy_id=x", "taxonomy_id"),
        ("taxonomies/" + TAXONOMY_ID, "page=1", "page"),
    ],
)
async def test_bad_unknown_and_repeated_parameters_are_refused(
    world: Searchable, path: str, query: str, param: str
) -> None:
    response = await world.http.get(f"/hsds/{path}?{query}")
    assert response.status_code == 422, response.text
    assert error_locs(response) == [["query", param]]


@pytest.mark.parametrize("path", ["services", "service_at_locations"])
async def test_lists_by_taxonomy(world: Searchable, path: str) -> None:
    schema = "compiled_service_list.json" if path == "services" else None
    everything = (await world.http.get(f"/hsds/{path}")).json()
    assert everything["total_items"] == 2
    same = (await world.http.get(f"/hsds/{path}", params={"taxonomy_id": TAXONOMY_ID})).json()
    assert same == everything
    other = await world.http.get(f"/hsds/{path}", params={"taxonomy_id": "another"})
    assert other.status_code == 200
    assert other.json() == {
        "total_items": 0,
        "total_pages": 0,
        "page_number": 1,
        "size": 0,
        "first_page": True,
        "last_page": True,
        "empty": True,
        "contents": [],
    }
    streamed = await world.http.get(
        f"/hsds/{path}", params={"taxonomy_id": "another", "format": "ndjson"}
    )
    assert streamed.headers["content-type"] == "application/x-ndjson"
    assert streamed.content == b""
    if schema:
        assert not [e for s in same["contents"] for e in validator(schema).iter_errors(s)]


async def test_full_changes_no_page_and_a_read_nests_the_listed_service(
    world: Searchable,
) -> None:
    plain = (await world.http.get("/hsds/services")).json()
    for full in ("true", "false"):
        assert (await world.http.get("/hsds/services", params={"full": full})).json() == plain
    service = plain["contents"][0]
    read = (await world.http.get(f"/hsds/services/{service['id']}")).json()
    nested = {"organization", "service_at_locations"}
    assert set(read) - set(service) == nested
    assert {k: v for k, v in read.items() if k not in nested} == service


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("organizations?taxonomy_id=x", "taxonomy_id"),
        ("locations?taxonomy_id=x", "taxonomy_id"),
        ("organizations?full=true", "full"),
        ("service_at_locations?full=true", "full"),
        ("services?full=maybe", "full"),
    ],
)
async def test_what_a_list_does_not_take_is_refused(
    world: Searchable, path: str, param: str
) -> None:
    response = await world.http.get(f"/hsds/{path}")
    assert response.status_code == 422, response.text
    assert error_locs(response) == [["query", param]]


async def test_the_api_schema_lists_what_each_list_takes(world: Searchable) -> None:
    paths = (await world.http.get("/openapi.json")).json()["paths"]

    def taken(path: str) -> set[str]:
        return {p["name"] for p in paths[path]["get"].get("parameters", [])}

    paging = {"page", "per_page", "format"}
    assert taken("/hsds/organizations") == {"search", "postcode", "modified_after", *paging}
    assert taken("/hsds/locations") == {
        "search",
        "postcode",
        "modified_after",
        "organization_id",
        *paging,
    }
    assert {"taxonomy_id", "full"} <= taken("/hsds/services")
    assert "full" not in taken("/hsds/service_at_locations")
    assert taken("/hsds/taxonomy_terms") == {
        "search",
        "taxonomy_id",
        "parent_id",
        "top_only",
        *paging,
    }
