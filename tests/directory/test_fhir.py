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
    new_id,
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
    assert response.headers["content-type"] == "application/fhir+json; charset=utf-8"
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
    national = "https://www.ehealth.fgov.be/standards/fhir/core/CodeSystem/cd-hcparty"
    assert nurse["property"] == [
        {"code": "riziv-profession-digit", "valueString": "4"},
        {"code": "cd-hcparty", "valueCoding": {"system": national, "code": "persnurse"}},
    ]
    # Every profession the directory names has its national code.
    assert all(
        any(p["code"] == "cd-hcparty" for p in concept["property"])
        for concept in professions["concept"]
    )


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
    assert (warm["address"][0]["city"], warm["address"][0]["state"]) == ("Gent", "Oost-Vlaanderen")
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
    stamps = {e["resource"]["id"]: e["resource"]["meta"]["lastUpdated"] for e in history["entry"]}
    later = {
        e["resource"]["id"]: e for e in history["entry"] if stamps[e["resource"]["id"]] > before
    }
    assert {i: e["resource"]["active"] for i, e in later.items()} == {MARC: False}
    assert later[MARC]["request"] == {"method": "PUT", "url": f"Practitioner/{MARC}"}
    # `_since` is inclusive (FHIR R4: at or after): what was stamped at `before` is in it.
    assert set(stamps.values()) <= {before, stamps[MARC]}
    # Unchanged resources keep their version: only real changes are history.
    nele = await fhir(world, f"Practitioner/{NELE}")
    assert nele["meta"]["versionId"] == "1"
    # An unlinked offer leaves its role inactive, not gone.
    await world.apply(world.unlink(WARM, NELE, "nurse"))
    role = await fhir(world, "PractitionerRole", practitioner=NELE)
    assert [e["resource"]["active"] for e in role["entry"]] == [False]


async def test_a_depublished_practice_is_inactive_in_every_resource_and_in_the_history(
    world: Searchable,
) -> None:
    before = (await fhir(world, f"Organization/{SOLO}"))["meta"]["lastUpdated"]
    await world.apply(world.practice_gone(SOLO))

    organization = await fhir(world, f"Organization/{SOLO}")
    assert organization["active"] is False
    services = await fhir(world, "HealthcareService", organization=SOLO)
    assert [e["resource"]["active"] for e in services["entry"]] == [False]
    roles = await fhir(world, "PractitionerRole", organization=SOLO)
    assert [e["resource"]["active"] for e in roles["entry"]] == [False]
    locations = await fhir(world, "Location", organization=SOLO)
    assert [e["resource"]["status"] for e in locations["entry"]] == ["inactive"]
    # An agency following _history learns it: a new version, never a silent gap.
    for type_, id_ in (
        ("Organization", SOLO),
        ("HealthcareService", ids(services)[0]),
        ("Location", ids(locations)[0]),
    ):
        history = await fhir(world, f"{type_}/_history", _since=before)
        changed = {e["resource"]["id"]: e["resource"] for e in history["entry"]}
        assert changed[id_].get("active", changed[id_].get("status")) in (False, "inactive")
        assert int(changed[id_]["meta"]["versionId"]) >= 2
    # Marc's other practice is untouched.
    assert (await fhir(world, f"Organization/{WARM}"))["active"] is True


async def test_a_practitioner_the_topic_gives_no_riziv_number_has_no_identifier(
    world: Searchable,
) -> None:
    unnumbered = new_id()
    await world.apply(
        world.provider_event(unnumbered, "Lies", "Peeters", ("nurse",), riziv_number=None)
    )
    lies = await fhir(world, f"Practitioner/{unnumbered}")
    assert "identifier" not in lies
    marc = await fhir(world, f"Practitioner/{MARC}")
    assert [i["value"] for i in marc["identifier"]] == ["11234508003"]


async def _history_walk(world: Searchable, page: dict[str, Any]) -> list[tuple[str, str]]:
    """(id, versionId) of every entry from `page` on, following the `next` links."""
    seen: list[tuple[str, str]] = []
    while True:
        seen += [(e["resource"]["id"], e["resource"]["meta"]["versionId"]) for e in page["entry"]]
        following = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not following:
            return seen
        response = await world.http.get(following[0].replace("http://test", ""))
        assert response.status_code == 200, response.text
        page = valid(response.json())


async def test_a_history_walked_page_by_page_misses_no_change_made_meanwhile(
    world: Searchable,
) -> None:
    """A resource that changes while a client walks the history's pages moves to its end;
    the pages after are walked by key, so none of the others is skipped (with offsets the
    first entry of the next page was never served)."""
    first = await fhir(world, "Practitioner/_history", _count=1)
    [(changed, version)] = [
        (e["resource"]["id"], e["resource"]["meta"]["versionId"]) for e in first["entry"]
    ]
    await world.apply(world.provider_gone(changed))
    rest = await _history_walk(world, first)
    assert rest[0] == (changed, version) and rest[-1] == (changed, str(int(version) + 1))
    assert {resource for resource, _ in rest} == {MARC, NELE}
    assert len(rest) == len(set(rest)) == 3


async def test_history_since_is_inclusive(world: Searchable) -> None:
    """FHIR R4's `_since`: changes at or after it. Asked again from the lastUpdated of the
    last entry seen, the history holds that entry again (a poller skips the versions it
    has) and every change stamped at that same moment."""
    everything = await fhir(world, "Practitioner/_history")
    last = everything["entry"][-1]["resource"]["meta"]["lastUpdated"]
    again = await fhir(world, "Practitioner/_history", _since=last)
    at_last = [
        e["resource"]["id"]
        for e in everything["entry"]
        if e["resource"]["meta"]["lastUpdated"] == last
    ]
    assert [e["resource"]["id"] for e in again["entry"]] == at_last != []


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"_count": "abc"}, "_count: 'abc' is not a whole number"),
        ({"_count": "0"}, "_count: between 1 and"),
        ([("_since", "2026-01-01"), ("_since", "2026-02-01")], "_since: given twice"),
        ({"_sinse": "2026-01-01"}, "unknown parameter '_sinse'"),
        ({"_since": "2026-11-29T08:00:00 01:00"}, "%2B01:00"),
        ({"_page_after": "2026-11-29T08:00:00Z"}, "follow the Bundle's next link"),
    ],
)
async def test_a_refused_history_request_names_its_parameter(
    world: Searchable, params: Any, says: str
) -> None:
    response = await world.http.get("/fhir/Practitioner/_history", params=params)
    assert response.status_code == 400, response.text
    assert says in valid(response.json())["issue"][0]["diagnostics"]


async def test_an_include_asked_the_other_way_round_says_so(world: Searchable) -> None:
    response = await world.http.get(
        "/fhir/Practitioner", params={"_include": "PractitionerRole:practitioner"}
    )
    assert response.status_code == 400, response.text
    said = valid(response.json())["issue"][0]["diagnostics"]
    assert "with _revinclude: PractitionerRole:practitioner" in said


async def test_near_beyond_the_largest_circle_is_refused(world: Searchable) -> None:
    """As the search's `radius_km` and HSDS's `proximity`: at most DIRECTORY_NEAR_RADIUS_KM_MAX."""
    response = await world.http.get("/fhir/Location", params={"near": "51.05|3.72|150|km"})
    assert response.status_code == 400, response.text
    assert "at most 100 km" in valid(response.json())["issue"][0]["diagnostics"]
    within = await fhir(world, "Location", near="51.05|3.72|100000|m")
    assert len(ids(within)) > 0


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("Practitioner", {"nmae": "marc"}),
        ("Practitioner", {"address-postalcode": "9000"}),
        ("PractitionerRole", {"_count": "-1"}),
        ("PractitionerRole", {"_include": "PractitionerRole:endpoint"}),
        ("Location", {"near": "north"}),
        ("Organization", {"_lastUpdated": "yesterday"}),
        ("PractitionerRole", {"practitioner": "Organization/123"}),
        ("Organization", {"_lastUpdated": "ne2026-11-29"}),
        ("Location", {"status": "closed"}),
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
        ("GET", "/fhir", 404, "/fhir/metadata lists"),
        ("GET", "/fhir/_history", 404, "/fhir/{type}/_history"),
        ("GET", "/fhir/Practitioners", 404, "this server serves Practitioner, "),
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
    assert response.headers["content-type"] == "application/fhir+json; charset=utf-8"
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
