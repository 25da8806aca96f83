"""Keyed hashing of national register numbers: the only form in which they are kept."""

from __future__ import annotations

import hashlib
import hmac


class NrnHasher:
    """HMAC-SHA256 with a secret key shared with identity; without the key, no reversal."""

    def __init__(self, key: str) -> None:
        if len(key) < 16:
            raise ValueError("the national-register HMAC key must be at least 16 characters")
        self._key = key.encode()

    def hash(self, national_number: str) -> str:
        """Hex digest of the keyed hash."""
        return hmac.new(self._key, national_number.encode(), hashlib.sha256).hexdigest()
