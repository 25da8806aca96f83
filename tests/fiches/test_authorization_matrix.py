"""Who may call which write endpoint: every endpoint by every kind of caller.

The matrix is generated from one declaration per endpoint (who is allowed; the rest is
refused): anonymous callers get 401, callers without rights 403 with a reason and no
change at all (no row, no event), allowed callers a 2xx (or the conflict the world
explains, e.g. a manager asking to link to their own practice).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fiches.adapters.export_tables import fiche_exports
from fiches.adapters.tables import (
    fiche_history,
    fiche_requests,
    outbox,
    practice_fiches,
    practice_managers,
    practice_offers,
    provider_fiches,
)
from tests.fiches.conftest import FichesUnderTest, User, _fiches
from tests.fiches.test_guide_scenarios import SOLO, WARMSTE_TEAM
from tests.support.problems import problem_of

CALLERS = ("anonymous", "citizen", "other_professional", "owner", "team")


@dataclass
class World:
    """A published practice P managed by Marc (and a co-manager), open requests on it."""

    fiches: FichesUnderTest
    ids: dict[str, str] = field(default_factory=dict)

    def caller(self, name: str) -> User | None:
        return {
            "anonymous": None,
            "citizen": self.fiches.users.get("citizen"),
            "other_professional": self.fiches.users.get("nele"),
            "owner": self.fiches.users.get("marc"),
            "team": self.fiches.users.get("team"),
        }[name]


async def build_world(fiches: FichesUnderTest) -> World:
    world = World(fiches)
    marc = await fiches.professional("marc", ("physician",))
    await fiches.professional("nele", ("nurse",))
    jan = await fiches.professional("jan", ("physiotherapist",))
    co = fiches.citizen("co")
    fiches.citizen("citizen")
    team = fiches.team()
    created = await fiches.request(
        "POST",
        "/api/fiches/practices?publish=true",
        marc,
        json={**WARMSTE_TEAM, "offers": ["physician"]},
    )
    practice = created.json()["practice_id"]
    granted = await fiches.request(
        "POST", f"/api/fiches/practices/{practice}/managers", marc, json={"email": co.email}
    )
    assert granted.status_code == 200, granted.text
    fiches.citizen("grantee")  # a known user the endpoint below grants rights to
    await fiches.request(
        "PUT", f"/api/fiches/providers/{marc.fiche_id}/edit", marc, json={"languages": ["nl"]}
    )

    async def submit(url: str, body: dict[str, Any], who: User) -> str:
        response = await fiches.request("POST", url, who, json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["request_id"])

    world.ids = {
        "P": practice,
        "M": str(marc.fiche_id),
        "marc_pid": str(marc.professional_id),
        "co": co.user_id,
        "R_link": await submit(
            f"/api/fiches/practices/{practice}/link-requests",
            {"professions": ["physiotherapist"]},
            jan,
        ),
        "R_rights": await submit(f"/api/fiches/practices/{practice}/rights-requests", {}, jan),
        "R_removal": await submit(
            "/api/fiches/removal-requests",
            {"fiche_type": "practice", "fiche_id": practice, "reason": "gestopt"},
            jan,
        ),
    }
    exported = await fiches.request("POST", "/api/fiches/exports", marc, json={})
    assert exported.status_code == 202, exported.text
    world.ids["E"] = str(exported.json()["export_id"])
    assert team
    return world


def link_body(user: User | None) -> dict[str, Any]:
    return {"professions": list(user.professions) if user and user.professions else ["nurse"]}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    allowed: frozenset[str]
    body: Callable[[User | None], Any] | None = None
    #: Allowed callers whose call the world answers with another 2xx/4xx than success.
    outcome: dict[str, int] = field(default_factory=dict)
    #: What a logged-in caller without rights gets: 403, or 404 where even the existence
    #: of the resource is nobody else's business (someone's export).
    refused: int = 403


def ep(
    method: str,
    path: str,
    allowed: str,
    body: Callable[[User | None], Any] | Any = None,
    *,
    refused: int = 403,
    **outcome: int,
) -> Endpoint:
    make = body if callable(body) or body is None else (lambda _user, b=body: b)
    return Endpoint(method, path, frozenset(allowed.split()), make, outcome, refused)


EVERYONE = "citizen other_professional owner team"
OWNER_TEAM = "owner team"

ENDPOINTS = [
    ep("POST", "/api/fiches/practices", EVERYONE, SOLO),
    ep("GET", "/api/fiches/practices/{P}/edit", OWNER_TEAM),
    ep("PUT", "/api/fiches/practices/{P}/edit", OWNER_TEAM, WARMSTE_TEAM),
    ep("POST", "/api/fiches/practices/{P}/publish", OWNER_TEAM),
    ep("POST", "/api/fiches/practices/{P}/offers", "owner", link_body),
    ep("DELETE", "/api/fiches/practices/{P}/offers/{marc_pid}/physician", OWNER_TEAM),
    ep("GET", "/api/fiches/practices/{P}/managers", OWNER_TEAM),
    ep("POST", "/api/fiches/practices/{P}/managers", OWNER_TEAM, {"email": "grantee@example.be"}),
    ep("DELETE", "/api/fiches/practices/{P}/managers/{co}", OWNER_TEAM),
    ep("GET", "/api/fiches/practices/{P}/history", OWNER_TEAM),
    ep("POST", "/api/fiches/practices/{P}/history/1/restore", "team"),
    ep("GET", "/api/fiches/practices/{P}/requests", OWNER_TEAM),
    ep(
        "POST",
        "/api/fiches/practices/{P}/link-requests",
        "other_professional owner",
        link_body,
        owner=409,
    ),
    ep(
        "POST",
        "/api/fiches/practices/{P}/rights-requests",
        "citizen other_professional owner team",
        {},
        owner=409,
    ),
    ep(
        "POST",
        "/api/fiches/practices/{P}/proposals",
        EVERYONE,
        {"changes": {"wijken": ["Brugse Poort"]}},
    ),
    ep(
        "POST",
        "/api/fiches/removal-requests",
        EVERYONE,
        {"fiche_type": "provider", "fiche_id": "{M}", "reason": "verhuisd"},
    ),
    ep("POST", "/api/fiches/providers/{M}/source-errors", OWNER_TEAM, {"description": "typo"}),
    ep("GET", "/api/fiches/me/requests", EVERYONE),
    ep("POST", "/api/fiches/requests/{R_link}/decision", OWNER_TEAM, {"decision": "approved"}),
    ep("POST", "/api/fiches/requests/{R_rights}/decision", "team", {"decision": "approved"}),
    ep("POST", "/api/fiches/requests/{R_removal}/decision", "team", {"decision": "declined"}),
    ep("GET", "/api/fiches/team/requests", "team"),
    ep("GET", "/api/fiches/providers/{M}/edit", OWNER_TEAM),
    ep("PUT", "/api/fiches/providers/{M}/edit", OWNER_TEAM, {"preferred_name": "Marco"}),
    ep("POST", "/api/fiches/providers/{M}/publish", OWNER_TEAM),
    ep(
        "DELETE",
        "/api/fiches/providers/{M}/offers/{P}/physician?confirm=true&publish=true",
        OWNER_TEAM,
    ),
    ep("GET", "/api/fiches/providers/{M}/history", OWNER_TEAM),
    ep("POST", "/api/fiches/providers/{M}/history/1/restore", "team"),
    ep("GET", "/api/fiches/me/map-status", "other_professional owner"),
    ep("GET", "/api/fiches/me/managed-practices", EVERYONE),
    ep("POST", "/api/fiches/exports", EVERYONE, {"formats": ["csv", "json"]}),
    ep("GET", "/api/fiches/exports", EVERYONE),  # each sees only their own (test_exports.py)
    ep("GET", "/api/fiches/exports/{E}", "owner", refused=404),
]


def expected_status(endpoint: Endpoint, caller: str) -> int | None:
    """401, 403, a specific status, or None for "any 2xx"."""
    if caller == "anonymous":
        return 401
    if caller not in endpoint.allowed:
        return endpoint.refused
    return endpoint.outcome.get(caller)


def fill(template: Any, ids: dict[str, str]) -> Any:
    if isinstance(template, str):
        return template.format(**ids)
    if isinstance(template, dict):
        return {key: fill(value, ids) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, ids) for value in template]
    return template


STATE_TABLES = (
    fiche_exports,
    practice_fiches,
    practice_offers,
    practice_managers,
    fiche_history,
    fiche_requests,
    provider_fiches,
    outbox,
)


async def state(fiches: FichesUnderTest) -> dict[str, Any]:
    """Everything the write API can change, to prove a refused call changed nothing."""
    async with fiches.component.runtime.sessions() as session:
        return {
            table.name: sorted(str(tuple(row)) for row in await session.execute(sa.select(table)))
            for table in STATE_TABLES
        }


async def call(world: World, endpoint: Endpoint, caller: str) -> Any:
    user = world.caller(caller)
    body = fill(endpoint.body(user), world.ids) if endpoint.body else None
    return await world.fiches.request(
        endpoint.method,
        fill(endpoint.path, world.ids),
        user,
        **({"json": body} if body is not None else {}),
    )


@pytest.fixture
async def worlds(tmp_path: Path) -> AsyncIterator[Callable[[], Any]]:
    """Fresh worlds on SQLite (one per allowed caller; refused callers share one)."""
    opened: list[AsyncIterator[FichesUnderTest]] = []

    async def make() -> World:
        folder = tmp_path / f"world-{len(opened)}"
        folder.mkdir()
        generator = _fiches(f"sqlite+aiosqlite:///{folder / 'fiches.db'}", folder)
        opened.append(generator)
        return await build_world(await anext(generator))

    yield make
    for generator in opened:
        await generator.aclose()


@pytest.mark.parametrize(
    "endpoint", ENDPOINTS, ids=[f"{e.method} {e.path.split('?')[0]}" for e in ENDPOINTS]
)
async def test_each_caller_gets_exactly_their_rights(
    worlds: Callable[[], Any], endpoint: Endpoint
) -> None:
    shared = await worlds()
    before = await state(shared.fiches)
    for caller in CALLERS:
        if caller != "anonymous" and caller in endpoint.allowed:
            continue
        expected = expected_status(endpoint, caller)
        response = await call(shared, endpoint, caller)
        assert response.status_code == expected, (caller, response.text)
        assert problem_of(response)["detail"], "a refusal says why"
        assert await state(shared.fiches) == before, f"{caller}'s refused call changed state"
    for caller in sorted(endpoint.allowed):
        world = await worlds()
        response = await call(world, endpoint, caller)
        expected = expected_status(endpoint, caller)
        if expected is None:
            assert 200 <= response.status_code < 300, (caller, response.text)
        else:
            assert response.status_code == expected, (caller, response.text)


def test_the_matrix_covers_every_authenticated_route(tmp_path: Path) -> None:
    """A new route behind a login must be declared above, or this test fails."""
    from fastapi.routing import APIRoute

    from fiches.config import FichesSettings
    from fiches.entrypoints.app import build_component
    from servicekit.settings import KafkaSettings, PlatformSettings

    component = build_component(
        PlatformSettings(data_dir=tmp_path),
        KafkaSettings(),
        FichesSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'f.db'}"),
    )
    public = {"/api/fiches/providers", "/api/fiches/providers/{fiche_id}"}
    public |= {"/api/fiches/practices/{practice_id}", "/api/fiches/search"}
    # Opened by its signed, expiring link (tests/fiches_exports/test_exports.py), not a login.
    public |= {"/api/fiches/exports/{export_id}/download"}
    ids = {key: f"x-{key}" for key in ("P", "M", "marc_pid", "co", "R_link", "R_rights", "E")}
    ids["R_removal"] = "x-R_removal"
    declared = [(e.method, fill(e.path.split("?")[0], ids)) for e in ENDPOINTS]
    uncovered = []
    for router in component.routers:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            if route.path in public and route.methods == {"GET"}:
                continue
            if not any(
                method in route.methods and route.path_regex.match(path)
                for method, path in declared
            ):
                uncovered.append((sorted(route.methods), route.path))
    assert not uncovered, f"routes missing from the authorization matrix: {uncovered}"
