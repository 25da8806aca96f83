"""Verifying identity's access tokens in any service, without calling identity.

identity signs short-lived JWTs (ES256) and announces each public key on
`identity.signing-keys.v1` before it signs with it. A consuming service keeps those keys
in its own database (`trusted_signing_keys`, filled by `signing_key_subscription`), so a
restart or a second replica knows them at once, and a rotation never rejects a token in
flight: the new key arrives before the first token signed with it, the old one stays
until its `retire_after`.

Logout revokes a session: identity writes `revoked_session_key(sid)` in Redis for as long
as a token of that session can live, and the verifier refuses tokens of a revoked session.
identity also ends a professional's sessions when the register withdraws her right to
practise; that mark carries the reason (`SessionEnded`), which the verifier's 401 repeats,
so the person learns why at her next request instead of keeping her rights until the
token expires.

A token must also be short-lived: one whose `exp` lies further than
`AUTH_ACCESS_TOKEN_MAX_LIFETIME_S` after its `iat`, or whose `iat` lies in the future, is
refused even when its signature is valid (a leaked signing key must not mint tokens that
outlive its rotation).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import jwt
import sqlalchemy as sa
from fastapi import Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.events.identity import SIGNING_KEYS_TOPIC, Role, SigningKeyPublished
from servicekit.database import as_utc
from servicekit.messaging.inbox import Subscription
from servicekit.problems import Problem
from servicekit.redis_client import redis_client as servicekit_redis_client

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

ACCESS_TOKEN_ISSUER = "skaart-identity"  # noqa: S105  (a claim value, not a secret)
ACCESS_TOKEN_AUDIENCE = "skaart-api"  # noqa: S105
ACCESS_TOKEN_ALGORITHMS = ("ES256",)
SIGNING_KEYS_TABLE = "trusted_signing_keys"

#: How often an unknown `kid` may trigger a reload of the key table.
_RELOAD_INTERVAL_S = 1.0


def revoked_session_key(session_id: str) -> str:
    """Redis key identity sets when a session is logged out or ended."""
    return f"skaart:identity:revoked-session:{session_id}"


#: The value of a revoked-session key set by a plain logout.
LOGGED_OUT_MARK = b"1"
_LOGGED_OUT_MESSAGE = "the session of this access token was logged out"


@dataclass(frozen=True)
class SessionEnded:
    """Why identity ended a session, as kept in its revoked-session key.

    `code` is stable (e.g. `practice_ban`), `message` is a sentence for the person.
    """

    code: str
    message: str

    def mark(self) -> bytes:
        """The revoked-session key's value."""
        return json.dumps({"code": self.code, "message": self.message}).encode()

    @classmethod
    def from_mark(cls, value: bytes | str | None) -> SessionEnded | None:
        """The reason a revoked-session value holds; None when the key is absent."""
        if value is None:
            return None
        raw = value.decode() if isinstance(value, bytes) else value
        try:
            body = json.loads(raw)
            return cls(str(body["code"]), str(body["message"]))
        except (ValueError, KeyError, TypeError):
            return cls("logged_out", _LOGGED_OUT_MESSAGE)


class AuthSettings(BaseSettings):
    """How services verify access tokens (prefix `AUTH_`)."""

    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore")

    trusted_jwks: str | None = Field(
        default=None,
        description="Optional JWKS (JSON) trusted besides the keys identity announces on "
        "identity.signing-keys.v1: for a service that cannot read that topic.",
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        description="Redis holding revoked sessions (shared with identity).",
    )
    clock_leeway_s: int = Field(default=10, description="Allowed clock skew in seconds.")
    access_token_max_lifetime_s: int = Field(
        default=3600,
        ge=30,
        description="Longest lifetime (exp - iat) of an access token the verifiers accept; "
        "at least identity's IDENTITY_ACCESS_TOKEN_TTL_S.",
    )


@dataclass(frozen=True)
class Caller:
    """Who is calling, as the access token says."""

    user_id: str
    roles: frozenset[Role]
    session_id: str
    professional_id: str | None = None
    professions: tuple[str, ...] = ()
    """Professions the person may practise, as identity saw them at login."""
    language: str = "nl"
    display_name: str = ""

    @property
    def is_team(self) -> bool:
        return Role.TEAM in self.roles

    @property
    def is_professional(self) -> bool:
        return Role.PROFESSIONAL in self.roles and self.professional_id is not None


class AuthenticationError(Exception):
    """The token is missing, malformed, forged, expired, revoked or signed by an unknown key."""


def add_signing_keys_table(metadata: sa.MetaData) -> sa.Table:
    """Declare the trusted-keys table on a service's metadata."""
    return sa.Table(SIGNING_KEYS_TABLE, metadata, *_signing_key_columns())


def create_signing_keys_table(op: Any) -> None:
    """Alembic: create the trusted-keys table (in a consuming service's migration)."""
    op.create_table(SIGNING_KEYS_TABLE, *_signing_key_columns())


def _signing_key_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("kid", sa.String(100), primary_key=True),
        sa.Column("algorithm", sa.String(20), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retire_after", sa.DateTime(timezone=True), nullable=True),
    ]


def signing_key_subscription(service: str, table: sa.Table) -> Subscription:
    """The consumer group that records identity's announced keys in `table`."""

    async def key_published(session: AsyncSession, event: SigningKeyPublished) -> None:
        await session.execute(sa.delete(table).where(table.c.kid == event.kid))
        await session.execute(
            sa.insert(table).values(
                kid=event.kid,
                algorithm=event.algorithm,
                public_jwk=dict(event.public_jwk),
                not_before=event.not_before,
                retire_after=event.retire_after,
            )
        )

    return Subscription(
        name=f"{service}.signing-keys",
        topics=(SIGNING_KEYS_TOPIC,),
        handlers={SigningKeyPublished: key_published},
        description="identity's public signing keys, to verify access tokens locally",
    )


@dataclass
class _TrustedKey:
    key: Any
    algorithm: str
    retire_after: datetime | None


#: Whether a session was revoked: False/None when not, True (logged out) or the reason.
RevocationCheck = Callable[[str], Awaitable["bool | SessionEnded | None"]]


@dataclass
class AccessTokenVerifier:
    """Verifies a bearer token against the trusted keys and returns the caller."""

    sessions: async_sessionmaker[AsyncSession] | None
    table: sa.Table | None
    is_revoked: RevocationCheck | None = None
    static_jwks: str | None = None
    leeway_s: int = 10
    #: Longest `exp - iat` accepted, whatever the signature says.
    max_lifetime_s: int = 3600
    #: Seconds a read of the key table is trusted: a key's retirement date (announced
    #: again at a rotation) takes effect on every replica within this time, not only when
    #: the replica first meets a token signed by the new key.
    refresh_s: float = 30.0
    _static: dict[str, _TrustedKey] = field(default_factory=dict)
    _keys: dict[str, _TrustedKey] = field(default_factory=dict)
    _loaded_at: float = field(default=float("-inf"))

    def __post_init__(self) -> None:
        if self.static_jwks:
            for jwk in json.loads(self.static_jwks).get("keys", []):
                algorithm = jwk.get("alg", "ES256")
                self._static[jwk["kid"]] = _TrustedKey(
                    jwt.PyJWK(jwk, algorithm).key, algorithm, None
                )
        self._keys = dict(self._static)

    async def _reload(self) -> None:
        if self.sessions is None or self.table is None:
            return
        if time.monotonic() - self._loaded_at < _RELOAD_INTERVAL_S:
            return
        self._loaded_at = time.monotonic()
        async with self.sessions() as session:
            rows = (await session.execute(sa.select(self.table))).all()
        announced = {
            row.kid: _TrustedKey(
                jwt.PyJWK(dict(row.public_jwk), row.algorithm).key,
                row.algorithm,
                as_utc(row.retire_after),
            )
            for row in rows
        }
        self._keys = {**announced, **self._static}

    async def verify(self, token: str) -> Caller:
        """The caller named by a valid token; AuthenticationError otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise AuthenticationError("the access token is not a JWT") from error
        kid = header.get("kid")
        if not isinstance(kid, str) or header.get("alg") not in ACCESS_TOKEN_ALGORITHMS:
            raise AuthenticationError("the access token names no known key or algorithm")
        if kid not in self._keys or time.monotonic() - self._loaded_at > self.refresh_s:
            await self._reload()
        trusted = self._keys.get(kid)
        if trusted is None:
            raise AuthenticationError("the access token is signed by an unknown key")
        if trusted.retire_after is not None and datetime.now(UTC) > trusted.retire_after:
            raise AuthenticationError("the access token is signed by a retired key")
        try:
            claims = jwt.decode(
                token,
                trusted.key,
                algorithms=[trusted.algorithm],
                audience=ACCESS_TOKEN_AUDIENCE,
                issuer=ACCESS_TOKEN_ISSUER,
                leeway=self.leeway_s,
                options={"require": ["exp", "iat", "sub", "sid", "aud", "iss"]},
            )
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"the access token is not valid: {error}") from error
        self._check_lifetime(claims)
        if self.is_revoked is not None:
            revoked = await self.is_revoked(str(claims["sid"]))
            if isinstance(revoked, SessionEnded):
                raise AuthenticationError(revoked.message)
            if revoked:
                raise AuthenticationError(_LOGGED_OUT_MESSAGE)
        return caller_from_claims(claims)

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        """Short-lived means short-lived: a validly signed long-lived token is refused."""
        try:
            issued_at, expires_at = float(claims["iat"]), float(claims["exp"])
        except (TypeError, ValueError) as error:
            raise AuthenticationError("the access token's iat or exp is not a time") from error
        if issued_at > time.time() + self.leeway_s:
            raise AuthenticationError("the access token is issued in the future")
        if expires_at - issued_at > self.max_lifetime_s:
            raise AuthenticationError(
                f"the access token lives longer than the {self.max_lifetime_s} s allowed"
            )


def caller_from_claims(claims: dict[str, Any]) -> Caller:
    """The Caller an access token's claims describe."""
    known = {role.value for role in Role}
    roles = frozenset(Role(role) for role in claims.get("roles", ()) if role in known)
    return Caller(
        user_id=str(claims["sub"]),
        roles=roles,
        session_id=str(claims["sid"]),
        professional_id=claims.get("professional_id"),
        professions=tuple(claims.get("professions", ())),
        language=str(claims.get("lang", "nl")),
        display_name=str(claims.get("name", "")),
    )


def redis_client(redis_url: str) -> Redis:
    """A Redis client for revocation checks (`servicekit.redis_client`'s, with the short
    waits a request can afford: every verified request waits on it).

    The service that builds it owns it: it passes it to `redis_revocation_check` and to
    `servicekit.redis_client.redis_readiness`, and closes it on stop
    (`runtime.close_on_stop(name, client.aclose)`).
    """
    return servicekit_redis_client(redis_url, connect_timeout_s=1, answer_timeout_s=2)


class RevocationCheckUnavailable(Exception):
    """Redis, which holds logged-out sessions, does not answer."""


def redis_revocation_check(client: Redis, *, development: bool = False) -> RevocationCheck:
    """A revocation check reading identity's revoked-session keys through `client` (one of
    `redis_client`, which the caller closes): None when the session is not revoked, else
    why it ended.

    In production an unreachable Redis fails closed (503: a logged-out token must not pass).
    In development (a laptop without Redis, where identity keeps sessions in-process) it
    fails open with one warning: logouts then last until the short-lived token expires.
    """
    import redis.asyncio

    warned = False

    async def is_revoked(session_id: str) -> SessionEnded | None:
        nonlocal warned
        try:
            return SessionEnded.from_mark(await client.get(revoked_session_key(session_id)))
        except (redis.asyncio.ConnectionError, redis.asyncio.TimeoutError, OSError) as error:
            if not development:
                raise RevocationCheckUnavailable(str(error)) from error
            if not warned:
                warned = True
                log.warning(
                    "Redis does not answer: logged-out sessions are not checked "
                    "(development only; tokens still expire after minutes)"
                )
            return None

    return is_revoked


#: Declares the bearer token in the OpenAPI of every endpoint that reads it, so the API
#: docs (/docs, "Authorize") can send one. It checks nothing itself (`auto_error=False`):
#: `bearer_caller` reads and verifies the header.
BEARER_SCHEME = HTTPBearer(
    auto_error=False,
    scheme_name="accessToken",
    bearerFormat="JWT",
    description="An access token from `POST /api/identity/token` (after logging in).",
)


def bearer_caller(verifier: AccessTokenVerifier) -> Callable[..., Awaitable[Caller | None]]:
    """FastAPI dependency: the caller of a request with a valid bearer token, None without.

    A present but invalid token is a 401 (never silently anonymous).
    """

    async def dependency(
        request: Request,
        _: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER_SCHEME)],
    ) -> Caller | None:
        header = request.headers.get("authorization")
        if not header:
            return None
        scheme, _separator, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Problem(
                status.HTTP_401_UNAUTHORIZED,
                "malformed_authorization",
                "The Authorization header must be `Bearer <access token>`.",
                what_to_do="Send the access token from POST /api/identity/token as "
                "`Authorization: Bearer <token>`.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            return await verifier.verify(token.strip())
        except RevocationCheckUnavailable as error:
            raise Problem(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "session_check_unavailable",
                "Logins cannot be checked right now (session store unavailable).",
                what_to_do="Try again in a moment.",
                headers={"Retry-After": "5"},
            ) from error
        except AuthenticationError as error:
            raise Problem(
                status.HTTP_401_UNAUTHORIZED,
                "invalid_token",
                f"{error}.",
                what_to_do="Log in again to get a new access token.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from error

    return dependency


def require(caller: Caller | None) -> Caller:
    """The caller, or a 401 that says to log in."""
    if caller is None:
        raise Problem(
            status.HTTP_401_UNAUTHORIZED,
            "not_logged_in",
            "This needs an access token (Authorization: Bearer …).",
            what_to_do="Log in first, then send the access token from POST /api/identity/token.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return caller
