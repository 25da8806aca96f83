"""Access tokens for tests of services that verify them (fiches, invitations).

A `TokenSigner` plays identity's signing role with its own key; a service under test
trusts it through `AuthSettings(trusted_jwks=signer.jwks())` or by receiving its
`SigningKeyPublished` event, exactly as it would trust identity.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from contracts.events.identity import Role, SigningKeyPublished
from servicekit.auth import ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER


class TokenSigner:
    """An ES256 key that signs access tokens the way identity does."""

    def __init__(self, kid: str | None = None) -> None:
        self.kid = kid or f"test-{uuid.uuid4().hex[:8]}"
        self._private = ec.generate_private_key(ec.SECP256R1())

    def public_jwk(self) -> dict[str, str]:
        jwk: dict[str, str] = json.loads(
            jwt.algorithms.ECAlgorithm.to_jwk(self._private.public_key())
        )
        return {**jwk, "kid": self.kid, "alg": "ES256", "use": "sig"}

    def jwks(self) -> str:
        return json.dumps({"keys": [self.public_jwk()]})

    def announcement(self) -> SigningKeyPublished:
        now = datetime.now(UTC)
        return SigningKeyPublished(
            kid=self.kid,
            algorithm="ES256",
            public_jwk=self.public_jwk(),
            not_before=now,
            occurred_at=now,
        )

    def token(
        self,
        user_id: str | None = None,
        *,
        roles: Iterable[Role] = (Role.CITIZEN,),
        professional_id: str | None = None,
        professions: Iterable[str] = (),
        lifetime: timedelta = timedelta(minutes=5),
        **overrides: Any,
    ) -> str:
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": ACCESS_TOKEN_ISSUER,
            "aud": ACCESS_TOKEN_AUDIENCE,
            "sub": user_id or str(uuid.uuid4()),
            "sid": str(uuid.uuid4()),
            "iat": now,
            "exp": now + lifetime,
            "roles": [str(role) for role in roles],
            "professions": list(professions),
            "lang": "nl",
            "name": "Test",
        }
        if professional_id is not None:
            claims["professional_id"] = professional_id
        claims.update(overrides)
        return jwt.encode(claims, self._private, algorithm="ES256", headers={"kid": self.kid})

    def headers(self, user_id: str | None = None, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user_id, **kwargs)}"}
