"""FHIR R4 at /fhir (IHE mCSD): every resource validates, searches find exactly what they
ask for, and what leaves the map stays visible as inactive."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from directory.domain.fhir import PROFESSION_SYSTEM
from tests.directory.support import (
    MARC,
    NELE,
    SOLO,
    WARM,
    Searchable,
    searchable_directory,
    two_practices,
)


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource, after `fhir.resources` (R4B models, the R4 structures for these
    resources) accepted it; nested Bundle entries are checked as their own types."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    for entry in resource.get("entry", []):
        valid(entry["resource"])
    return resource


@pytest.fixture
async def world(database_url_factory: Any, tmp_path: Path) -> AsyncIterator[Searchable]:
    async with searchable_directory(await database_url_factory("directory"), tmp_path) as directory:
        await two_practices(directory)
        yield directory


async def fhir(world: Searchable, path: str, **params: Any) -> dict[str, Any]:
    response = await world.http.get(f"/fhir/{path}", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    return valid(response.json())


def ids(bundle: dict[str, Any], mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == mode]


async def all_pages(world: Searchable, path: str, **params: Any) -> list[str]:
    """The matches of every page of a search, following the Bundles' `next` links."""
    seen: list[str] = []
    page = await fhir(world, path, **params)
    while True:
        seen += ids(page)
        following = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not following:
            return seen
        response = await world.http.get(following[0].replace("http://test", ""))
        page = valid(response.json())


async def test_metadata_and_the_profession_code_system_validate(world: Searchable) -> None:
    capability = await fhir(world, "metadata")
    assert capability["fhirVersion"] == "4.0.1"
    types = {r["type"] for r in capability["rest"][0]["resource"]}
    assert types == {
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Location",
        "HealthcareService",
    }
    professions = await fhir(world, "CodeSystem/profession")
    nurse = next(c for c in professions["concept"] if c["code"] == "nurse")
    assert {d["language"]: d["value"] for d in nurse["designation"]} == {
        "nl": "verpleegkundige",
        "fr": "infirmier",
        "en": "nurse",
    }
    assert nurse["property"] == [{"code": "riziv-profession-digit", "valueString": "4"}]


async def test_every_resource_type_reads_and_validates(world: Searchable) -> None:
    for type_ in (
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Location",
        "HealthcareService",
    ):
        bundle = await fhir(world, type_, _count=50)
        assert bundle["entry"], type_
        for entry in bundle["entry"]:
            one = await fhir(world, f"{type_}/{entry['resource']['id']}")
            assert one["id"] == entry["resource"]["id"]
            assert one["meta"]["versionId"] == "1"
    marc = await fhir(world, f"Practitioner/{MARC}")
    assert marc["active"] is True
    assert marc["name"][0] == {"use": "official", "family": "Creemers", "given": ["Marc"]}
    assert marc["identifier"] == [
        {
            "use": "official",
            "system": "https://www.riziv.fgov.be/nihdi-number",
            "value": "11234508003",
        }
    ]
    assert [c["coding"][0]["code"] for c in marc["communication"]] == ["fr", "nl"]
    warm = await fhir(world, f"Organization/{WARM}")
    assert warm["address"][0]["postalCode"] == "9000"
    missing = await world.http.get("/fhir/Practitioner/nobody")
    assert missing.status_code == 404
    assert missing.json()["resourceType"] == "OperationOutcome"


async def test_searches_per_mcsd(world: Searchable) -> None:
    assert ids(await fhir(world, "Practitioner", name="creem")) == [MARC]
    assert ids(await fhir(world, "Organization", **{"address-postalcode": "9160"})) == [SOLO]
    assert ids(await fhir(world, "Organization", **{"address-city": "gent"})) == [WARM]
    roles = await fhir(world, "PractitionerRole", practitioner=f"Practitioner/{MARC}")
    assert len(ids(roles)) == 2
    assert {r["resource"]["organization"]["reference"] for r in roles["entry"]} == {
        f"Organization/{WARM}",
        f"Organization/{SOLO}",
    }
    nurses = await fhir(
        world, "PractitionerRole", specialty=f"{PROFESSION_SYSTEM}|nurse", organization=WARM
    )
    assert [e["resource"]["practitioner"]["reference"] for e in nurses["entry"]] == [
        f"Practitioner/{NELE}"
    ]
    in_gent = await fhir(world, "PractitionerRole", **{"address-postalcode": "9000"})
    assert len(ids(in_gent)) == 2
    location = ids(await fhir(world, "Location", organization=SOLO))[0]
    at = await fhir(world, "PractitionerRole", location=f"Location/{location}")
    assert [e["resource"]["practitioner"]["reference"] for e in at["entry"]] == [
        f"Practitioner/{MARC}"
    ]
    near = await fhir(world, "Location", near="51.054|3.725|5|km")  # Gent
    assert [e["resource"]["managingOrganization"]["reference"] for e in near["entry"]] == [
        f"Organization/{WARM}"
    ]
    services = await fhir(world, "HealthcareService", organization=WARM)
    assert sorted(
        e["resource"]["specialty"][0]["coding"][0]["code"] for e in services["entry"]
    ) == ["nurse", "physician"]


async def test_include_revinclude_and_paging(world: Searchable) -> None:
    bundle = await fhir(
        world,
        "PractitionerRole",
        organization=WARM,
        _include=["PractitionerRole:practitioner", "PractitionerRole:location"],
    )
    assert len(ids(bundle)) == 2
    included = {
        (e["resource"]["resourceType"], e["resource"]["id"])
        for e in bundle["entry"]
        if e["search"]["mode"] == "include"
    }
    assert ("Practitioner", MARC) in included and ("Practitioner", NELE) in included
    assert any(t == "Location" for t, _ in included)
    rev = await fhir(world, "Practitioner", _id=MARC, _revinclude="PractitionerRole:practitioner")
    assert ids(rev) == [MARC] and len(ids(rev, "include")) == 2
    seen = await all_pages(world, "PractitionerRole", _count=1)
    assert len(seen) == 3 == len(set(seen))


async def test_a_depublished_provider_is_inactive_and_in_the_history(world: Searchable) -> None:
    before = (await fhir(world, f"Practitioner/{MARC}"))["meta"]["lastUpdated"]
    await world.apply(world.provider_gone(MARC))
    marc = await fhir(world, f"Practitioner/{MARC}")
    assert marc["active"] is False and marc["meta"]["versionId"] == "2"
    roles = await fhir(world, "PractitionerRole", practitioner=MARC, active="false")
    assert len(ids(roles)) == 2
    assert ids(await fhir(world, "PractitionerRole", practitioner=MARC, active="true")) == []
    history = await fhir(world, "Practitioner/_history", _since=before)
    changed = {e["resource"]["id"]: e["resource"]["active"] for e in history["entry"]}
    assert changed == {MARC: False}
    assert history["entry"][0]["request"] == {"method": "PUT", "url": f"Practitioner/{MARC}"}
    # Unchanged resources keep their version: only real changes are history.
    nele = await fhir(world, f"Practitioner/{NELE}")
    assert nele["meta"]["versionId"] == "1"
    # An unlinked offer leaves its role inactive, not gone.
    await world.apply(world.unlink(WARM, NELE, "nurse"))
    role = await fhir(world, "PractitionerRole", practitioner=NELE)
    assert [e["resource"]["active"] for e in role["entry"]] == [False]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("Practitioner", {"nmae": "marc"}),
        ("Practitioner", {"address-postalcode": "9000"}),
        ("PractitionerRole", {"_count": "0"}),
        ("PractitionerRole", {"_include": "PractitionerRole:endpoint"}),
        ("Location", {"near": "north"}),
        ("Organization", {"_lastUpdated": "yesterday"}),
        ("PractitionerRole", {"specialty": "http://snomed.info/sct|123"}),
        ("Practitioner/_history", {"_since": "soon"}),
        # Before year 1 in UTC: once a server error on PostgreSQL.
        ("Practitioner/_history", {"_since": "0001-01-01T00:00:00+14:00"}),
        ("Organization", {"_lastUpdated": "ge0001-01-01T00:00:00+14:00"}),
    ],
)
async def test_refused_searches_say_why(
    world: Searchable, path: str, params: dict[str, str]
) -> None:
    response = await world.http.get(f"/fhir/{path}", params=params)
    assert response.status_code == 400, response.text
    body = valid(response.json())
    assert body["resourceType"] == "OperationOutcome"
    assert next(iter(params)) in body["issue"][0]["diagnostics"]


@pytest.mark.parametrize(
    ("method", "path", "status", "says"),
    [
        ("GET", "/fhir/Practitioner/some-id/extra", 404, "/fhir/metadata lists"),
        ("GET", "/fhir/", 404, "no FHIR endpoint"),
        ("POST", "/fhir/Practitioner", 405, "read-only"),
        ("PUT", "/fhir/Practitioner/some-id", 405, "read-only"),
        ("DELETE", "/fhir/Organization/some-id", 405, "read-only"),
    ],
)
async def test_what_no_endpoint_takes_is_an_operation_outcome(
    world: Searchable, method: str, path: str, status: int, says: str
) -> None:
    response = await world.http.request(method, path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    body = valid(response.json())
    assert body["resourceType"] == "OperationOutcome"
    assert says in body["issue"][0]["diagnostics"]


async def test_nothing_the_public_topics_never_carried(world: Searchable) -> None:
    await world.apply(
        world.provider_event(NELE, "Nele", "Van Schelvergem", ("psychologist",), update=True)
    )
    for type_ in (
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Location",
        "HealthcareService",
    ):
        body = (await world.http.get(f"/fhir/{type_}", params={"_count": 50})).text
        assert "prof-" not in body  # the registry's person ids
        assert "@" not in body  # no e-mail address
        assert "revision" not in body  # no edit or publication version of fiches
    nele = await fhir(world, f"Practitioner/{NELE}")
    assert nele["identifier"][0]["value"] == "11234508003"
