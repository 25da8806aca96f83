"""FHIR R4's search rules, as a standard client relies on them: dates to their precision,
the total on request, codes nobody has finding nothing, result parameters a server may
ignore, lenient handling, string searches by the start of a value."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from directory.domain.fhir import PROFESSION_SYSTEM
from tests.directory.support import (
    MARC,
    SOLO,
    WARM,
    Searchable,
    migrate_to,
    searchable_directory,
    two_practices,
)
from tests.directory.test_fhir import fhir, ids, valid


@pytest.fixture
async def world(database_url_factory: Any, tmp_path: Path) -> AsyncIterator[Searchable]:
    async with searchable_directory(await database_url_factory("directory"), tmp_path) as directory:
        await two_practices(directory)
        yield directory


async def refused(world: Searchable, path: str, **params: str) -> str:
    response = await world.http.get(f"/fhir/{path}", params=params)
    assert response.status_code == 400, response.text
    return str(valid(response.json())["issue"][0]["diagnostics"])


async def test_last_updated_is_read_to_the_precision_it_is_written(world: Searchable) -> None:
    both = ids(await fhir(world, "Organization"))
    assert len(both) == 2
    stamps = [(await fhir(world, f"Organization/{i}"))["meta"]["lastUpdated"] for i in both]
    if stamps[0][:10] != stamps[1][:10]:
        pytest.skip("the two practices were stamped on either side of midnight (UTC)")
    day, minute = stamps[0][:10], stamps[0][:16]
    year, month = day[:4], day[:7]

    async def found(value: str) -> list[str]:
        return sorted(ids(await fhir(world, "Organization", _lastUpdated=value)))

    # Both practices were stamped on one day: that day, its month and its year hold both.
    for whole in (day, month, year, f"ge{day}", f"le{day}", f"sa{int(year) - 1}", "eb9999"):
        assert await found(whole) == sorted(both), whole
    for none in (f"gt{day}", f"lt{day}", f"sa{day}", f"eb{day}", f"{int(year) + 1}"):
        assert await found(none) == [], none
    assert both[0] in await found(f"{minute}Z") + await found(f"ge{minute}Z")
    assert "prefix 'ne' is not supported" in await refused(
        world, "Organization", _lastUpdated=f"ne{day}"
    )


async def test_the_total_comes_alone_with_a_count_of_zero_or_summary_count(
    world: Searchable,
) -> None:
    for params in ({"_count": "0"}, {"_summary": "count"}):
        bundle = await fhir(world, "PractitionerRole", **params)
        assert bundle["total"] == 3, params
        assert bundle["entry"] == [], params
    page = await fhir(world, "PractitionerRole", _total="accurate", _count="1")
    assert page["total"] == 3
    assert len(ids(page)) == 1
    assert [link["relation"] for link in page["link"]] == ["self", "next"]
    assert "total" not in await fhir(world, "PractitionerRole")
    nurses = await fhir(world, "PractitionerRole", specialty="nurse", _total="accurate")
    assert nurses["total"] == len(ids(nurses)) == 1


async def test_a_count_above_the_largest_page_gets_the_largest_page(world: Searchable) -> None:
    bundle = await fhir(world, "PractitionerRole", _count="100000")
    assert len(ids(bundle)) == 3
    assert "below 0" in await refused(world, "PractitionerRole", _count="-1")


async def test_result_parameters_a_server_may_ignore_are_taken(world: Searchable) -> None:
    whole = await fhir(world, "PractitionerRole")
    for params in (
        {"_elements": "id"},
        {"_pretty": "true"},
        {"_summary": "true"},
        {"_summary": "data"},
        {"specialty": ""},  # a parameter without a value is left out
    ):
        bundle = await fhir(world, "PractitionerRole", **params)
        assert ids(bundle) == ids(whole), params
        assert bundle["entry"][0]["resource"] == whole["entry"][0]["resource"], params


async def test_lenient_handling_leaves_unknown_parameters_out(world: Searchable) -> None:
    assert "handling=lenient" in await refused(world, "Practitioner", nmae="marc")
    response = await world.http.get(
        "/fhir/Practitioner", params={"nmae": "marc"}, headers={"Prefer": "handling=lenient"}
    )
    assert response.status_code == 200, response.text
    assert len(ids(valid(response.json()))) == 2
    # The links show the search that was made, without what it left out.
    paged = await world.http.get(
        "/fhir/Practitioner",
        params=[("nmae", "marc"), ("_count", "1"), ("active", "true"), ("nmae", "x")],
        headers={"Prefer": "handling=lenient"},
    )
    links = {link["relation"]: link["url"] for link in valid(paged.json())["link"]}
    assert links == {
        "self": "http://test/fhir/Practitioner?_count=1&active=true",
        "next": "http://test/fhir/Practitioner?_count=1&active=true&_offset=1",
    }


async def test_codes_nobody_has_find_nothing_and_comma_means_any(world: Searchable) -> None:
    async def found(path: str, **params: str) -> list[str]:
        return ids(await fhir(world, path, **params))

    assert await found("PractitionerRole", specialty="http://snomed.info/sct|224535009") == []
    assert await found("PractitionerRole", specialty="|nurse") == []
    assert len(await found("PractitionerRole", specialty=f"{PROFESSION_SYSTEM}|nurse")) == 1
    assert len(await found("PractitionerRole", specialty="nurse,http://snomed.info/sct|1")) == 1
    # The national code of eHealth's CD-HCPARTY names the same profession.
    national = "https://www.ehealth.fgov.be/standards/fhir/core/CodeSystem/cd-hcparty"
    nurses = await found("PractitionerRole", specialty=f"{national}|persnurse")
    assert nurses == await found("PractitionerRole", specialty="nurse") and len(nurses) == 1
    assert len(await found("HealthcareService", specialty=f"{national}|persphysician")) == 2
    assert await found("PractitionerRole", specialty=f"{national}|persneurologist") == []
    assert await found("Location", status="suspended") == []
    assert len(await found("Location", status="active,inactive")) == 2
    assert len(await found("Practitioner", active="true,false")) == 2
    assert "not a Location status" in await refused(world, "Location", status="closed")


async def test_a_reference_to_another_type_is_refused_saying_which(world: Searchable) -> None:
    message = await refused(world, "PractitionerRole", practitioner=f"Organization/{WARM}")
    assert "refers to a Practitioner" in message
    by_url = await fhir(
        world, "PractitionerRole", practitioner=f"http://test/fhir/Practitioner/{MARC}"
    )
    assert len(ids(by_url)) == 2


async def test_an_include_asked_twice_is_included_once(world: Searchable) -> None:
    response = await world.http.get(
        "/fhir/PractitionerRole?_include=PractitionerRole:organization"
        "&_include=PractitionerRole:organization"
    )
    bundle = valid(response.json())
    urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(urls) == len(set(urls)) == 3 + 2


async def test_format_is_json_in_any_spelling_and_nothing_else(world: Searchable) -> None:
    assert len(
        ids(await fhir(world, "Organization", _format="application/fhir+json;fhirVersion=4.0"))
    )
    history = await world.http.get("/fhir/Organization/_history", params={"_format": "json"})
    assert history.status_code == 200, history.text
    assert "JSON only" in await refused(world, f"Organization/{SOLO}", _format="xml")
    assert "JSON only" in await refused(world, "Organization/_history", _format="xml")


async def test_a_read_says_its_version_in_etag_and_last_modified(world: Searchable) -> None:
    response = await world.http.get(f"/fhir/Organization/{SOLO}")
    assert response.status_code == 200, response.text
    meta = response.json()["meta"]
    assert response.headers["etag"] == f'W/"{meta["versionId"]}"'
    assert response.headers["last-modified"].endswith(" GMT")
    assert response.headers["content-type"] == "application/fhir+json; charset=utf-8"


async def test_postcode_and_city_match_the_start_of_the_value(world: Searchable) -> None:
    async def names(**params: str) -> list[str]:
        bundle = await fhir(world, "Organization", **params)
        return sorted(e["resource"]["name"] for e in bundle["entry"])

    assert await names(**{"address-postalcode": "91"}) == ["Praktijk Creemers"]
    assert len(await names(**{"address-postalcode": "9"})) == 2
    assert await names(**{"address-postalcode": "9160"}) == ["Praktijk Creemers"]
    assert await names(**{"address-city": "lok"}) == ["Praktijk Creemers"]
    assert await names(**{"address-city": "LOKEREN"}) == ["Praktijk Creemers"]
    assert len(await names(**{"address-city": "gent,lokeren"})) == 2
    assert await names(**{"address-city": "gen,lok"}) == []  # several: each a whole name
    assert "whole postcodes" in await refused(
        world, "Organization", **{"address-postalcode": "91,9000"}
    )


async def test_a_modifier_or_a_chain_is_refused_saying_what_is_served(world: Searchable) -> None:
    assert ":contains is not supported" in await refused(
        world, "Practitioner", **{"name:contains": "arc"}
    )
    assert "chained parameter is not supported" in await refused(
        world, "PractitionerRole", **{"practitioner.name": "marc"}
    )


async def test_the_chains_on_a_roles_location_are_its_shorthand(world: Searchable) -> None:
    for chain, shorthand, value in (
        ("location.address-postalcode", "address-postalcode", "9160"),
        ("location.address-city", "address-city", "Lokeren"),
        ("location.near", "near", "51.05|3.72|5|km"),
    ):
        for path in ("PractitionerRole", "HealthcareService"):
            chained = ids(await fhir(world, path, **{chain: value}))
            assert chained, (path, chain)
            assert chained == ids(await fhir(world, path, **{shorthand: value})), (path, chain)
    assert "_sort is not supported" in await refused(world, "Practitioner", _sort="name")


async def test_a_practice_is_an_mcsd_facility_and_searched_by_its_type(
    world: Searchable,
) -> None:
    organization = await fhir(world, f"Organization/{SOLO}")
    codes = {c["code"] for t in organization["type"] for c in t["coding"]}
    assert codes == {"prov", "facility"}
    [location] = (await fhir(world, "Location", organization=SOLO))["entry"]
    assert location["resource"]["type"][0]["coding"][0]["code"] == "facility"
    assert location["resource"]["physicalType"]["coding"][0]["code"] == "bu"

    async def count(path: str, **params: str) -> int:
        return len(ids(await fhir(world, path, **params)))

    system = "https://profiles.ihe.net/ITI/mCSD/CodeSystem/IHE.mCSD.Organization.Location.Types"
    assert await count("Organization", type="facility") == 2
    assert await count("Organization", type=f"{system}|facility") == 2
    assert await count("Organization", type="prov") == 2
    assert await count("Organization", type="dept") == 0
    assert await count("Organization", type="http://example.org|facility") == 0
    assert await count("Location", type="facility,bu") == 2
    assert await count("Location", type="prov") == 0
    # mCSD's identifier and partof: a practice has no identifier on the public topics and
    # is part of no other organization.
    assert await count("Organization", identifier="0123456789") == 0
    assert await count("Location", identifier="0123456789") == 0
    assert await count("HealthcareService", identifier="x") == 0
    assert await count("Organization", partof=f"Organization/{WARM}") == 0


async def test_migration_0012_queues_every_practice_for_its_facility_types(
    world: Searchable,
) -> None:
    engine = world.component.runtime.engine
    await migrate_to(engine, "0011", down=True)
    await migrate_to(engine, "heads")
    async with engine.connect() as connection:
        waiting = await connection.execute(sa.text("SELECT kind, fiche_id FROM projection_pending"))
        assert sorted(waiting.all()) == sorted([("practice", WARM), ("practice", SOLO)])


async def test_a_search_by_post_finds_what_the_same_get_finds(world: Searchable) -> None:
    form = {"specialty": "physician", "_count": "1"}
    posted = await world.http.post("/fhir/PractitionerRole/_search", data=form)
    assert posted.status_code == 200, posted.text
    assert posted.headers["content-type"] == "application/fhir+json; charset=utf-8"
    by_post = valid(posted.json())
    by_get = await fhir(world, "PractitionerRole", **form)
    assert ids(by_post) == ids(by_get)
    links = {link["relation"]: link["url"] for link in by_post["link"]}
    assert links["self"] == "http://test/fhir/PractitionerRole?specialty=physician&_count=1"
    following = await world.http.get(links["next"])
    assert ids(valid(following.json())) != ids(by_post)
    # The query's parameters count too.
    both = await world.http.post(
        "/fhir/PractitionerRole/_search?specialty=nurse", data={"_total": "accurate"}
    )
    assert valid(both.json())["total"] == 1


@pytest.mark.parametrize(
    ("content", "headers", "status", "says"),
    [
        (b'{"name": "marc"}', {"content-type": "application/json"}, 415, "form-urlencoded"),
        (
            b"name=" + b"m" * 20_000,
            {"content-type": "application/x-www-form-urlencoded"},
            413,
            "at most",
        ),
        (b"name=ma%00rc", {"content-type": "application/x-www-form-urlencoded"}, 400, "name"),
        (b"nmae=marc", {"content-type": "application/x-www-form-urlencoded"}, 400, "nmae"),
    ],
)
async def test_a_post_search_refuses_what_is_not_a_search_form(
    world: Searchable, content: bytes, headers: dict[str, str], status: int, says: str
) -> None:
    response = await world.http.post("/fhir/Practitioner/_search", content=content, headers=headers)
    assert response.status_code == status, response.text
    assert says in valid(response.json())["issue"][0]["diagnostics"]


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        ("application/fhir+xml", 406),
        ("application/xml, text/xml", 406),
        ("application/fhir+json", 200),
        ("application/json", 200),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", 200),
        ("*/*", 200),
    ],
)
async def test_an_accept_header_without_json_is_refused(
    world: Searchable, accept: str, status: int
) -> None:
    for path in ("/fhir/metadata", "/fhir/Practitioner", f"/fhir/Practitioner/{MARC}"):
        response = await world.http.get(path, headers={"Accept": accept})
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"] == "application/fhir+json; charset=utf-8"
