"""`Practitioner?identifier=`, `family=` and `given=` (IHE mCSD ITI-90): a practitioner
found by their RIZIV/INAMI number, with or without its system, and by the parts of their
official name, also once depublished (then `active: false`); and migration 0009, which
writes those terms for the practitioners stored before it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from directory.domain.fhir import RIZIV_SYSTEM
from tests.directory.support import Searchable, migrate_to, searchable_directory
from tests.directory.test_fhir import valid

MARC, NELE, ANNE = "pv-marc", "pv-nele", "pv-anne"
MARCS_NUMBER, NELES_NUMBER = "11234508003", "41234567401"


@pytest.fixture
async def world(database_url_factory: Any, tmp_path: Path) -> AsyncIterator[Searchable]:
    url = await database_url_factory("directory")
    # No response cache: the migration test asks the same question before and after.
    async with searchable_directory(url, tmp_path, response_cache_entries=0) as directory:
        await directory.apply(
            directory.provider_event(MARC, "Marc", "Creemers", riziv_number=MARCS_NUMBER),
            directory.provider_event(
                NELE, "Nele", "Van Schelvergem", ("nurse",), riziv_number=NELES_NUMBER
            ),
            # A psychologist's public profession carries no RIZIV number.
            directory.provider_event(
                ANNE, "Anne-Sophie", "Peeters", ("psychologist",), riziv_number=None
            ),
        )
        yield directory


async def found(world: Searchable, identifier: str = "", **params: str) -> list[str]:
    if identifier:
        params["identifier"] = identifier
    response = await world.http.get("/fhir/Practitioner", params=params)
    assert response.status_code == 200, response.text
    bundle = valid(response.json())
    return sorted(entry["resource"]["id"] for entry in bundle.get("entry", []))


@pytest.mark.parametrize(
    ("identifier", "ids"),
    [
        (MARCS_NUMBER, [MARC]),
        (f"{RIZIV_SYSTEM}|{MARCS_NUMBER}", [MARC]),
        ("1-12345-08-003", [MARC]),  # as the number is often written
        ("4.12345.67.401", [NELE]),
        (f"{MARCS_NUMBER},{NELES_NUMBER}", [MARC, NELE]),  # any of them
        (f"|{MARCS_NUMBER}", []),  # no system: every one of ours has one
        (f"https://example.org/other|{MARCS_NUMBER}", []),
        ("11234508", []),  # a value is matched whole, not by its start
    ],
)
async def test_a_practitioner_is_found_by_identifier(
    world: Searchable, identifier: str, ids: list[str]
) -> None:
    assert await found(world, identifier) == ids


@pytest.mark.parametrize(
    ("params", "ids"),
    [
        ({"family": "creem"}, [MARC]),
        ({"family": "Van Schel"}, [NELE]),  # every word starts a word of the family name
        ({"family": "schelvergem"}, [NELE]),
        ({"family": "marc"}, []),  # a given name, not a family name
        ({"given": "MA"}, [MARC]),
        ({"given": "sophie"}, [ANNE]),  # Anne-Sophie: two words
        ({"given": "anne", "family": "peeters"}, [ANNE]),
        ({"given": "anne", "family": "creemers"}, []),
        ({"given": "nele", "identifier": NELES_NUMBER}, [NELE]),
    ],
)
async def test_a_practitioner_is_found_by_the_parts_of_their_name(
    world: Searchable, params: dict[str, str], ids: list[str]
) -> None:
    assert await found(world, **params) == ids


async def test_a_depublished_practitioner_is_still_found_inactive(world: Searchable) -> None:
    await world.apply(world.provider_gone(NELE))
    response = await world.http.get("/fhir/Practitioner", params={"identifier": NELES_NUMBER})
    entries = valid(response.json())["entry"]
    assert [(e["resource"]["id"], e["resource"]["active"]) for e in entries] == [(NELE, False)]


@pytest.mark.parametrize(
    ("name", "value"), [("identifier", f"{RIZIV_SYSTEM}|"), ("identifier", ","), ("family", "-")]
)
async def test_a_parameter_without_a_value_is_refused(
    world: Searchable, name: str, value: str
) -> None:
    response = await world.http.get("/fhir/Practitioner", params={name: value})
    assert response.status_code == 400, response.text
    assert name in valid(response.json())["issue"][0]["diagnostics"]


async def test_these_are_practitioner_parameters_only(world: Searchable) -> None:
    for name in ("identifier", "family", "given"):
        response = await world.http.get("/fhir/PractitionerRole", params={name: "x"})
        assert response.status_code == 400
    metadata = (await world.http.get("/fhir/metadata")).json()
    parameters = {
        resource["type"]: {p["name"]: p["type"] for p in resource["searchParam"]}
        for resource in metadata["rest"][0]["resource"]
    }
    assert parameters["Practitioner"]["identifier"] == "token"
    assert parameters["Practitioner"]["family"] == parameters["Practitioner"]["given"] == "string"
    assert not {"identifier", "family", "given"} & set(parameters["PractitionerRole"])


async def test_the_migration_writes_the_terms_of_practitioners_stored_before(
    world: Searchable,
) -> None:
    engine = world.component.runtime.engine
    await migrate_to(engine, "0008", down=True)
    assert await found(world, MARCS_NUMBER) == []
    assert await found(world, family="van", given="nele") == []
    await migrate_to(engine, "heads")
    assert await found(world, MARCS_NUMBER) == [MARC]
    assert await found(world, f"{RIZIV_SYSTEM}|{NELES_NUMBER}") == [NELE]
    assert await found(world, family="van", given="nele") == [NELE]
    assert await found(world, given="sophie") == [ANNE]
    # The same terms as the projection writes: rebuilding changes none of them.
    await world.apply(world.provider_event(MARC, "Marc", "Creemers", update=True))
    assert await found(world, MARCS_NUMBER) == [MARC]
