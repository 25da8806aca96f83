"""A professional's open sessions follow the register: a ban ends her rights within seconds.

identity (its real login, activation and token exchange) signs the tokens; fiches and
invitations verify them with their real verifiers, trusting identity's keys and reading
revoked sessions in Redis. The register's status change reaches identity as its consumer
applies it (the handler, then the batch hook). From then on: the tokens already issued are
refused with the reason, the session mints no token and says why, and a new professional
login is refused; logging in as a citizen gives no professional rights.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from contracts.events.registry import StatusChangeReason
from fiches.config import FichesSettings
from fiches.entrypoints.app import build_component as build_fiches
from fiches.handlers.registry_events import RegistryEventHandlers
from identity.devidp.people import DemoPerson, demo_people
from servicekit.auth import AuthSettings
from servicekit.http import api_app
from servicekit.settings import KafkaSettings, PlatformSettings
from tests.fiches.test_guide_scenarios import SOLO, WARMSTE_TEAM
from tests.identity.flows import (
    REDIS_URL,
    RunningIdentity,
    access_token,
    activate,
    login,
    running_identity,
)
from tests.identity.registry_facts import demo_record, register, registered, stop
from tests.invitations.harness import invitations_under_test
from tests.support.problems import problem_of


def _person(key: str) -> DemoPerson:
    return next(p for p in demo_people() if p.key == key)


@asynccontextmanager
async def fiches_trusting(identity: RunningIdentity, tmp_path: Path) -> AsyncIterator[Any]:
    """fiches with its production verifier: identity's keys, revoked sessions in Redis."""
    async with identity.browser() as browser:
        jwks = (await browser.get("/api/identity/jwks")).json()
    component = build_fiches(
        PlatformSettings(data_dir=tmp_path / "fiches-data"),
        KafkaSettings(),
        FichesSettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'fiches.db'}",
            check_revoked_sessions=True,
        ),
        AuthSettings(trusted_jwks=json.dumps(jwks), redis_url=REDIS_URL),
    )
    await component.runtime.migrate()
    app = api_app()
    for router in component.api_routers():
        app.include_router(router)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    try:
        yield component, client
    finally:
        await client.aclose()
        await component.runtime.engine.dispose()


async def _register_in_fiches(component: Any, professional_id: str, person: DemoPerson) -> None:
    event = registered(professional_id, demo_record(person))
    handlers = RegistryEventHandlers(component.runtime.outbox)
    async with component.runtime.sessions() as session, session.begin():
        await handlers.professional_registered(session, event)
        await handlers.after_batch(session, [])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("reason", "check"),
    [
        (StatusChangeReason.PRACTICE_BAN, "practice_ban"),
        (StatusChangeReason.VISA_INACTIVE, "no_active_visa"),
        (StatusChangeReason.RIZIV_STOPPED, "riziv_number_inactive"),
        (StatusChangeReason.DECEASED, "deceased"),
    ],
)
async def test_a_status_change_ends_professional_rights_of_open_sessions(
    kafka: KafkaSettings, tmp_path: Path, reason: StatusChangeReason, check: str
) -> None:
    person = _person("professional-4")  # a physician
    async with (
        running_identity(kafka, tmp_path) as identity,
        fiches_trusting(identity, tmp_path) as (fiches, http),
    ):
        professional_id = await register(identity.component, person)
        await _register_in_fiches(fiches, professional_id, person)
        browser = identity.browser()
        assert (await login(browser, person.key)).status_code == 303
        await activate(identity, browser, f"{uuid.uuid4().hex}@example.be")
        before = await access_token(browser)
        created = await http.post(
            "/api/fiches/practices",
            json={**SOLO, "offers": ["physician"]},
            headers=_bearer(before),
        )
        assert created.status_code == 201, created.text
        practice_id = created.json()["practice_id"]

        await stop(identity.component, professional_id, reason, "physician")

        # The token issued before the change: refused at the next request, with the reason.
        refused = await http.post(
            "/api/fiches/practices",
            json={**WARMSTE_TEAM, "offers": ["physician"]},
            headers=_bearer(before),
        )
        assert refused.status_code == 401, refused.text
        assert "professional session was ended" in refused.text
        assert "register" in refused.text
        asked = await http.post(
            f"/api/fiches/practices/{practice_id}/link-requests",
            json={"professions": ["physician"]},
            headers=_bearer(before),
        )
        assert asked.status_code == 401, asked.text

        # The session mints no more tokens and says why, on /token and on /me.
        for answer in (
            await browser.post("/api/identity/token"),
            await browser.get("/api/identity/me"),
        ):
            assert answer.status_code == 401, answer.text
            detail = problem_of(answer)
            assert detail["code"] == "professional_rights_ended"
            assert detail["check"] == check
            assert "as=citizen" in detail["what_to_do"]

        # A new professional login is refused; as a citizen she has no professional role.
        async with identity.browser() as again:
            relogin = await login(again, person.key)
            assert relogin.status_code == 403
            assert problem_of(relogin)["check"] == check
            assert (await login(again, person.key, login_as="citizen")).status_code == 303
            citizen_token = await access_token(again)
        claims = jwt.decode(citizen_token, options={"verify_signature": False})
        assert claims["roles"] == ["citizen"]
        assert "professional_id" not in claims
        tick = await http.post(
            "/api/fiches/practices",
            json={**WARMSTE_TEAM, "offers": ["physician"]},
            headers=_bearer(citizen_token),
        )
        assert tick.status_code in (403, 422), tick.text
        await browser.aclose()


async def test_a_token_is_never_minted_from_facts_the_session_no_longer_has(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    """Even before the batch hook ends her sessions, the token exchange reads the view:
    a status change applied to the view is enough to refuse the next token."""
    person = _person("professional-6")  # a nurse
    async with running_identity(kafka, tmp_path) as identity:
        professional_id = await register(identity.component, person)
        async with identity.browser() as browser:
            assert (await login(browser, person.key)).status_code == 303
            await activate(identity, browser, f"{uuid.uuid4().hex}@example.be")
            await access_token(browser)
            await stop(
                identity.component,
                professional_id,
                StatusChangeReason.PRACTICE_BAN,
                "nurse",
                after_batch=False,
            )
            refused = await browser.post("/api/identity/token")
            assert refused.status_code == 401, refused.text
            assert problem_of(refused)["check"] == "practice_ban"


async def test_losing_one_of_two_professions_ends_the_session_that_carries_it(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    person = _person("professional-0")  # dietitian + physiotherapist
    async with running_identity(kafka, tmp_path) as identity:
        professional_id = await register(identity.component, person)
        async with identity.browser() as browser:
            assert (await login(browser, person.key)).status_code == 303
            await activate(identity, browser, f"{uuid.uuid4().hex}@example.be")
            claims = jwt.decode(await access_token(browser), options={"verify_signature": False})
            assert sorted(claims["professions"]) == ["dietitian", "physiotherapist"]
            await stop(
                identity.component, professional_id, StatusChangeReason.VISA_INACTIVE, "dietitian"
            )
            refused = await browser.post("/api/identity/token")
            assert refused.status_code == 401, refused.text
            assert problem_of(refused)["check"] == "professions_changed"
            assert "dietitian" in problem_of(refused)["detail"]
        async with identity.browser() as again:
            assert (await login(again, person.key)).status_code == 303
            claims = jwt.decode(await access_token(again), options={"verify_signature": False})
            assert claims["professions"] == ["physiotherapist"]
            assert claims["roles"] == ["professional"]


async def test_a_session_the_register_still_backs_goes_on(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    """Another person's ban, or a change that keeps her professions, ends nothing."""
    nurse, banned = _person("professional-6"), _person("professional-3")
    async with running_identity(kafka, tmp_path) as identity:
        await register(identity.component, nurse)
        banned_id = await register(identity.component, banned)
        async with identity.browser() as browser:
            assert (await login(browser, nurse.key)).status_code == 303
            await activate(identity, browser, f"{uuid.uuid4().hex}@example.be")
            await stop(
                identity.component, banned_id, StatusChangeReason.PRACTICE_BAN, "physiotherapist"
            )
            assert (await browser.post("/api/identity/token")).status_code == 200


async def test_invitations_refuses_the_tokens_of_an_ended_session_with_the_reason(
    kafka: KafkaSettings, tmp_path: Path, database_url_factory: Any
) -> None:
    """She accepted one invitation with her token; after the ban the same token cannot
    accept the next one, and invitations says why."""
    person = _person("professional-6")  # a nurse
    async with running_identity(kafka, tmp_path) as identity:
        professional_id = await register(identity.component, person)
        async with identity.browser() as browser:
            jwks = (await browser.get("/api/identity/jwks")).json()["keys"]
        async with invitations_under_test(
            await database_url_factory("invitations"), tmp_path, extra_trusted_keys=jwks
        ) as svc:
            await svc.practice("practice-1", ["user-marc"])
            sent = await svc.invite("practice-1", "user-marc", ["a@example.be", "b@example.be"])
            first, second = (r["invitation_id"] for r in sent.json()["results"])
            browser = identity.browser()
            assert (await login(browser, person.key)).status_code == 303
            await activate(identity, browser, f"{uuid.uuid4().hex}@example.be")
            token = await access_token(browser)

            async def accept(invitation_id: str) -> httpx.Response:
                return await svc.http.post(
                    "/api/invitations/link/accept",
                    json={"token": await svc.token_of(invitation_id), "professions": ["nurse"]},
                    headers=_bearer(token),
                )

            assert (await accept(first)).status_code == 200
            await stop(identity.component, professional_id, StatusChangeReason.PRACTICE_BAN)
            refused = await accept(second)
            assert refused.status_code == 401, refused.text
            assert "practice ban" in refused.text
            await browser.aclose()


async def test_an_unreachable_session_store_is_a_transient_failure_for_the_consumer(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    """Redis down while a ban is applied: the batch fails as infrastructure does (and is
    delivered again), never as a bad message that would be dead-lettered."""
    import redis.exceptions

    from servicekit.messaging.inbox import TRANSIENT_ERRORS

    person = _person("professional-6")
    async with running_identity(kafka, tmp_path) as identity:
        professional_id = await register(identity.component, person)
        async with identity.browser() as browser:
            assert (await login(browser, person.key)).status_code == 303
            store = identity.component.use_cases.store

            async def down(*_: Any, **__: Any) -> None:
                raise redis.exceptions.ConnectionError("connection refused")

            original = store.revoke_session
            store.revoke_session = down  # type: ignore[method-assign]
            try:
                with pytest.raises(TRANSIENT_ERRORS):
                    await stop(identity.component, professional_id, StatusChangeReason.DECEASED)
            finally:
                store.revoke_session = original  # type: ignore[method-assign]
            await stop(identity.component, professional_id, StatusChangeReason.DECEASED)
            assert problem_of(await browser.get("/api/identity/me"))["check"] == "deceased"
