"""The keyed hash of a national register number: the only form identity keeps it in.

Computed exactly as registry-sync computes it (HMAC-SHA256 of the eleven digits with the
shared key, hex), so the hash of the person logging in meets the hash registry-sync
published on `registry.identities.v1`.
"""

from __future__ import annotations

import hashlib
import hmac

NRN_LENGTH = 11
_SEPARATORS = str.maketrans("", "", " .-")


class InvalidNationalNumber(ValueError):
    """The provider's national register number is not eleven digits."""


def normalise_nrn(value: str) -> str:
    """The eleven digits of a national register number, without separators."""
    digits = value.translate(_SEPARATORS)
    if len(digits) != NRN_LENGTH or not digits.isascii() or not digits.isdigit():
        # Never echo the value: it is personal data.
        raise InvalidNationalNumber("the national register number is not eleven digits")
    return digits


class NrnHasher:
    """HMAC-SHA256 (hex) with the key shared with registry-sync."""

    def __init__(self, key: str) -> None:
        if len(key) < 16:
            raise ValueError(
                "the national-register HMAC key must be at least 16 characters: set "
                "IDENTITY_NRN_HMAC_KEY to the same value as REGISTRY_SYNC_NRN_HMAC_KEY"
            )
        self._key = key.encode()

    def hash(self, national_number: str) -> str:
        """Hex digest of the keyed hash of the normalised number."""
        digits = normalise_nrn(national_number)
        return hmac.new(self._key, digits.encode(), hashlib.sha256).hexdigest()
