"""Sending one message over SMTP (aiosmtplib), and telling transient from permanent errors."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

import aiosmtplib

from notifications.domain.deliveries import scrub

TlsMode = Literal["none", "starttls", "tls"]


@dataclass(frozen=True)
class SmtpTarget:
    """Where to send, and how."""

    host: str
    port: int
    tls: TlsMode = "starttls"
    username: str | None = None
    password: str | None = None
    timeout_s: float = 20.0


class NoSmtpRelay(ConnectionError):
    """No SMTP relay is configured (and no development mailbox runs)."""


class SmtpSendError(Exception):
    """An attempt failed; `permanent` when trying again cannot help."""

    def __init__(self, description: str, *, permanent: bool) -> None:
        super().__init__(description)
        self.description = description
        self.permanent = permanent


async def send_message(message: EmailMessage, target: SmtpTarget, *, envelope_from: str) -> None:
    """Hand the message to the relay; raises SmtpSendError describing what went wrong."""
    try:
        await aiosmtplib.send(
            message,
            sender=envelope_from,
            hostname=target.host,
            port=target.port,
            username=target.username,
            password=target.password,
            use_tls=target.tls == "tls",
            start_tls=target.tls == "starttls",
            timeout=target.timeout_s,
        )
    except Exception as error:
        raise SmtpSendError(describe(error), permanent=is_permanent(error)) from error


def is_permanent(error: BaseException) -> bool:
    """A 5xx refusal of the recipient or of the message itself: retrying cannot help.

    Everything else (no connection, a timeout, 4xx "try later", a refused login or
    sender, which are configuration problems an operator fixes) is retried.
    """
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(r.code >= 500 for r in error.recipients)
    if isinstance(error, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError):
        return error.code >= 500
    return False


def describe(error: BaseException) -> str:
    """The error's type, SMTP code and text, without addresses or links, at most 300 chars."""
    code: int | None = None
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        code = error.recipients[0].code
        text = error.recipients[0].message
    elif isinstance(error, aiosmtplib.SMTPResponseException):
        code = error.code
        text = error.message
    else:
        text = str(error)
    head = type(error).__name__ + (f" {code}" if code is not None else "")
    return scrub(f"{head}: {text}" if text else head)[:300]
