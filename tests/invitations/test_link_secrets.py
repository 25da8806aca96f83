"""The link token and the address protection, on their own."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.exceptions import InvalidTag

from invitations.domain.addresses import AddressProtector
from invitations.domain.link_tokens import new_token, token_digest, token_matches


def test_tokens_carry_256_random_bits_and_are_stored_as_their_sha256() -> None:
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    token = tokens.pop()
    assert len(base64.urlsafe_b64decode(token + "=")) == 32
    assert token_digest(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token not in token_digest(token)


def test_a_token_matches_only_its_own_digest() -> None:
    token = new_token()
    digest = token_digest(token)
    assert token_matches(token, digest)
    tampered = ("A" if token[0] != "A" else "B") + token[1:]
    assert not token_matches(tampered, digest)
    assert not token_matches(token[:-1], digest)


def test_address_fingerprint_is_keyed_and_ignores_case() -> None:
    one = AddressProtector("x" * 32)
    other = AddressProtector("y" * 32)
    assert one.fingerprint("Nele@Example.be ") == one.fingerprint("nele@example.be")
    assert one.fingerprint("nele@example.be") != other.fingerprint("nele@example.be")
    assert one.fingerprint("nele@example.be") != hashlib.sha256(b"nele@example.be").hexdigest()


def test_a_sealed_address_opens_only_for_its_own_invitation() -> None:
    protector = AddressProtector("z" * 40)
    sealed = protector.seal("nele@example.be", "invitation-1")
    assert "nele" not in sealed
    assert protector.unseal(sealed, "invitation-1") == "nele@example.be"
    with pytest.raises(InvalidTag):
        protector.unseal(sealed, "invitation-2")
    with pytest.raises(InvalidTag):
        AddressProtector("w" * 40).unseal(sealed, "invitation-1")


def test_a_short_address_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        AddressProtector("too-short")
