"""First login: e-mail, activation link, access tokens, logout, rate limits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import sqlalchemy as sa

from identity.adapters.tables import email_verifications
from identity.config import ACTIVATION_PATH
from identity.devidp.people import demo_people
from servicekit.auth import (
    AccessTokenVerifier,
    AuthenticationError,
    redis_client,
    redis_revocation_check,
)
from servicekit.settings import KafkaSettings
from tests.identity.flows import REDIS_URL, login, query_of, running_identity
from tests.identity.registry_facts import register
from tests.support.problems import code_of, error_locs, problem_of


def _person(key: str) -> Any:
    return next(p for p in demo_people() if p.key == key)


async def test_activation_then_tokens_that_other_services_verify_until_logout(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    professional = _person("professional-4")
    async with (
        running_identity(kafka, tmp_path) as identity,
        redis_client(REDIS_URL) as sessions_redis,
    ):
        professional_id = await register(identity.component, professional)
        async with identity.browser() as browser:
            assert (await login(browser, professional.key)).status_code == 303
            session_cookie = browser.cookies["skaart_session"]

            # No profile yet: no access token.
            refused = await browser.post("/api/identity/token")
            assert refused.status_code == 403
            assert code_of(refused) == "profile_not_active"

            bad = await browser.put("/api/identity/me/email", json={"email": "not an address"})
            assert bad.status_code == 422
            assert error_locs(bad)[0] == ["body", "email"]
            assert await identity.activation_links() == []

            given = await browser.put("/api/identity/me/email", json={"email": "K.L@Example.be"})
            assert given.status_code == 202, given.text
            (link,) = await identity.activation_links()
            # The mail links to the portal's page, which learns the language from the answer.
            assert link.startswith("http://127.0.0.1:8000/activeren?token=")
            token = query_of(link)["token"]
            assert (await browser.post("/api/identity/token")).status_code == 403

            # a GET only shows the button
            page = await browser.get("/api/identity/activate", params={"token": token})
            assert page.status_code == 200 and "form" in page.text
            assert (await browser.get("/api/identity/me")).json()["status"] == (
                "pending_activation"
            )
            activated = await browser.post("/api/identity/activate", data={"token": token})
            assert activated.status_code == 200, activated.text
            assert activated.json()["language"] == professional.language
            me = (await browser.get("/api/identity/me")).json()
            assert me["status"] == "active" and me["email"] == "K.L@example.be"

            issued = await browser.post("/api/identity/token")
            assert issued.status_code == 200, issued.text
            access_token = issued.json()["access_token"]

        jwks = (await identity.browser().get("/api/identity/jwks")).json()
        verifier = AccessTokenVerifier(
            sessions=None,
            table=None,
            static_jwks=__import__("json").dumps(jwks),
            is_revoked=redis_revocation_check(sessions_redis),
        )
        caller = await verifier.verify(access_token)
        assert caller.professional_id == professional_id
        assert caller.professions == ("physician",)
        assert caller.is_professional and caller.display_name == (
            f"{professional.given_name} {professional.surname}"
        )
        claims = jwt.decode(access_token, options={"verify_signature": False})
        assert set(claims) == {
            "iss", "aud", "sub", "sid", "iat", "exp", "roles", "professional_id",
            "professions", "lang", "name",
        }  # fmt: skip
        assert claims["exp"] - claims["iat"] == 300

        async with identity.browser() as browser:
            browser.cookies.set("skaart_session", session_cookie, path="/api/identity")
            assert (await browser.post("/api/identity/logout")).status_code == 204
            assert (await browser.post("/api/identity/token")).status_code == 401
        try:
            await verifier.verify(access_token)
        except AuthenticationError as error:
            assert "logged out" in str(error)
        else:
            raise AssertionError("a token of a logged-out session was accepted")


async def test_activation_link_works_once_not_expired_not_tampered(
    kafka: KafkaSettings, tmp_path: Path, database_url_factory: Callable[[str], Any]
) -> None:
    url = await database_url_factory("identity")
    async with running_identity(kafka, tmp_path, database_url=url) as identity:
        async with identity.browser() as browser:
            assert (await login(browser, "citizen", login_as="citizen")).status_code == 303
            await browser.put("/api/identity/me/email", json={"email": "lotte@example.be"})
            (first,) = await identity.activation_links()
            first_token = query_of(first)["token"]

            tampered = first_token[:-2] + ("AA" if not first_token.endswith("AA") else "BB")
            answer = await browser.post("/api/identity/activate", data={"token": tampered})
            assert answer.status_code == 400
            assert problem_of(answer)["errors"][0]["code"] == "activation_link_invalid"

            # A resend replaces the first link.
            assert (await browser.post("/api/identity/me/email/resend")).status_code == 202
            links = await identity.activation_links()
            second_token = query_of(links[-1])["token"]
            replaced = await browser.post("/api/identity/activate", data={"token": first_token})
            assert replaced.status_code == 410
            assert code_of(replaced) == "activation_link_replaced"

            # Expired.
            async with identity.component.runtime.sessions.begin() as session:
                await session.execute(
                    sa.update(email_verifications).values(
                        expires_at=datetime.now(UTC) - timedelta(seconds=1)
                    )
                )
            expired = await browser.post("/api/identity/activate", data={"token": second_token})
            assert expired.status_code == 410
            assert code_of(expired) == "activation_link_expired"

            # A fresh one: two concurrent uses, exactly one winner.
            assert (await browser.post("/api/identity/me/email/resend")).status_code == 202
            third_token = query_of((await identity.activation_links())[-1])["token"]
            answers = await asyncio.gather(
                *(
                    browser.post("/api/identity/activate", data={"token": third_token})
                    for _ in range(2)
                )
            )
            assert sorted(a.status_code for a in answers) == [200, 410]
            again = await browser.post("/api/identity/activate", data={"token": third_token})
            assert again.status_code == 410
            assert code_of(again) == "activation_link_used"
            assert (await browser.post("/api/identity/token")).status_code == 200
        async with identity.component.runtime.sessions() as session:
            stored = (await session.execute(sa.select(email_verifications))).all()
        tokens = {first_token, second_token, third_token}
        assert not any(token in repr(row) for row in stored for token in tokens)


async def test_rate_limits_answer_429_with_retry_after(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    async with (
        running_identity(
            kafka, tmp_path, login_attempts_per_ip=4, email_requests_per_address=2
        ) as identity,
        identity.browser() as browser,
    ):
        assert (await login(browser, "citizen", login_as="citizen")).status_code == 303
        for _ in range(2):
            sent = await browser.put("/api/identity/me/email", json={"email": "a@example.be"})
            assert sent.status_code == 202
        limited = await browser.post("/api/identity/me/email/resend")
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) > 0
        assert len(await identity.activation_links()) == 2

        # The login was 2 attempts (start + callback); two more pass, then 429.
        assert (await browser.get("/api/identity/login?as=citizen")).status_code == 303
        assert (await browser.get("/api/identity/login?as=citizen")).status_code == 303
        blocked = await browser.get("/api/identity/login?as=citizen")
        assert blocked.status_code == 429
        assert int(blocked.headers["Retry-After"]) > 0


async def test_bad_login_input_is_refused_with_the_field_and_stores_nothing(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    from identity.adapters.tables import login_requests

    async with running_identity(kafka, tmp_path) as identity, identity.browser() as browser:
        wrong_role = await browser.get("/api/identity/login", params={"as": "admin"})
        assert wrong_role.status_code == 422
        assert error_locs(wrong_role)[0] == ["query", "as"]
        elsewhere = await browser.get(
            "/api/identity/login", params={"as": "citizen", "return_to": "//evil.example/"}
        )
        assert elsewhere.status_code == 422
        assert error_locs(elsewhere)[0] == ["query", "return_to"]
        async with identity.component.runtime.sessions() as session:
            stored = await session.scalar(sa.select(sa.func.count()).select_from(login_requests))
        assert stored == 0
        assert (await browser.post("/api/identity/token")).status_code == 401


async def test_the_operator_grants_and_withdraws_the_team_role(
    kafka: KafkaSettings, tmp_path: Path, monkeypatch: Any
) -> None:
    from typer.testing import CliRunner

    from skaart.identity_commands import identity_app

    async with running_identity(kafka, tmp_path) as identity, identity.browser() as browser:
        assert (await login(browser, "citizen", login_as="citizen")).status_code == 303
        await browser.put("/api/identity/me/email", json={"email": "lotte@example.be"})
        (link,) = await identity.activation_links()
        await browser.post("/api/identity/activate", data={"token": query_of(link)["token"]})
        user_id = (await browser.get("/api/identity/me")).json()["user_id"]

        async def roles() -> list[str]:
            token = (await browser.post("/api/identity/token")).json()["access_token"]
            return list(jwt.decode(token, options={"verify_signature": False})["roles"])

        assert await roles() == ["citizen"]
        monkeypatch.setenv("IDENTITY_DATABASE_URL", identity.settings.database_url or "")
        monkeypatch.setenv("IDENTITY_REDIS_URL", "memory://")
        runner = CliRunner()
        granted = await asyncio.to_thread(runner.invoke, identity_app, ["grant-team", user_id])
        assert granted.exit_code == 0, granted.output
        assert await roles() == ["citizen", "team"]
        withdrawn = await asyncio.to_thread(runner.invoke, identity_app, ["revoke-team", user_id])
        assert withdrawn.exit_code == 0, withdrawn.output
        assert await roles() == ["citizen"]
        unknown = await asyncio.to_thread(runner.invoke, identity_app, ["grant-team", "nobody"])
        assert unknown.exit_code == 1


async def test_the_session_store_is_closed_when_identity_stops(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    from identity.adapters.kv import MemoryStore
    from identity.config import Settings
    from identity.entrypoints.app import build_component
    from servicekit.settings import PlatformSettings

    class RecordingStore(MemoryStore):
        closed = False

        async def close(self) -> None:
            self.closed = True

    store = RecordingStore()
    component = build_component(
        PlatformSettings(data_dir=tmp_path),
        kafka,
        Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}"),
        store=store,
    )
    component.runtime.subscriptions.clear()
    await component.runtime.start()
    assert not store.closed, "open while the service runs"

    await component.runtime.stop()

    assert store.closed


async def test_the_activation_page_speaks_the_users_language(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    french = _person("professional-6")
    assert french.language == "fr"
    async with running_identity(kafka, tmp_path) as identity:
        await register(identity.component, french)
        async with identity.browser() as browser:
            assert (await login(browser, french.key)).status_code == 303
            given = await browser.put("/api/identity/me/email", json={"email": "nele@example.be"})
            assert given.status_code == 202, given.text
            (link,) = await identity.activation_links()
            token = query_of(link)["token"]

            # identity's own page (the mailed link opens the portal's, tested with the
            # portal): to an English browser, still the user's own language.
            page = await browser.get(
                f"{ACTIVATION_PATH}?token={token}", headers={"Accept-Language": "en-GB,en;q=0.9"}
            )
            assert page.status_code == 200
            assert "<html lang='fr'>" in page.text and "Activer" in page.text
            assert "Activate your profile" not in page.text

            # The button (a browser asks for HTML): a French page, not JSON.
            html_accept = {"Accept": "text/html,application/xhtml+xml"}
            done = await browser.post(
                "/api/identity/activate", data={"token": token}, headers=html_accept
            )
            assert done.status_code == 200
            assert "Votre profil est actif" in done.text
            again = await browser.post(
                "/api/identity/activate", data={"token": token}, headers=html_accept
            )
            assert again.status_code == 410 and "déjà été utilisé" in again.text

        # Someone without a valid link: the browser's language.
        unknown = await identity.browser().get(
            "/api/identity/activate", params={"token": "x"}, headers={"Accept-Language": "fr-BE"}
        )
        assert "<html lang='fr'>" in unknown.text
