"""The development OpenID provider: the FAS protocol, a page to pick a demo person.

Speaks what identity's relying party expects of the federal authentication service:
discovery, an authorization endpoint (code flow, PKCE S256, state, nonce), a token
endpoint (checks the code, the client secret, the PKCE verifier and the redirect URI; a
code works once), JWKS (RS256, like FAS) and userinfo. It refuses to exist outside
development: it logs anyone in as anyone.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter, Form, Header, HTTPException
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from identity.devidp.people import DemoPerson
from servicekit.settings import Environment, PlatformSettings

PREFIX = "/dev/idp"
CODE_TTL_S = 60
ID_TOKEN_TTL_S = 300


@dataclass
class _Grant:
    person: DemoPerson
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str
    expires: float


@dataclass
class DevelopmentProvider:
    """The provider's state: its key, its clients, its pending codes."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    people: Sequence[DemoPerson]
    kid: str = field(default_factory=lambda: f"dev-idp-{secrets.token_hex(4)}")
    _key: Any = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _access_tokens: dict[str, DemoPerson] = field(default_factory=dict)

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def claims_of(self, person: DemoPerson) -> dict[str, Any]:
        return {
            "sub": f"dev-{hashlib.sha256(person.nrn.encode()).hexdigest()[:16]}",
            "givenName": person.given_name,
            "surname": person.surname,
            "egovNRN": person.nrn,
            "PrefLanguage": person.language,
        }

    def id_token(self, grant: _Grant) -> str:
        now = int(time.time())
        claims = {
            **self.claims_of(grant.person),
            "iss": self.issuer,
            "aud": grant.client_id,
            "iat": now,
            "exp": now + ID_TOKEN_TTL_S,
            "nonce": grant.nonce,
            "auth_time": now,
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def tokens(self, grant: _Grant) -> dict[str, Any]:
        """The token endpoint's answer for a checked grant (its access token remembered
        for userinfo)."""
        access_token = secrets.token_urlsafe(24)
        self._access_tokens[access_token] = grant.person
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": ID_TOKEN_TTL_S,
            "id_token": self.id_token(grant),
            "scope": "openid profile egovnrn",
        }


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _token_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _client_credentials(
    authorization: str | None, client_id: str | None, client_secret: str | None
) -> tuple[str | None, str | None] | None:
    """The client's id and secret (HTTP Basic, else the form); None when Basic is malformed."""
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:]).decode()
        except ValueError:
            return None
        found_id, _, found_secret = decoded.partition(":")
        return found_id, found_secret
    return client_id, client_secret


def development_provider_router(
    platform: PlatformSettings,
    *,
    issuer: str,
    client_id: str,
    client_secret: str,
    redirect_uris: Sequence[str],
    people: Sequence[DemoPerson] | None = None,
    prefix: str = PREFIX,
) -> APIRouter:
    """The provider's routes; RuntimeError outside development."""
    if platform.environment is not Environment.DEVELOPMENT:
        raise RuntimeError(
            "the development identity provider runs only with SKAART_ENVIRONMENT=development; "
            "in production identity logs in through FAS (set IDENTITY_OIDC_ISSUER)"
        )
    if people is None:
        from identity.devidp.people import demo_people

        people = demo_people()
    idp = DevelopmentProvider(issuer, client_id, client_secret, tuple(redirect_uris), people)
    router = APIRouter(prefix=prefix, tags=["development identity provider"])
    _add_discovery_routes(router, idp)
    _add_authorize_routes(router, idp)
    _add_token_routes(router, idp)
    return router


def _add_discovery_routes(router: APIRouter, idp: DevelopmentProvider) -> None:
    issuer = idp.issuer

    @router.get("/.well-known/openid-configuration", summary="Discovery document")
    async def discovery() -> dict[str, Any]:
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "jwks_uri": f"{issuer}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "egovnrn"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": ["sub", "givenName", "surname", "egovNRN", "PrefLanguage"],
        }

    @router.get("/jwks", summary="Public keys of the id tokens")
    async def jwks() -> dict[str, Any]:
        return idp.jwks()


def _check_request(
    idp: DevelopmentProvider,
    client: str,
    redirect_uri: str,
    response_type: str,
    method: str,
    challenge: str,
) -> None:
    if client != idp.client_id:
        raise HTTPException(400, "unknown client_id")
    if redirect_uri not in idp.redirect_uris:
        raise HTTPException(400, "redirect_uri is not registered for this client")
    if response_type != "code":
        raise HTTPException(400, "only response_type=code is supported")
    if method != "S256" or not challenge:
        raise HTTPException(400, "PKCE with code_challenge_method=S256 is required")


def _picker_page(idp: DevelopmentProvider, hidden_fields: dict[str, str]) -> str:
    """The page that lists the demo people, carrying the authorization request along."""
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
        for name, value in hidden_fields.items()
    )
    buttons = "".join(
        f'<li><button name="person" value="{html.escape(p.key)}">'
        f"{html.escape(p.given_name)} {html.escape(p.surname)}</button> "
        f"— {html.escape(p.description)}</li>"
        for p in idp.people
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Development login"
        "</title></head><body><h1>Development identity provider</h1><p>Not FAS: "
        "development only. Log in as:</p>"
        f"<form method='post' action='{html.escape(idp.issuer)}/authorize'>{hidden}"
        f"<ul>{buttons}</ul><button name='person' value=''>Cancel</button></form>"
        "</body></html>"
    )


def _add_authorize_routes(router: APIRouter, idp: DevelopmentProvider) -> None:
    by_key = {person.key: person for person in idp.people}

    @router.get("/authorize", summary="Pick a demo person", response_class=HTMLResponse)
    async def authorize(
        client_id: str,
        redirect_uri: str,
        state: str,
        nonce: str,
        code_challenge: str,
        response_type: str = "code",
        code_challenge_method: str = "plain",
        scope: str = "",
    ) -> HTMLResponse:
        _check_request(
            idp, client_id, redirect_uri, response_type, code_challenge_method, code_challenge
        )
        if "openid" not in scope.split():
            raise HTTPException(400, "scope must include openid")
        carried = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
        }
        return HTMLResponse(_picker_page(idp, carried))

    @router.post("/authorize", summary="Log the chosen person in", include_in_schema=False)
    async def choose(
        client_id: Annotated[str, Form()],
        redirect_uri: Annotated[str, Form()],
        state: Annotated[str, Form()],
        nonce: Annotated[str, Form()],
        code_challenge: Annotated[str, Form()],
        person: Annotated[str, Form()] = "",
    ) -> RedirectResponse:
        _check_request(idp, client_id, redirect_uri, "code", "S256", code_challenge)
        if not person:
            query = urlencode({"error": "access_denied", "state": state})
            return RedirectResponse(f"{redirect_uri}?{query}", status_code=303)
        if person not in by_key:
            raise HTTPException(400, "unknown demo person")
        code = secrets.token_urlsafe(24)
        idp._codes[code] = _Grant(
            by_key[person],
            client_id,
            redirect_uri,
            code_challenge,
            nonce,
            time.monotonic() + CODE_TTL_S,
        )
        return RedirectResponse(
            f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=303
        )


def _add_token_routes(router: APIRouter, idp: DevelopmentProvider) -> None:

    @router.post("/token", summary="Exchange a code for an id token")
    async def token(
        grant_type: Annotated[str, Form()],
        code: Annotated[str, Form()],
        redirect_uri: Annotated[str, Form()],
        code_verifier: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        credentials = _client_credentials(authorization, client_id, client_secret)
        if credentials is None:
            return _token_error("invalid_client", "malformed Basic credentials", 401)
        client_id, client_secret = credentials
        if client_id != idp.client_id or not secrets.compare_digest(
            client_secret or "", idp.client_secret
        ):
            return _token_error("invalid_client", "unknown client or wrong secret", 401)
        if grant_type != "authorization_code":
            return _token_error("unsupported_grant_type", "authorization_code only")
        grant = idp._codes.pop(code, None)  # single use, even when the rest fails
        if grant is None or grant.expires < time.monotonic():
            return _token_error("invalid_grant", "unknown, used or expired code")
        if grant.client_id != client_id or grant.redirect_uri != redirect_uri:
            return _token_error("invalid_grant", "redirect_uri differs from the authorization")
        if not code_verifier or _s256(code_verifier) != grant.code_challenge:
            return _token_error("invalid_grant", "PKCE verification failed")
        return JSONResponse(idp.tokens(grant), headers={"Cache-Control": "no-store"})

    @router.get("/userinfo", summary="Claims of the logged-in person")
    async def userinfo(
        authorization: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        scheme, _, value = (authorization or "").partition(" ")
        found = idp._access_tokens.get(value) if scheme.lower() == "bearer" else None
        if found is None:
            raise HTTPException(401, "invalid access token")
        return idp.claims_of(found)
