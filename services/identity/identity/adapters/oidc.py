"""OpenID Connect relying party: the federal authentication service (FAS) in production,
the development provider in monolithic mode; one code path for both.

Authorization code flow with PKCE (S256), `state` and `nonce`. The id token is verified
for real: signature against the issuer's JWKS, `iss`, `aud`, `exp`, `iat` and `nonce`.
The HTTP transport is injectable so tests run the whole flow in-process.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

#: Algorithms accepted on the provider's id tokens (FAS signs RS256). Never `none`/HMAC.
ID_TOKEN_ALGORITHMS = ("RS256", "PS256", "ES256")
_JWKS_REFRESH_S = 60.0


class OidcError(Exception):
    """The provider could not be reached or its answer failed a check (the message says which)."""


@dataclass
class OidcClient:
    """Talks to one OpenID provider on behalf of identity."""

    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    redirect_uri: str
    leeway_s: int = 30
    transport: httpx.AsyncBaseTransport | None = None
    _discovery: dict[str, Any] | None = field(default=None, init=False)
    _jwks: dict[str, Any] = field(default_factory=dict, init=False)
    _jwks_at: float = field(default=float("-inf"), init=False)

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport, timeout=10.0)

    async def _get_json(self, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self._client() as client:
                response = await client.get(url, **kwargs)
        except httpx.HTTPError as error:
            raise OidcError(
                f"the identity provider is unreachable ({type(error).__name__})"
            ) from error
        if response.status_code != 200:
            raise OidcError(f"the identity provider answered {response.status_code} on {url}")
        try:
            body: dict[str, Any] = response.json()
        except ValueError as error:
            raise OidcError(
                f"the identity provider answered something not JSON on {url}"
            ) from error
        return body

    @property
    def discovery_url(self) -> str:
        """Where the provider's discovery document is."""
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    async def discovery(self) -> dict[str, Any]:
        """The provider's discovery document (cached), with its issuer checked."""
        if self._discovery is None:
            await self.check_discovery()
        assert self._discovery is not None
        return self._discovery

    async def check_discovery(self, timeout_s: float = 10.0) -> None:
        """Fetch the discovery document afresh; raises OidcError saying what failed."""
        document = await self._get_json(self.discovery_url, timeout=timeout_s)
        if document.get("issuer") != self.issuer:
            raise OidcError(
                f"the discovery document names another issuer ({document.get('issuer')!r}, "
                f"expected {self.issuer!r})"
            )
        self._discovery = document

    async def authorization_url(self, *, state: str, nonce: str, code_challenge: str) -> str:
        """Where to send the browser to log in."""
        endpoint = (await self.discovery())["authorization_endpoint"]
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self.redirect_uri,
                "scope": self.scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{endpoint}?{query}"

    async def exchange(self, code: str, code_verifier: str) -> dict[str, Any]:
        """The token endpoint's answer to an authorization code."""
        endpoint = (await self.discovery())["token_endpoint"]
        try:
            async with self._client() as client:
                response = await client.post(
                    endpoint,
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": self.redirect_uri,
                        "code_verifier": code_verifier,
                    },
                    auth=(self.client_id, self.client_secret),
                )
        except httpx.HTTPError as error:
            raise OidcError(
                f"the identity provider is unreachable ({type(error).__name__})"
            ) from error
        if response.status_code != 200:
            code = _error_code(response)
            raise OidcError(f"the identity provider refused the authorization code ({code})")
        body: dict[str, Any] = response.json()
        if not isinstance(body.get("id_token"), str):
            raise OidcError("the identity provider returned no id token")
        return body

    async def _signing_key(self, kid: str | None) -> Any:
        for attempt in range(2):
            stale = time.monotonic() - self._jwks_at > _JWKS_REFRESH_S
            if not self._jwks or (attempt == 1 and stale):
                uri = (await self.discovery())["jwks_uri"]
                document = await self._get_json(uri)
                self._jwks = {
                    jwk.get("kid"): jwk
                    for jwk in document.get("keys", [])
                    if jwk.get("use", "sig") == "sig"
                }
                self._jwks_at = time.monotonic()
            if kid in self._jwks:
                return jwt.PyJWK(self._jwks[kid]).key
            if len(self._jwks) == 1 and kid is None:
                return jwt.PyJWK(next(iter(self._jwks.values()))).key
        raise OidcError("the id token is signed by a key the provider does not publish")

    async def verify_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """The id token's claims, after every check; OidcError naming the failed one."""
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as error:
            raise OidcError("the id token is not a JWT") from error
        algorithm = header.get("alg")
        if algorithm not in ID_TOKEN_ALGORITHMS:
            raise OidcError(f"the id token uses an algorithm that is not accepted ({algorithm})")
        key = await self._signing_key(header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key,
                algorithms=[algorithm],
                audience=self.client_id,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except jwt.InvalidSignatureError as error:
            raise OidcError("the id token's signature is not valid") from error
        except jwt.ExpiredSignatureError as error:
            raise OidcError("the id token has expired") from error
        except jwt.InvalidAudienceError as error:
            raise OidcError("the id token is meant for another client (aud)") from error
        except jwt.InvalidIssuerError as error:
            raise OidcError("the id token comes from another issuer (iss)") from error
        except jwt.PyJWTError as error:
            raise OidcError(f"the id token is not valid ({type(error).__name__})") from error
        if claims.get("nonce") != nonce:
            raise OidcError("the id token's nonce does not match this login (replayed?)")
        audience = claims["aud"]
        if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != self.client_id:
            raise OidcError("the id token names several audiences but not this client as azp")
        return claims

    async def userinfo(self, access_token: str) -> dict[str, Any]:
        """The userinfo endpoint's claims (FAS returns `egovNRN` there for some clients)."""
        endpoint = (await self.discovery()).get("userinfo_endpoint")
        if not endpoint:
            return {}
        return await self._get_json(endpoint, headers={"Authorization": f"Bearer {access_token}"})

    async def login(self, code: str, code_verifier: str, nonce: str) -> dict[str, Any]:
        """Exchange the code and return the verified identity claims."""
        tokens = await self.exchange(code, code_verifier)
        claims = await self.verify_id_token(tokens["id_token"], nonce=nonce)
        if "egovNRN" not in claims and isinstance(tokens.get("access_token"), str):
            extra = await self.userinfo(tokens["access_token"])
            if extra.get("sub") != claims["sub"]:
                raise OidcError("the userinfo answer is about another subject")
            claims = {**extra, **claims}
        return claims


def _error_code(response: httpx.Response) -> str:
    try:
        return str(json.loads(response.text).get("error", response.status_code))
    except (ValueError, AttributeError):
        return str(response.status_code)
