"""Open Referral HSDS 3.0 at /hsds: every response validates against the HSDS 3.0 schemas
(tests/directory/hsds_schema, see its SOURCE.md), pages and filters as the API reference
says, and what leaves the map leaves HSDS."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from directory.domain.hsds import taxonomy_term_id
from tests.directory.support import (
    NELE,
    SOLO,
    WARM,
    Searchable,
    migrate_to,
    searchable_directory,
    two_practices,
)
from tests.support.problems import error_locs

SCHEMAS = Path(__file__).parent / "hsds_schema"


def _registry() -> Registry:
    resources = []
    for path in SCHEMAS.glob("*.json"):
        contents = json.loads(path.read_text())
        resources.append((path.name, Resource.from_contents(contents, DRAFT202012)))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def validator(name: str) -> Draft202012Validator:
    """The schema `name`, checking formats too (uuid, date-time, uri, ...)."""
    schema = json.loads((SCHEMAS / name).read_text())
    return Draft202012Validator(
        schema, registry=REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def openapi_validator(pointer: str) -> Draft202012Validator:
    """A schema inside the API reference's openapi.json (its Page, its root answer)."""
    return Draft202012Validator(
        {"$ref": f"openapi.json#{pointer}"},
        registry=REGISTRY,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def assert_valid(check: Draft202012Validator, value: Any) -> None:
    errors = sorted(check.iter_errors(value), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


PAGE = openapi_validator("/components/schemas/Page")
ROOT = openapi_validator("/paths/~1/get/responses/200/content/application~1json/schema")


ITEM_SCHEMA = {
    "services": "compiled_service_list.json",
    "organizations": "compiled_organization_list.json",
    "service_at_locations": "compiled_service_at_location_list.json",
    "locations": "location.json",
}
PAGE_KEYS = {
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
}


@pytest.fixture
async def world(database_url_factory: Any, tmp_path: Path) -> AsyncIterator[Searchable]:
    async with searchable_directory(await database_url_factory("directory"), tmp_path) as directory:
        await two_practices(directory)
        yield directory


async def listing(world: Searchable, path: str, **params: Any) -> dict[str, Any]:
    response = await world.http.get(f"/hsds/{path}", params=params)
    assert response.status_code == 200, response.text
    page = response.json()
    assert set(page) == PAGE_KEYS
    assert_valid(PAGE, page)
    check = validator(ITEM_SCHEMA[path])
    for item in page["contents"]:
        assert_valid(check, item)
    return page


async def test_every_list_and_record_validates(world: Searchable) -> None:
    services = await listing(world, "services")
    assert services["total_items"] == 3  # Warm: nurse and physician; Solo: physician
    assert {s["name"] for s in services["contents"]} == {
        "Het Warmste Team: verpleegkundige",
        "Het Warmste Team: arts",
        "Praktijk Creemers: arts",
    }
    for service in services["contents"]:
        full = (await world.http.get(f"/hsds/services/{service['id']}")).json()
        errors = list(validator("compiled_service.json").iter_errors(full))
        assert not errors, [e.message for e in errors]
        assert full["status"] == "active"
        # Fully nested, as the API reference serves one service: its organization, and
        # where it is offered, each place with its whole location.
        assert full["organization"]["id"] == full["organization_id"]
        [at_location] = full["service_at_locations"]
        assert at_location["service_id"] == full["id"]
        location = at_location["location"]
        assert location["id"] == at_location["location_id"]
        assert location["addresses"][0]["postal_code"] in ("9000", "9160")
        assert "schedules" in location and "latitude" in location
    organizations = await listing(world, "organizations")
    assert {o["id"] for o in organizations["contents"]} == {WARM, SOLO}
    warm = (await world.http.get(f"/hsds/organizations/{WARM}")).json()
    # The schema the API reference names for one organization: fully nested, with its
    # locations and its services.
    assert_valid(validator("compiled_organization.json"), warm)
    assert [loc["addresses"][0]["postal_code"] for loc in warm["locations"]] == ["9000"]
    assert {s["name"] for s in warm["services"]} == {
        "Het Warmste Team: verpleegkundige",
        "Het Warmste Team: arts",
    }
    locations = await listing(world, "locations")
    assert {loc["addresses"][0]["postal_code"] for loc in locations["contents"]} == {"9000", "9160"}
    # Gent and Lokeren: the province, not the municipality again.
    assert {
        (a["city"], a["state_province"], a["region"])
        for loc in locations["contents"]
        for a in loc["addresses"]
    } == {
        ("Gent", "Oost-Vlaanderen", "Vlaams Gewest"),
        ("Lokeren", "Oost-Vlaanderen", "Vlaams Gewest"),
    }
    for location in locations["contents"]:
        one = await world.http.get(f"/hsds/locations/{location['id']}")
        assert one.status_code == 200, one.text
        assert_valid(validator("location.json"), one.json())
        assert one.json() == location
    at = await listing(world, "service_at_locations")
    assert at["total_items"] == 3
    for listed in at["contents"]:
        one = await world.http.get(f"/hsds/service_at_locations/{listed['id']}")
        assert one.status_code == 200, one.text
        full = one.json()
        assert_valid(validator("compiled_service_at_location.json"), full)
        # Fully nested: its whole service (as the services list serves it) and its whole
        # location, where the list gives a few fields of each.
        service = (await world.http.get(f"/hsds/services/{listed['service_id']}")).json()
        assert full["service"] == {
            k: v for k, v in service.items() if k not in ("organization", "service_at_locations")
        }
        location = (await world.http.get(f"/hsds/locations/{listed['location_id']}")).json()
        assert full["location"] == location
        assert "schedules" in full["location"] and "phones" in full["service"]
    root = (await world.http.get("/hsds/")).json()
    assert_valid(ROOT, root)
    assert root["version"] == "3.0"


async def test_filters_and_pages(world: Searchable) -> None:
    assert (await listing(world, "services", postcode="9160"))["total_items"] == 1
    nurses = await listing(world, "services", taxonomy_term_id=taxonomy_term_id("nurse"))
    assert [s["name"] for s in nurses["contents"]] == ["Het Warmste Team: verpleegkundige"]
    assert (await listing(world, "services", taxonomy_term_id="physician"))["total_items"] == 2
    assert (await listing(world, "services", search="warmste arts"))["total_items"] == 1
    assert (await listing(world, "organizations", search="creem"))["total_items"] == 1
    later = datetime.now(UTC).isoformat()
    assert (await listing(world, "services", modified_after=later))["total_items"] == 0
    first = await listing(world, "services", per_page=2)
    assert (first["total_pages"], first["size"], first["first_page"], first["last_page"]) == (
        2,
        2,
        True,
        False,
    )
    second = await listing(world, "services", per_page=2, page=2)
    assert (second["size"], second["last_page"], second["empty"]) == (1, True, False)
    ids = {s["id"] for s in first["contents"]} | {s["id"] for s in second["contents"]}
    assert len(ids) == 3
    beyond = await listing(world, "services", per_page=2, page=3)
    assert beyond["empty"] is True


@pytest.mark.parametrize("word", ["verpleeg", "infirmier", "nurse", "Infirm"])
async def test_a_search_finds_a_service_by_its_profession_in_dutch_french_or_english(
    world: Searchable, word: str
) -> None:
    found = await listing(world, "services", search=word)
    assert [s["name"] for s in found["contents"]] == ["Het Warmste Team: verpleegkundige"]
    at = await listing(world, "service_at_locations", search=word)
    assert at["total_items"] == 1


async def test_the_profession_words_migration_queues_every_practice_for_a_rebuild(
    world: Searchable,
) -> None:
    engine = world.component.runtime.engine
    async with engine.begin() as connection:
        await connection.execute(sa.text("DELETE FROM projection_pending"))
    await migrate_to(engine, "0012", down=True)
    await migrate_to(engine, "0013")
    async with engine.connect() as connection:
        waiting = await connection.execute(
            sa.text("SELECT kind, fiche_id FROM projection_pending ORDER BY fiche_id")
        )
        assert sorted(waiting.all()) == sorted([("practice", WARM), ("practice", SOLO)])


async def test_a_search_counts_every_page_the_same_even_past_the_end(world: Searchable) -> None:
    """A `search=` page reads its total and its records in one statement; a page past
    the end has no records but keeps the total."""
    pages = [
        await listing(world, "services", search="arts", per_page=1, page=number)
        for number in (1, 2, 3)
    ]
    assert [p["total_items"] for p in pages] == [2, 2, 2]
    assert [p["total_pages"] for p in pages] == [2, 2, 2]
    assert [p["size"] for p in pages] == [1, 1, 0]
    assert [p["empty"] for p in pages] == [False, False, True]
    assert {s["name"] for p in pages for s in p["contents"]} == {
        "Het Warmste Team: arts",
        "Praktijk Creemers: arts",
    }


@pytest.mark.parametrize(
    ("path", "records"),
    [("services", 3), ("organizations", 2), ("locations", 2), ("service_at_locations", 3)],
)
async def test_ndjson_streams_every_record(world: Searchable, path: str, records: int) -> None:
    response = await world.http.get(f"/hsds/{path}", params={"format": "ndjson"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert len(lines) == records
    check = validator(ITEM_SCHEMA[path])
    for line in lines:
        assert_valid(check, line)
    assert lines == (await listing(world, path, per_page=200))["contents"]


async def test_what_leaves_the_map_leaves_hsds(world: Searchable) -> None:
    nurse_service = (await listing(world, "services", taxonomy_term_id="nurse"))["contents"][0][
        "id"
    ]
    await world.apply(world.provider_gone(NELE))
    assert (await listing(world, "services", taxonomy_term_id="nurse"))["total_items"] == 0
    assert (await world.http.get(f"/hsds/services/{nurse_service}")).status_code == 404
    await world.apply(world.practice_gone(SOLO))
    assert {o["id"] for o in (await listing(world, "organizations"))["contents"]} == {WARM}
    assert (await listing(world, "locations", postcode="9160"))["total_items"] == 0


async def test_proximity_finds_services_at_locations_around_a_postcode_nearest_first(
    world: Searchable,
) -> None:
    """`postcode` with `proximity` (metres from the postcode's centroid, as the HSDS API
    reference says) is a circle, not the postcode: Lokeren (9160) lies about 20 km from
    Gent (9000)."""
    near_gent = await listing(world, "service_at_locations", postcode="9000", proximity=5000)
    assert near_gent["total_items"] == 2
    assert {at["location"]["addresses"][0]["postal_code"] for at in near_gent["contents"]} == {
        "9000"
    }
    wide = await listing(world, "service_at_locations", postcode="9000", proximity=30000)
    assert wide["total_items"] == 3
    postcodes = [at["location"]["addresses"][0]["postal_code"] for at in wide["contents"]]
    assert postcodes == ["9000", "9000", "9160"]  # nearest first
    from_lokeren = await listing(world, "service_at_locations", postcode="9160", proximity=30000)
    assert from_lokeren["contents"][0]["location"]["addresses"][0]["postal_code"] == "9160"
    assert [at["id"] for at in from_lokeren["contents"]][1:] == sorted(
        at["id"] for at in near_gent["contents"]
    )  # equally far: by id
    nurses = await listing(
        world, "service_at_locations", postcode="9000", proximity=30000, taxonomy_term_id="nurse"
    )
    assert [at["service"]["name"] for at in nurses["contents"]] == [
        "Het Warmste Team: verpleegkundige"
    ]
    creemers = await listing(
        world, "service_at_locations", postcode="9160", proximity=1000, search="creemers"
    )
    assert [at["service"]["name"] for at in creemers["contents"]] == ["Praktijk Creemers: arts"]


async def test_proximity_pages_and_streams_the_one_order(world: Searchable) -> None:
    wide = {"postcode": "9000", "proximity": 30000}
    whole = [at["id"] for at in (await listing(world, "service_at_locations", **wide))["contents"]]
    pages = [
        await listing(world, "service_at_locations", **wide, per_page=2, page=number)
        for number in (1, 2, 3)
    ]
    assert [p["total_items"] for p in pages] == [3, 3, 3]
    assert [p["size"] for p in pages] == [2, 1, 0]
    assert [at["id"] for p in pages for at in p["contents"]] == whole
    response = await world.http.get(
        "/hsds/service_at_locations", params={**wide, "format": "ndjson"}
    )
    assert [json.loads(line)["id"] for line in response.text.splitlines()] == whole


async def test_what_leaves_the_map_leaves_a_proximity_search(world: Searchable) -> None:
    await world.apply(world.practice_gone(SOLO))
    wide = await listing(world, "service_at_locations", postcode="9000", proximity=30000)
    assert wide["total_items"] == 2
    assert all(at["service"]["name"].startswith("Het Warmste") for at in wide["contents"])


@pytest.mark.parametrize(
    ("params", "param", "says"),
    [
        ({"proximity": "5000"}, "proximity", "needs postcode"),
        ({"postcode": "9000", "proximity": "0"}, "proximity", "greater than or equal to 1"),
        ({"postcode": "9000", "proximity": "5km"}, "proximity", "valid integer"),
        ({"postcode": "9000", "proximity": "100001"}, "proximity", "at most 100000 metres"),
        ({"postcode": "1001", "proximity": "5000"}, "postcode", "can place"),
    ],
)
async def test_a_proximity_that_cannot_be_measured_is_refused(
    world: Searchable, params: dict[str, str], param: str, says: str
) -> None:
    response = await world.http.get("/hsds/service_at_locations", params=params)
    assert response.status_code == 422, response.text
    assert error_locs(response) == [["query", param]]
    assert says in response.text


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        ("services", {"proximity": "5000", "postcode": "9000"}, "proximity"),
        ("services", {"q": "x"}, "q"),
        ("services", {"per_page": "1000"}, "per_page"),
        ("services", {"page": "0"}, "page"),
        ("services", {"format": "xml"}, "format"),
        ("services", {"postcode": "12"}, "postcode"),
        ("organizations", {"taxonomy_term_id": "nurse"}, "taxonomy_term_id"),
        ("services", {"modified_after": "soon"}, "modified_after"),
        # Before year 1 in UTC: once a server error on PostgreSQL.
        ("services", {"modified_after": "0001-01-01T00:00:00+14:00"}, "modified_after"),
        ("services", {"search": "!!"}, "search"),
    ],
)
async def test_bad_and_unknown_parameters_are_refused(
    world: Searchable, path: str, params: dict[str, str], param: str
) -> None:
    response = await world.http.get(f"/hsds/{path}", params=params)
    assert response.status_code == 422, response.text
    assert error_locs(response) == [["query", param]]


@pytest.mark.parametrize(
    ("path", "params", "param", "says"),
    [
        ("services", {"modified_after": "yesterday"}, "modified_after", "e.g. 2026-11-29T08"),
        # An unescaped + in a URL's query is a space: the message says how to write it.
        ("services", {"modified_after": "2026-11-29T08:00:00 01:00"}, "modified_after", "%2B"),
        # NDJSON has no pages: a page asked of it is refused, not ignored.
        ("services", {"format": "ndjson", "per_page": "10"}, "per_page", "without pages"),
        ("locations", {"format": "ndjson", "page": "2"}, "page", "without pages"),
        ("taxonomy_terms", {"format": "ndjson", "page": "2"}, "page", "without pages"),
        ("services", {"postcode": "900"}, "postcode", "4 digits, 1000 to 9999"),
        ("locations", {"format": "xml"}, "format", "json (a page) or ndjson"),
        ("taxonomies", {"format": "csv"}, "format", "json (a page) or ndjson"),
        ("services", {"per_page": "500"}, "per_page", "at most 200; for every record"),
    ],
)
async def test_a_refusal_says_what_to_give_instead(
    world: Searchable, path: str, params: dict[str, str], param: str, says: str
) -> None:
    response = await world.http.get(f"/hsds/{path}", params=params)
    assert response.status_code == 422, response.text
    assert error_locs(response) == [["query", param]]
    assert says in response.text


async def test_modified_after_takes_a_date_a_zone_or_utc(world: Searchable) -> None:
    everything = (await world.http.get("/hsds/services")).json()["total_items"]
    assert everything > 0
    for moment in ("2020-01-01", "2020-01-01T00:00:00Z", "2020-01-01T01:00:00+01:00"):
        found = await world.http.get("/hsds/services", params={"modified_after": moment})
        assert found.status_code == 200, found.text
        assert found.json()["total_items"] == everything
    later = await world.http.get("/hsds/services", params={"modified_after": "2999-01-01"})
    assert later.json()["total_items"] == 0


async def test_no_email_or_person_ids(world: Searchable) -> None:
    for path in ("services", "organizations", "locations", "service_at_locations"):
        body = (await world.http.get(f"/hsds/{path}", params={"format": "ndjson"})).text
        assert "@" not in body and "prof-" not in body and "riziv" not in body.lower()


async def _resource_indexes(world: Searchable) -> dict[str, str]:
    """The indexes of standard_resources and their definitions (PostgreSQL)."""
    async with world.component.runtime.engine.connect() as connection:
        rows = await connection.execute(
            sa.text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'standard_resources'"
            )
        )
        return {name: definition for name, definition in rows}


async def test_the_activity_index_migration_changes_no_answer(
    database_url_factory: Any, tmp_path: Path
) -> None:
    """Migration 0010 only adds indexes (and includes columns in the place index): every
    list answers the same below it and above it, also one near a postcode."""
    url = await database_url_factory("directory")
    async with searchable_directory(url, tmp_path, response_cache_entries=0) as directory:
        await two_practices(directory)
        questions: list[tuple[str, dict[str, Any]]] = [
            ("services", {}),
            ("services", {"per_page": 2, "page": 2}),
            ("services", {"modified_after": "2020-01-01T00:00:00Z", "per_page": 1, "page": 3}),
            ("organizations", {}),
            ("service_at_locations", {"postcode": "9000", "proximity": 30000, "per_page": 2}),
        ]
        answers = [await listing(directory, path, **params) for path, params in questions]
        engine = directory.component.runtime.engine
        await migrate_to(engine, "0009", down=True)
        assert [await listing(directory, path, **params) for path, params in questions] == answers
        if engine.dialect.name == "postgresql":
            before = await _resource_indexes(directory)
            assert "ix_standard_resources_active" not in before
            assert "INCLUDE" not in before["ix_standard_resources_place"]
        await migrate_to(engine, "heads")
        assert [await listing(directory, path, **params) for path, params in questions] == answers
        if engine.dialect.name == "postgresql":
            after = await _resource_indexes(directory)
            assert after["ix_standard_resources_active"].endswith(
                "(standard, type, active, id) INCLUDE (last_updated)"
            )
            assert after["ix_standard_resources_place"].endswith(
                "(standard, type, latitude, longitude, id) INCLUDE (active)"
            )
    assert [a["total_items"] for a in answers] == [3, 3, 3, 2, 3]
