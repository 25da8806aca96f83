"""Every service's HTTP API, fuzzed from its OpenAPI on SQLite and PostgreSQL: no request,
valid or not, gets a server error, and every error answer is problem details.

Each service runs in-process on a migrated, empty database (no broker: what a request
publishes waits in the outbox). Logged-in endpoints get a valid access token of a
professional who is also on the editorial team, so valid requests reach the code behind
the login check. docs/operations.md says how to run more cases when hunting.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from contracts.events.identity import Role
from servicekit.component import ServiceComponent
from servicekit.http import api_app
from servicekit.settings import KafkaSettings, PlatformSettings
from tests.http_api.fuzzing import CASES_PER_OPERATION, fuzz
from tests.support.auth import TokenSigner

#: No broker: nothing in these tests starts a producer or a consumer.
NO_BROKER = KafkaSettings(bootstrap_servers="127.0.0.1:1")
REDIS_URL = "redis://127.0.0.1:6379/0"

Served = tuple[FastAPI, dict[str, str]]


def _app(component: ServiceComponent) -> FastAPI:
    app = api_app()
    for router in component.api_routers():
        app.include_router(router)
    return app


def _team_professional(signer: TokenSigner, professional_id: str | None = None) -> dict[str, str]:
    return signer.headers(
        str(uuid.uuid4()),
        roles=(Role.PROFESSIONAL, Role.TEAM),
        professional_id=professional_id or str(uuid.uuid4()),
        professions=("physician", "nurse"),
        lifetime=timedelta(hours=1),
    )


@asynccontextmanager
async def _fiches(url: str, tmp_path: Path) -> AsyncIterator[Served]:
    from tests.fiches.conftest import _fiches as fiches_under_test

    async for fiches in fiches_under_test(url, tmp_path):
        marc = await fiches.professional("marc", ("physician",))
        yield _app(fiches.component), _team_professional(fiches.signer, marc.professional_id)


@asynccontextmanager
async def _invitations(url: str, tmp_path: Path) -> AsyncIterator[Served]:
    from tests.invitations.harness import invitations_under_test

    async with invitations_under_test(url, tmp_path) as svc:
        yield _app(svc.component), _team_professional(svc.signer)


@asynccontextmanager
async def _identity(url: str, tmp_path: Path) -> AsyncIterator[Served]:
    from identity.config import Settings
    from identity.entrypoints.app import build_component

    settings = Settings(
        database_url=url,
        redis_url=REDIS_URL,
        redis_key_prefix=f"test:fuzz:{uuid.uuid4().hex}:",
    )
    app = api_app()
    component = build_component(
        PlatformSettings(data_dir=tmp_path / "identity"),
        NO_BROKER,
        settings,
        oidc_transport=httpx.ASGITransport(app=app),
    )
    for router in component.api_routers():
        app.include_router(router)
    await component.runtime.migrate()
    try:
        yield app, {}
    finally:
        await component.use_cases.store.close()
        await component.runtime.engine.dispose()


@asynccontextmanager
async def _registry_sync(url: str, tmp_path: Path) -> AsyncIterator[Served]:
    from registry_sync.config import RegistrySyncSettings
    from registry_sync.entrypoints.app import build_component

    component = build_component(
        PlatformSettings(data_dir=tmp_path / "registry"),
        NO_BROKER,
        RegistrySyncSettings(database_url=url),
    )
    await component.runtime.migrate()
    try:
        yield _app(component), {}
    finally:
        await component.runtime.engine.dispose()


@asynccontextmanager
async def _notifications(url: str, tmp_path: Path) -> AsyncIterator[Served]:
    from notifications.config import Settings
    from notifications.entrypoints.app import build_component

    component = build_component(
        PlatformSettings(data_dir=tmp_path / "notifications"), NO_BROKER, Settings(database_url=url)
    )
    await component.runtime.migrate()
    try:
        yield _app(component), {}
    finally:
        await component.runtime.engine.dispose()


@asynccontextmanager
async def _directory(url: str, tmp_path: Path) -> AsyncIterator[Served]:
    """A practice with a physician on the map, so searches and reads find something."""
    from tests.directory.support import searchable_directory

    async with searchable_directory(url, tmp_path, kafka=NO_BROKER) as directory:
        fiche_id, practice_id = str(uuid.uuid4()), str(uuid.uuid4())
        await directory.apply(
            directory.provider_event(fiche_id, "Marc", "Creemers", languages=("nl", "fr")),
            directory.practice_event(practice_id, "Het Warmste Team"),
            directory.link(practice_id, fiche_id),
        )
        yield _app(directory.component), {}


SERVICES: dict[str, Callable[[str, Path], Any]] = {
    "identity": _identity,
    "fiches": _fiches,
    "invitations": _invitations,
    "registry-sync": _registry_sync,
    "notifications": _notifications,
    "directory": _directory,
}


@pytest.mark.parametrize("service", list(SERVICES))
async def test_no_request_gets_a_server_error_and_every_error_is_problem_details(
    service: str, database_url_factory: Any, tmp_path: Path
) -> None:
    cases = int(os.environ.get("SKAART_FUZZ_CASES", CASES_PER_OPERATION))
    url = await database_url_factory(service)
    async with (
        SERVICES[service](url, tmp_path) as (app, auth_headers),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url="http://test",
        ) as client,
    ):
        findings = await asyncio.to_thread(
            fuzz,
            app.openapi(),
            client,
            asyncio.get_running_loop(),
            auth_headers=auth_headers,
            cases=cases,
        )
    assert findings.requests > 0
    assert not findings.problems, "\n".join(findings.problems[:20])
