"""What a delivery is, the states it passes through, and when it is tried again.

A delivery is one e-mail that one event asked for. Its life:

    waiting_address ──(UserActivated)──▶ pending ──(SMTP accepted)──▶ sent
          │                               │  ▲
          │ (address_wait_s passed)        │  └─(transient error, attempts left)
          ▼                               ▼
        failed ◀───(permanent error, or the last attempt failed)
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from enum import StrEnum

LANGUAGES = ("nl", "fr", "en")

#: Context flag: write in the recipient's own language when the address is a known user's.
PREFER_RECIPIENT_LANGUAGE = "prefer_recipient_language"

#: Template values that are links carrying a token: stored sealed, opened only to send.
SECRET_CONTEXT_KEYS = ("activation_url", "accept_url", "download_url")
DEFAULT_LANGUAGE = "nl"


class DeliveryStatus(StrEnum):
    """Where a delivery stands."""

    WAITING_ADDRESS = "waiting_address"
    """Addressed by user id, and that user's address is not known yet."""
    PENDING = "pending"
    """Ready to send (now, or after its backoff)."""
    SENT = "sent"
    """The SMTP relay accepted it."""
    FAILED = "failed"
    """Not sent and never will be: attempts exhausted, refused for good, or no address."""


class TemplateName(StrEnum):
    """The messages notifications knows how to write."""

    EMAIL_VERIFICATION = "email_verification"
    REQUEST_DECIDED = "request_decided"
    EXPORT_READY = "export_ready"
    INVITATION = "invitation"
    INVITATION_OUTCOME = "invitation_outcome"


def language_of(value: str | None) -> str:
    """nl, fr or en from a language tag (`fr`, `FR-be`, `en_GB`); Dutch when unknown."""
    if not value:
        return DEFAULT_LANGUAGE
    code = value.strip().lower().replace("_", "-").split("-", 1)[0]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def retry_delay(attempts_made: int, first_s: float, max_s: float) -> timedelta:
    """Delay before the next attempt: `first_s`, doubling per attempt, at most `max_s`."""
    exponent = max(0, attempts_made - 1)
    return timedelta(seconds=min(max_s, first_s * (2 ** min(exponent, 30))))


def recipient_digest(email: str) -> str:
    """SHA-256 of the normalised address, kept after the address itself is erased.

    It answers an operator's "was a message sent to this address?" (hash the address
    you were given and look it up) without the table listing anyone's address.
    """
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


_EMAIL = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


def scrub(text: str) -> str:
    """Remove addresses and links (which may carry tokens) from an error text."""
    return _URL.sub("[link]", _EMAIL.sub("[address]", text))
