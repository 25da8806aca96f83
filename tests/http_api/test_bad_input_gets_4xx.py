"""Inputs that used to give a server error get a 4xx problem naming the field, and
change nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from fiches.adapters.tables import fiche_requests, practice_fiches
from tests.fiches.conftest import FichesUnderTest, User
from tests.fiches.test_guide_scenarios import WARMSTE_TEAM, create
from tests.support.problems import error_locs, problem_of

PRACTICE_JSON = (
    '{"names": [{"name": "NAME", "preferred": true}], "addresses": [{"street": "Kouter", '
    '"number": "1", "postcode": "9000", "municipality": "Gent"}], "offers": ["physician"]}'
)


async def send(
    fiches: FichesUnderTest, method: str, url: str, who: User, content: str | bytes | None = None
) -> httpx.Response:
    """A request with a raw JSON body, as a client that escapes nothing would send it."""
    headers = {**fiches.headers(who), "Content-Type": "application/json"}
    return await fiches.http.request(method, url, headers=headers, content=content)


async def test_a_lone_surrogate_in_a_json_body_is_refused_naming_the_field(
    fiches: FichesUnderTest,
) -> None:
    marc = await fiches.professional("marc", ("physician",))
    response = await send(
        fiches, "POST", "/api/fiches/practices", marc, PRACTICE_JSON.replace("NAME", "P \\ud800")
    )
    problem = problem_of(response, 422)
    assert error_locs(response) == [["body", "names", 0, "name"]]
    assert "surrogate" in problem["errors"][0]["message"]
    assert await fiches.count(practice_fiches) == 0


@pytest.mark.parametrize(
    "where",
    [
        pytest.param(("POST", "/api/fiches/practices", "body"), id="name-in-body"),
        pytest.param(("GET", "/api/fiches/providers?name=jan%00", "query"), id="filter"),
        pytest.param(("GET", "/api/fiches/providers?professional_id=%00", "query"), id="id"),
        pytest.param(("GET", "/api/fiches/providers/abc%00def", "path"), id="path-id"),
        pytest.param(("GET", "/api/fiches/practices/%00/managers", "path"), id="path-id-auth"),
    ],
)
async def test_a_nul_character_in_names_filters_and_path_ids_is_refused(
    fiches: FichesUnderTest, where: tuple[str, str, str]
) -> None:
    method, url, location = where
    marc = await fiches.professional("marc", ("physician",))
    body = PRACTICE_JSON.replace("NAME", "Praktijk\\u0000") if method == "POST" else None
    response = await send(fiches, method, url, marc, body)
    problem = problem_of(response, 422)
    assert [e["location"] for e in problem["errors"]] == [location]
    assert "NUL" in problem["errors"][0]["message"]
    assert await fiches.count(practice_fiches) == 0


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/fiches/providers?offset=9223372036854775808", "offset"),
        ("/api/fiches/providers?limit=9223372036854775808", "limit"),
        ("/api/fiches/team/requests?offset=10000000000000000000", "offset"),
        ("/api/fiches/team/requests?limit=-1", "limit"),
    ],
)
async def test_page_numbers_out_of_range_are_refused(
    fiches: FichesUnderTest, url: str, param: str
) -> None:
    team = fiches.team()
    response = await fiches.request("GET", url, team)
    problem_of(response, 422)
    assert error_locs(response) == [["query", param]]


async def test_a_restore_version_past_int32_is_refused(fiches: FichesUnderTest) -> None:
    marc = await fiches.professional("marc", ("physician",))
    practice = await create(fiches, marc, WARMSTE_TEAM, ["physician"])
    team = fiches.team()
    for url in (
        f"/api/fiches/practices/{practice}/history/4294967296/restore",
        f"/api/fiches/providers/{marc.fiche_id}/history/2147483648/restore",
    ):
        response = await fiches.request("POST", url, team)
        problem_of(response, 422)
        assert error_locs(response) == [["path", "version"]]


async def test_unknown_body_fields_are_refused_not_dropped(fiches: FichesUnderTest) -> None:
    marc = await fiches.professional("marc", ("physician",))
    practice = await create(fiches, marc, WARMSTE_TEAM, ["physician"])
    response = await fiches.request(
        "POST",
        f"/api/fiches/practices/{practice}/rights-requests",
        fiches.citizen("secretaris"),
        json={"motivation": "Ik doe het onthaal", "urgent": True},
    )
    problem_of(response, 422)
    assert error_locs(response) == [["body", "urgent"]]
    async with fiches.component.runtime.sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(fiche_requests)) == 0


async def test_a_body_that_is_not_json_is_a_400_problem(fiches: FichesUnderTest) -> None:
    marc = await fiches.professional("marc", ("physician",))
    response = await send(fiches, "POST", "/api/fiches/practices", marc, b'{"names": [')
    assert problem_of(response, 400)["code"] == "malformed_json"


async def test_a_negative_limit_on_the_sync_runs_is_refused(
    database_url_factory: Any, tmp_path: Path
) -> None:
    from tests.http_api.test_fuzz_every_api import SERVICES

    url = await database_url_factory("registry-sync")
    async with (
        SERVICES["registry-sync"](url, tmp_path) as (app, _),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        response = await client.get("/api/registry-sync/runs", params={"limit": -1})
        problem_of(response, 422)
        assert error_locs(response) == [["query", "limit"]]
        nul = await client.get("/api/registry-sync/runs/%00")
        assert error_locs(nul) == [["path"]]
