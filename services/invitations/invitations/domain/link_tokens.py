"""The secret in an invitation link: random, single-use, kept only as a hash.

The token is 32 random bytes (256 bits) from the operating system's CSPRNG. Only its
SHA-256 digest is stored. A plain (fast, unsalted) hash is enough here because the input
is not a password: with 2^256 equally likely tokens there is no dictionary to try and no
brute force to slow down, so a slow, salted hash (bcrypt, Argon2) would add cost and no
protection. What the hash does give: a copy of the database holds nothing that opens an
invitation (SHA-256 is preimage resistant).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32
"""256 bits of entropy."""


def new_token() -> str:
    """A fresh link token (URL-safe text, 43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """What is stored and looked up: the token's SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_digest: str) -> bool:
    """Whether `token` is the one behind `stored_digest`, compared in constant time."""
    return hmac.compare_digest(token_digest(token), stored_digest)
