"""Values sealed for notifications alone: e-mail addresses and links that carry tokens.

identity and invitations put an address and a single-use link in every mail request.
Whatever they write passes through their outbox table, the topic, and notifications'
delivery row; a copy of any of those (a backup, a WAL file, a dead row in a PostgreSQL
heap page, a topic dump) must open nothing. So the senders seal these values with
notifications' **public** key and only notifications, which holds the private key,
can open them, at the moment it sends. A sender cannot read what it sealed either.

The scheme is an ECIES-style sealed box, built from `cryptography` primitives:

    ephemeral X25519 key pair  ──ECDH with the recipient's public key──▶ shared secret
    HKDF-SHA256(shared secret, salt = ephemeral public ‖ recipient public) ▶ AES-256 key
    AES-256-GCM(key, random nonce, plaintext, associated data = the purpose)

A sealed value is text: ``sealed1.<key id>.<base64url(ephemeral public ‖ nonce ‖
ciphertext)>``. The key id (the first 8 bytes of the SHA-256 of the public key, hex)
names the key pair, so notifications can hold the current key and older ones while keys
are rotated (docs/security.md). The associated data binds a sealed value to what it is
for (e.g. ``activation_url:<verification id>``): moved into another event, it does not
open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

SEALED_PREFIX = "sealed1."
_INFO = b"skaart sealed mail value v1"
_NONCE_BYTES = 12
_KEY_BYTES = 32
#: Longest plaintext sealed: a link or an address is far shorter; a bigger value is a bug.
MAX_PLAINTEXT_BYTES = 4096

#: Development key pair, so that monolithic mode and the tests work with no setting.
#: Production refuses it (see `refuse_development_key`): its private half is public.
DEVELOPMENT_PRIVATE_KEY = "ZGV2ZWxvcG1lbnQtb25seS1ub3RpZmljYXRpb25zIWs"


class SealingError(ValueError):
    """A key or a sealed value is unusable; the message says which and why."""


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise SealingError("not base64url text") from error


def _key_bytes(text: str) -> bytes | None:
    """The 32 bytes of a key's base64url text, or None when it is not one."""
    try:
        raw = _b64decode(text.strip())
    except SealingError:
        return None
    return raw if len(raw) == _KEY_BYTES else None


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public_raw: bytes) -> str:
    """The id of a key pair: the first 8 bytes of the SHA-256 of its public key, hex."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def purpose(field: str, owner_id: str) -> str:
    """What a sealed value is bound to: the field it fills and the id it belongs to.

    An address is bound to the user (or, for an invitee, the invitation) it is for, a
    link to the request it answers: ``email:<user_id>``, ``activation_url:<verification_id>``.
    """
    return f"{field}:{owner_id}"


def is_sealed(value: object) -> bool:
    """Whether `value` is a sealed value (and not a clear one)."""
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


@dataclass(frozen=True)
class SealingKey:
    """A public key values are sealed to (what identity and invitations hold)."""

    public: X25519PublicKey

    @classmethod
    def from_text(cls, text: str) -> SealingKey:
        """From the base64url form of the 32-byte public key (the setting's value)."""
        raw = _key_bytes(text)
        if raw is None:
            raise SealingError(
                "a mail public key is 32 bytes in base64url (43 characters). Copy it from "
                "`skaart mail-key public`."
            )
        return cls(X25519PublicKey.from_public_bytes(raw))

    @property
    def key_id(self) -> str:
        return key_id(_raw_public(self.public))

    def text(self) -> str:
        """The base64url form, as the senders' setting takes it."""
        return _b64encode(_raw_public(self.public))

    def seal(self, plaintext: str, purpose: str) -> str:
        """Seal `plaintext` for the holder of the private key; `purpose` must match to open."""
        data = plaintext.encode()
        if len(data) > MAX_PLAINTEXT_BYTES:
            raise SealingError(f"refusing to seal {len(data)} bytes (at most 4096)")
        ephemeral = X25519PrivateKey.generate()
        ephemeral_raw = _raw_public(ephemeral.public_key())
        recipient_raw = _raw_public(self.public)
        aes = AESGCM(_derive(ephemeral.exchange(self.public), ephemeral_raw, recipient_raw))
        nonce = os.urandom(_NONCE_BYTES)
        body = ephemeral_raw + nonce + aes.encrypt(nonce, data, purpose.encode())
        return f"{SEALED_PREFIX}{key_id(recipient_raw)}.{_b64encode(body)}"


@dataclass(frozen=True)
class OpeningKey:
    """A private key (what notifications holds); its public half is `sealing_key`."""

    private: X25519PrivateKey

    @classmethod
    def from_text(cls, text: str) -> OpeningKey:
        """From the base64url form of the 32-byte private key."""
        raw = _key_bytes(text)
        if raw is None:
            raise SealingError(
                "a mail private key is 32 bytes in base64url (43 characters). Make one with "
                "`skaart mail-key new`."
            )
        return cls(X25519PrivateKey.from_private_bytes(raw))

    @classmethod
    def generate(cls) -> OpeningKey:
        return cls(X25519PrivateKey.generate())

    def text(self) -> str:
        """The base64url form, as NOTIFICATIONS_MAIL_PRIVATE_KEYS takes it."""
        return _b64encode(
            self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        )

    @property
    def sealing_key(self) -> SealingKey:
        return SealingKey(self.private.public_key())


class KeyRing:
    """The private keys notifications holds: the first is current, the others still open."""

    def __init__(self, keys: Iterable[OpeningKey]) -> None:
        self._keys = list(keys)
        if not self._keys:
            raise SealingError("at least one mail private key is needed")
        self._by_id = {key.sealing_key.key_id: key for key in self._keys}

    @classmethod
    def from_text(cls, text: str) -> KeyRing:
        """From a comma-separated list of private keys, the current one first."""
        return cls(OpeningKey.from_text(part) for part in text.split(",") if part.strip())

    @property
    def current(self) -> SealingKey:
        """What new values are sealed to (and what the senders should be given)."""
        return self._keys[0].sealing_key

    def sealed_to_current(self, value: str) -> bool:
        return value.startswith(f"{SEALED_PREFIX}{self.current.key_id}.")

    def open(self, sealed: str, purpose: str) -> str:
        """The plaintext of `sealed`; SealingError when no held key opens it for `purpose`."""
        if not is_sealed(sealed):
            raise SealingError("the value is not sealed")
        try:
            _, kid, body_text = sealed.split(".", 2)
        except ValueError as error:
            raise SealingError("a sealed value has three dot-separated parts") from error
        key = self._by_id.get(kid)
        if key is None:
            raise SealingError(
                f"sealed for mail key {kid}, which notifications does not hold (held: "
                f"{', '.join(self._by_id)}); add that private key to "
                "NOTIFICATIONS_MAIL_PRIVATE_KEYS or give the senders the current public key"
            )
        body = _b64decode(body_text)
        if len(body) < _KEY_BYTES + _NONCE_BYTES + 16:
            raise SealingError("the sealed value is cut off")
        ephemeral_raw = body[:_KEY_BYTES]
        nonce = body[_KEY_BYTES : _KEY_BYTES + _NONCE_BYTES]
        recipient_raw = _raw_public(key.private.public_key())
        shared = key.private.exchange(X25519PublicKey.from_public_bytes(ephemeral_raw))
        aes = AESGCM(_derive(shared, ephemeral_raw, recipient_raw))
        try:
            data = aes.decrypt(nonce, body[_KEY_BYTES + _NONCE_BYTES :], purpose.encode())
        except InvalidTag as error:
            raise SealingError(
                f"the sealed value does not open for {purpose.split(':', 1)[0]!r}: altered, "
                "or sealed for another purpose"
            ) from error
        return data.decode()

    def address_digest(self, address: str) -> str:
        """A keyed digest of an address under the current key: `<key id>:<hmac hex>`.

        It finds an address again (the same person invited by address) without storing
        it, and, unlike a plain hash, cannot be tested against guessed addresses without
        the private key.
        """
        return _address_digest(self._keys[0], address)

    def address_digests(self, address: str) -> list[str]:
        """The digest of `address` under every held key (entries made before a rotation)."""
        return [_address_digest(key, address) for key in self._keys]

    def reseal(self, sealed: str, purpose: str) -> str:
        """The value sealed to the current key (unchanged when it already is)."""
        if self.sealed_to_current(sealed):
            return sealed
        return self.current.seal(self.open(sealed, purpose), purpose)


def _address_digest(key: OpeningKey, address: str) -> str:
    private_raw = key.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    mac_key = HKDF(
        algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=None, info=b"skaart address digest v1"
    ).derive(private_raw)
    mac = hmac.new(mac_key, address.strip().lower().encode(), hashlib.sha256).hexdigest()
    return f"{key.sealing_key.key_id}:{mac}"


def _derive(shared: bytes, ephemeral_raw: bytes, recipient_raw: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=_KEY_BYTES,
        salt=ephemeral_raw + recipient_raw,
        info=_INFO,
    ).derive(shared)


def development_key_ring() -> KeyRing:
    return KeyRing.from_text(DEVELOPMENT_PRIVATE_KEY)


def development_public_key() -> str:
    """The public key of the development key pair (the senders' default in development)."""
    return development_key_ring().current.text()


def is_development_key(text: str) -> bool:
    """Whether a public or private key setting is (or contains) the development key pair."""
    development = {DEVELOPMENT_PRIVATE_KEY, development_public_key()}
    return any(part.strip() in development for part in text.split(","))
