"""notifications under test: its database, a real local SMTP server, and event builders."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from contracts.base import Event
from contracts.events.fiches import RequestDecided, RequestDecision, RequestKind
from contracts.events.identity import (
    ActivationMailRequested,
    EmailVerificationRequested,
    ProfileActivated,
    Role,
    UserActivated,
)
from contracts.events.invitations import InviteeMailRequested
from notifications.adapters.dev_mailbox import LocalSmtpServer, StoredMessage, read_mailbox
from notifications.adapters.tables import deliveries, outbox
from notifications.config import Settings
from notifications.entrypoints.app import NotificationsComponent, build_component
from notifications.entrypoints.kafka import mail_requests
from notifications.handlers.mail_requests import MailRequestHandlers
from servicekit.embedded_broker import free_loopback_port
from servicekit.sealing import development_key_ring, purpose
from servicekit.settings import KafkaSettings, PlatformSettings

SOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
#: What identity and invitations seal to in development (notifications' default key).
MAIL_KEY = development_key_ring().current


def verification(
    *, language: str = "nl", email: str | None = None, token: str | None = None
) -> EmailVerificationRequested:
    """An activation request with a unique address and token."""
    token = token or uuid.uuid4().hex
    return EmailVerificationRequested(
        verification_id=str(uuid.uuid4()),
        user_id=str(uuid.uuid4()),
        email=email or f"user-{uuid.uuid4().hex[:8]}@example.org",
        language=language,
        display_name="Ann",
        activation_url=f"https://skaart.test/activate?token={token}",
        expires_at=SOON,
        occurred_at=datetime.now(UTC),
    )


def activated(user_id: str, *, email: str, language: str = "nl") -> UserActivated:
    """identity's activation of a user."""
    return UserActivated(
        user_id=user_id,
        email=email,
        language=language,
        display_name="Bart",
        roles=(Role.PROFESSIONAL,),
        occurred_at=datetime.now(UTC),
    )


def profile_activated(user_id: str, *, email: str, language: str = "nl") -> ProfileActivated:
    """identity's activation of a user, the address sealed for notifications."""
    return ProfileActivated(
        user_id=user_id,
        sealed_email=MAIL_KEY.seal(email, purpose("email", user_id)),
        language=language,
        display_name="Bart",
        roles=(Role.PROFESSIONAL,),
        occurred_at=datetime.now(UTC),
    )


def activation_mail(*, email: str, token: str, language: str = "nl") -> ActivationMailRequested:
    """identity's activation mail request, address and link sealed for notifications."""
    verification_id, user_id = str(uuid.uuid4()), str(uuid.uuid4())
    return ActivationMailRequested(
        verification_id=verification_id,
        user_id=user_id,
        sealed_email=MAIL_KEY.seal(email, purpose("email", user_id)),
        language=language,
        display_name="Ann",
        sealed_activation_url=MAIL_KEY.seal(
            f"https://skaart.test/activate?token={token}",
            purpose("activation_url", verification_id),
        ),
        expires_at=SOON,
        occurred_at=datetime.now(UTC),
    )


def invitee_mail(
    *, email: str, token: str, language: str = "nl", language_chosen: bool = False
) -> InviteeMailRequested:
    """invitations' mail request, address and link sealed for notifications."""
    invitation_id = str(uuid.uuid4())
    return InviteeMailRequested(
        invitation_id=invitation_id,
        sealed_email=MAIL_KEY.seal(email, purpose("email", invitation_id)),
        language=language,
        language_chosen=language_chosen,
        practice_name="Praktijk Zuid",
        inviter_name="Dr. Peeters",
        profession="nurse",
        sealed_accept_url=MAIL_KEY.seal(
            f"https://skaart.test/api/invitations/link?token={token}",
            purpose("accept_url", invitation_id),
        ),
        expires_at=SOON,
        occurred_at=datetime.now(UTC),
    )


def decided(
    user_id: str, *, kind: RequestKind = RequestKind.LINK, fiche_name: str = "Praktijk Zuid"
) -> RequestDecided:
    """A decision on a user's request."""
    return RequestDecided(
        request_id=str(uuid.uuid4()),
        kind=kind,
        fiche_type="practice",
        fiche_id=str(uuid.uuid4()),
        fiche_name=fiche_name,
        requester_user_id=user_id,
        decision=RequestDecision.APPROVED,
        comment=None,
        occurred_at=datetime.now(UTC),
    )


@dataclass
class NotificationsUnderTest:
    """The component (not started: no broker), its SMTP server and helpers."""

    component: NotificationsComponent
    smtp: LocalSmtpServer
    handlers: MailRequestHandlers

    async def consume(self, *events: Event) -> None:
        """Apply events the way the inbox does: in one transaction."""
        handler_for: dict[type[Event], Callable[..., Any]] = dict(
            mail_requests(self.handlers).handlers
        )
        async with self.component.runtime.sessions() as session, session.begin():
            for event in events:
                await handler_for[type(event)](session, event)

    async def send_round(self) -> int:
        """One round of the sender."""
        assert self.component.sender is not None
        return await self.component.sender.run_once()

    async def send_until(self, condition: Callable[[], bool], timeout_s: float = 10) -> None:
        """Run sender rounds until `condition()` holds."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not condition():
            assert asyncio.get_running_loop().time() < deadline, "timed out"
            await self.send_round()
            await asyncio.sleep(0.02)

    def mail(self) -> list[StoredMessage]:
        """Messages the SMTP server received."""
        return read_mailbox(self.smtp.folder)

    async def delivery_rows(self) -> list[Any]:
        """Every delivery row."""
        async with self.component.runtime.sessions() as session:
            return list((await session.execute(sa.select(deliveries))).all())

    async def outbox_events(self) -> list[tuple[str, dict[str, Any]]]:
        """(CloudEvents type, payload) of every event queued in the outbox."""
        async with self.component.runtime.sessions() as session:
            rows = (await session.execute(sa.select(outbox).order_by(outbox.c.id))).all()
        result = []
        for row in rows:
            headers = dict(row.headers)
            result.append((headers["ce_type"], json.loads(row.payload)))
        return result


@pytest.fixture
async def notifications(
    database_url_factory: Any, tmp_path: Path
) -> AsyncIterator[NotificationsUnderTest]:
    """notifications on a fresh database, sending to a real local SMTP server (not started)."""
    port = free_loopback_port()
    settings = Settings(
        database_url=await database_url_factory("notifications"),
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_tls="none",
        smtp_timeout_s=2,
        send_attempts=3,
        send_backoff_s=0.05,
        send_backoff_max_s=0.2,
        embedded_smtp=False,
    )
    component = build_component(
        PlatformSettings(data_dir=tmp_path / "data"),
        KafkaSettings(bootstrap_servers="127.0.0.1:1"),
        settings,
    )
    await component.runtime.migrate()
    smtp = LocalSmtpServer(tmp_path / "received", port=port)
    try:
        yield NotificationsUnderTest(component, smtp, MailRequestHandlers(keys=settings.key_ring()))
    finally:
        await smtp.stop()
        await component.runtime.engine.dispose()


def later(seconds: float) -> datetime:
    """A moment `seconds` from now."""
    return datetime.now(UTC) + timedelta(seconds=seconds)
