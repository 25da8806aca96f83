"""The invitee's e-mail address: a keyed hash to recognise it, a sealed copy to resend.

invitations needs the address for two things only: to send (and resend) the e-mail of
an open invitation, and to recognise the same person invited twice by a practice. The
first needs the address itself, so it is kept encrypted (AES-256-GCM, bound to the
invitation's id) and erased when the invitation ends. The second needs only equality, so
a keyed hash (HMAC-SHA256) is kept: without the key, nobody can test a guessed address
against it, which an unkeyed hash of an address would allow.

Both keys are derived from one configured secret, each for its own purpose.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_HASH_PURPOSE = b"skaart/invitations/address-hash/v1"
_SEAL_PURPOSE = b"skaart/invitations/address-seal/v1"
_NONCE_BYTES = 12


def normalised(address: str) -> str:
    """The form that is hashed: trimmed and lower-cased (mail systems ignore case)."""
    return address.strip().lower()


@dataclass(frozen=True)
class AddressProtector:
    """Keyed hash and authenticated encryption of invitee addresses."""

    secret: str
    _hash_key: bytes = field(init=False, repr=False)
    _seal: AESGCM = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) < 32:
            raise ValueError("the address secret must be at least 32 characters long")
        master = self.secret.encode()
        object.__setattr__(
            self, "_hash_key", hmac.new(master, _HASH_PURPOSE, hashlib.sha256).digest()
        )
        seal_key = hmac.new(master, _SEAL_PURPOSE, hashlib.sha256).digest()
        object.__setattr__(self, "_seal", AESGCM(seal_key))

    def fingerprint(self, address: str) -> str:
        """Keyed hash of the normalised address (hex): equal addresses, equal fingerprints."""
        return hmac.new(self._hash_key, normalised(address).encode(), hashlib.sha256).hexdigest()

    def seal(self, address: str, invitation_id: str) -> str:
        """The address encrypted for one invitation (a copy moved to another row won't open)."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._seal.encrypt(nonce, address.encode(), invitation_id.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def unseal(self, sealed: str, invitation_id: str) -> str:
        """The address back; raises if the value was altered or belongs to another row."""
        raw = base64.urlsafe_b64decode(sealed.encode())
        nonce, body = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        return self._seal.decrypt(nonce, body, invitation_id.encode()).decode()
