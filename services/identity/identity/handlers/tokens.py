"""Access tokens: short-lived ES256 JWTs minted from a live session, and the public keys
that verify them (announced on `identity.signing-keys.v1` too)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity.adapters.signing_keys import NoSigningKey, SigningKey, SigningKeys
from identity.handlers.problems import Problem, UserStatus, utc_now
from identity.handlers.roles import session_roles
from identity.handlers.sessions import Sessions
from servicekit.auth import ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER


@dataclass
class AccessTokens:
    """Mints access tokens for active users' sessions."""

    db: async_sessionmaker[AsyncSession]
    sessions: Sessions
    keys: SigningKeys
    ttl_s: int

    async def issue(self, token: str | None) -> dict[str, Any]:
        """A short-lived signed access token for the session's user (active users only)."""
        row = await self.sessions.live(token)
        if row.status != UserStatus.ACTIVE:
            raise Problem(
                403,
                "profile_not_active",
                "Your profile is not active yet: the e-mail address is not verified.",
                "Give your address (PUT /api/identity/me/email) and follow the "
                "activation link we e-mail you.",
            )
        key = await self._signing_key()
        now = utc_now()
        claims: dict[str, Any] = {
            "iss": ACCESS_TOKEN_ISSUER,
            "aud": ACCESS_TOKEN_AUDIENCE,
            "sub": row.user_id,
            "sid": row.session_id,
            "iat": now,
            "exp": now + timedelta(seconds=self.ttl_s),
            "roles": [str(role) for role in session_roles(row)],
            "professions": list(row.professions),
            "lang": row.language,
            "name": f"{row.given_name} {row.surname}".strip(),
        }
        if row.login_as == "professional" and row.professional_id:
            claims["professional_id"] = row.professional_id
        signed = jwt.encode(claims, key.private_key, algorithm="ES256", headers={"kid": key.kid})
        return {"access_token": signed, "token_type": "Bearer", "expires_in": self.ttl_s}

    async def _signing_key(self) -> SigningKey:
        async with self.db() as session:
            try:
                return await self.keys.current(session)
            except NoSigningKey as error:
                raise Problem(
                    503, "no_signing_key", str(error), "Try again shortly.", retry_after=2
                ) from error

    async def public_keys(self) -> list[dict[str, Any]]:
        """The JWKs of the keys already announced (a key signs only after its announcement)."""
        async with self.db() as db:
            listing = await self.keys.listing(db)
        return [key["public_jwk"] for key in listing if key["announced"]]
