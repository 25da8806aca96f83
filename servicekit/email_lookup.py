"""A keyed hash of an e-mail address, to find a user by the address without keeping it.

identity publishes it with each activated user's profile (`identity.profiles.v1`); fiches
computes the same hash of the address a manager types to grant rights. Both hold the same
key (`IDENTITY_EMAIL_LOOKUP_KEY` = `FICHES_EMAIL_LOOKUP_KEY`), so neither the topic nor a
copy of fiches' database reveals an address, and nobody without the key can test guesses.
"""

from __future__ import annotations

import hashlib
import hmac

#: Only ever used in development: identity and fiches refuse to start with it elsewhere.
DEVELOPMENT_EMAIL_LOOKUP_KEY = "development-only-email-lookup-key-do-not-use"


def email_lookup(address: str, key: str) -> str:
    """HMAC-SHA256 (hex) of the address, trimmed and lower-cased."""
    normalized = address.strip().lower().encode()
    return hmac.new(key.encode(), normalized, hashlib.sha256).hexdigest()
