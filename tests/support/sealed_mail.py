"""Open the sealed parts of mail requests in tests, as notifications does when it sends.

The services under test seal to the development key pair (their default in
development), so its private key opens what they wrote.
"""

from __future__ import annotations

from typing import Any

from servicekit.sealing import development_key_ring, purpose

#: sealed field → (clear name, the id field the value is bound to)
_SEALED_FIELDS = {
    "sealed_accept_url": ("accept_url", "invitation_id"),
    "sealed_activation_url": ("activation_url", "verification_id"),
}


def opened(mail: dict[str, Any]) -> dict[str, Any]:
    """A mail request's payload with `email` and its link opened next to the sealed values."""
    keys = development_key_ring()
    result = dict(mail)
    owner = mail.get("user_id") or mail["invitation_id"]
    result["email"] = keys.open(mail["sealed_email"], purpose("email", owner))
    for field, (name, id_field) in _SEALED_FIELDS.items():
        if field in mail:
            result[name] = keys.open(mail[field], purpose(name, mail[id_field]))
    return result


def opened_all(mails: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`opened` for each mail request."""
    return [opened(mail) for mail in mails]
