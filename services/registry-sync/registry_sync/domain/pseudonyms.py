"""Keyed hashing of national register numbers: the only form in which they are kept."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

#: Bump when what a line means changes (validation rules, the facts kept of a line): the
#: stored line digests then no longer match, and the next import reads every line again.
LINE_RULES_VERSION = b"registry-line-1"


class NrnHasher:
    """HMAC-SHA256 with a secret key shared with identity; without the key, no reversal."""

    def __init__(self, key: str) -> None:
        if len(key) < 16:
            raise ValueError("the national-register HMAC key must be at least 16 characters")
        self._key = key.encode()
        # A key of its own for line digests, derived from the secret: a line holds a
        # national register number, so its digest must not be computable without the key.
        self.line_key = hashlib.blake2b(
            self._key, digest_size=32, person=b"line-digest", salt=LINE_RULES_VERSION[:16]
        ).digest()
        """The key of line digests (`line_digest` is `blake2b(line, digest_size=16,
        key=line_key)`): secret as the key it is derived from."""
        # Keyed once: a copy of this state hashes a line as `blake2b(line, key=...)` would,
        # without absorbing the key block again for every line.
        self._line_state = hashlib.blake2b(digest_size=16, key=self.line_key)

    def hash(self, national_number: str) -> str:
        """Hex digest of the keyed hash."""
        return hmac.new(self._key, national_number.encode(), hashlib.sha256).hexdigest()

    def line_digest(self, line: bytes) -> bytes:
        """16-byte keyed digest of one raw source line: equal lines, equal digests."""
        state = self._line_state.copy()
        state.update(line)
        return state.digest()

    def line_hasher(self) -> Callable[[], hashlib.blake2b]:
        """A fresh keyed state per call (`update(line)`, then `digest()`): `line_digest`
        without a Python call per line, for the loop over every line of a snapshot."""
        return self._line_state.copy
