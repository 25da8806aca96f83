"""identity trusts only a provider answer that passes every check, and each login once."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from servicekit.settings import KafkaSettings
from tests.identity.flows import ISSUER, login, query_of, running_identity
from tests.support.problems import code_of, problem_of

CLIENT_ID = "skaart-dev"


class HostileProvider:
    """An OpenID provider whose token endpoint answers with a crafted id token."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(65537, 2048)
        self.forger = rsa.generate_private_key(65537, 2048)
        self.nonce = ""
        self.tamper: dict[str, Any] = {}
        self.forge = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/dev/idp")
        if path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "authorization_endpoint": ISSUER + "/authorize",
                    "token_endpoint": ISSUER + "/token",
                    "jwks_uri": ISSUER + "/jwks",
                },
            )
        if path == "/jwks":
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
            return httpx.Response(200, json={"keys": [{**jwk, "kid": "k1", "use": "sig"}]})
        if path == "/token":
            now = int(time.time())
            claims = {
                "iss": ISSUER,
                "aud": CLIENT_ID,
                "sub": "someone",
                "iat": now,
                "exp": now + 300,
                "nonce": self.nonce,
                "givenName": "Eve",
                "surname": "Mallory",
                "egovNRN": "90010199887",
                **self.tamper,
            }
            key = self.forger if self.forge else self.key
            token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
            return httpx.Response(200, json={"id_token": token, "access_token": "at"})
        return httpx.Response(404)


CASES = {
    "forged signature": ({}, True, "signature"),
    "wrong audience": ({"aud": "another-client"}, False, "another client"),
    "wrong issuer": ({"iss": "https://idp.example"}, False, "another issuer"),
    "expired": ({"exp": int(time.time()) - 600, "iat": int(time.time()) - 900}, False, "expired"),
    "mismatched nonce": ({"nonce": "from-another-login"}, False, "nonce"),
}


@pytest.mark.parametrize("case", CASES)
async def test_an_id_token_failing_a_check_opens_no_session(
    kafka: KafkaSettings, tmp_path: Path, case: str
) -> None:
    tamper, forge, says = CASES[case]
    provider = HostileProvider()
    transport = httpx.MockTransport(provider.handler)
    async with (
        running_identity(kafka, tmp_path, oidc_transport=transport) as identity,
        identity.browser() as browser,
    ):
        start = await browser.get("/api/identity/login", params={"as": "citizen"})
        authorize = query_of(start.headers["location"])
        challenge = authorize["code_challenge"]
        assert authorize["code_challenge_method"] == "S256" and len(challenge) == 43
        assert authorize["scope"] == "openid profile egovnrn"
        provider.nonce, provider.tamper, provider.forge = authorize["nonce"], tamper, forge
        answer = await browser.get(
            "/api/identity/login/callback", params={"code": "c", "state": authorize["state"]}
        )
        assert answer.status_code == 401, answer.text
        assert says in problem_of(answer)["detail"]
        assert "skaart_session" not in browser.cookies
        assert (await browser.get("/api/identity/me")).status_code == 401


async def test_state_must_match_and_a_login_completes_once(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    async with running_identity(kafka, tmp_path) as identity:
        async with identity.browser() as browser:
            start = await browser.get("/api/identity/login", params={"as": "citizen"})
            state = query_of(start.headers["location"])["state"]
            # Another browser presenting this state (login CSRF): refused.
            async with identity.browser() as other:
                stolen = await other.get(
                    "/api/identity/login/callback", params={"code": "x", "state": state}
                )
                assert stolen.status_code == 400
                assert code_of(stolen) == "state_mismatch"

        async with identity.browser() as browser:
            answer = await login(browser, "citizen", login_as="citizen")
            assert answer.status_code == 303
            callback = answer.request.url
            # Replayed: the login cookie is gone, and the state is used.
            replay = await browser.get(callback)
            assert replay.status_code == 400
            browser.cookies.set(
                "skaart_login", query_of(str(callback))["state"], path="/api/identity/login"
            )
            replay = await browser.get(callback)
            assert replay.status_code == 400
            assert code_of(replay) == "login_request_unknown"


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def test_the_development_provider_checks_code_secret_pkce_and_redirect(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    async with running_identity(kafka, tmp_path) as identity:
        redirect_uri = identity.settings.redirect_uri
        verifier = "v" * 50
        async with identity.browser() as browser:
            form = {
                "client_id": CLIENT_ID,
                "redirect_uri": redirect_uri,
                "state": "s",
                "nonce": "n",
                "code_challenge": _s256(verifier),
                "person": "citizen",
            }

            async def code() -> str:
                chosen = await browser.post(ISSUER + "/authorize", data=form)
                return query_of(chosen.headers["location"])["code"]

            async def exchange(**changes: str) -> httpx.Response:
                data = {
                    "grant_type": "authorization_code",
                    "redirect_uri": redirect_uri,
                    "code_verifier": verifier,
                    "client_id": CLIENT_ID,
                    "client_secret": "development-only",
                    **changes,
                }
                return await browser.post(ISSUER + "/token", data=data)

            assert (await exchange(code=await code(), client_secret="wrong")).status_code == 401
            assert (await exchange(code=await code(), code_verifier="w" * 50)).status_code == 400
            wrong_redirect = await exchange(code=await code(), redirect_uri="http://evil/cb")
            assert wrong_redirect.status_code == 400
            once = await code()
            assert (await exchange(code=once)).status_code == 200
            assert (await exchange(code=once)).json()["error"] == "invalid_grant"
            unregistered = await browser.get(
                ISSUER + "/authorize",
                params={**form, "redirect_uri": "http://evil/cb", "code_challenge_method": "S256"},
            )
            assert unregistered.status_code == 400
