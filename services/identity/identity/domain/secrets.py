"""Random tokens handed to people, and the only form in which identity stores them."""

from __future__ import annotations

import base64
import hashlib
import secrets


def new_token() -> str:
    """A URL-safe random token with 256 bits of entropy."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """SHA-256 (hex) of a token: enough for a 256-bit random value, and unsalted on
    purpose so the stored hash can be looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def pkce_challenge(verifier: str) -> str:
    """S256 code challenge of a PKCE code verifier (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
