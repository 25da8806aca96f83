"""Events that ask for an e-mail become delivery records; nothing is sent here.

Each handler runs inside the inbox's batch transaction and only records what to send:
the sender loop (`notifications.handlers.sender`) sends pending deliveries with its own
retries, so an SMTP outage never holds the Kafka consumer.

To add a message: a template folder, a `TemplateName`, a handler here that records a
`NewDelivery`, and one line in `subscription()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.base import Event
from contracts.events import fiches, identity, invitations
from notifications.adapters.deliveries import (
    Address,
    NewDelivery,
    find_address,
    record_delivery,
    release_waiting,
    remember_address,
)
from notifications.domain.deliveries import TemplateName
from servicekit.messaging.inbox import EventHandler, Subscription

log = logging.getLogger(__name__)

SUBSCRIPTION = "mail-requests"
TOPICS = (
    identity.USERS_TOPIC,
    fiches.REQUESTS_TOPIC,
    fiches.EXPORTS_TOPIC,
    invitations.DELIVERIES_TOPIC,
)


def _now() -> datetime:
    return datetime.now(UTC)


class MailRequestHandlers:
    """Records one delivery per event that should reach a person."""

    def __init__(self, *, clock: Callable[[], datetime] = _now) -> None:
        self._clock = clock

    def subscription(self) -> Subscription:
        """One consumer group over every topic that asks notifications for an e-mail."""
        handlers: dict[type[Event], EventHandler] = {
            identity.EmailVerificationRequested: self.email_verification_requested,
            identity.UserActivated: self.user_activated,
            fiches.RequestDecided: self.request_decided,
            fiches.ExportReady: self.export_ready,
            invitations.InvitationMailRequested: self.invitation_mail_requested,
            invitations.InviterNotificationRequested: self.inviter_notification_requested,
        }
        return Subscription(
            name=SUBSCRIPTION,
            topics=TOPICS,
            handlers=handlers,
            description="E-mails to send and the address book (user id → verified address).",
        )

    async def email_verification_requested(
        self, session: AsyncSession, event: identity.EmailVerificationRequested
    ) -> None:
        """Mail the activation link to the address being verified."""
        await self._record(
            session,
            event,
            NewDelivery(
                dedup_key=f"email_verification:{event.verification_id}",
                source_event_type=event.event_type,
                source_id=event.verification_id,
                template=TemplateName.EMAIL_VERIFICATION,
                recipient_user_id=event.user_id,
                email=event.email,
                language=event.language,
                context={
                    "display_name": event.display_name,
                    "activation_url": event.activation_url,
                    "expires_at": event.expires_at.isoformat(),
                },
            ),
        )

    async def user_activated(self, session: AsyncSession, event: identity.UserActivated) -> None:
        """Remember the verified address; send what waited for it."""
        address = Address(event.email, event.language, event.display_name)
        now = self._clock()
        await remember_address(session, event.user_id, address, now)
        released = await release_waiting(session, event.user_id, address, now)
        if released:
            log.info(
                "deliveries addressed after activation",
                extra={"deliveries": released, "count": len(released)},
            )

    async def request_decided(self, session: AsyncSession, event: fiches.RequestDecided) -> None:
        """Tell the requester what was decided."""
        await self._record_for_user(
            session,
            event,
            user_id=event.requester_user_id,
            dedup_key=f"request_decided:{event.request_id}",
            source_id=event.request_id,
            template=TemplateName.REQUEST_DECIDED,
            context={
                "kind": event.kind.value,
                "decision": event.decision.value,
                "fiche_type": event.fiche_type,
                "fiche_name": event.fiche_name,
                "comment": event.comment,
            },
        )

    async def export_ready(self, session: AsyncSession, event: fiches.ExportReady) -> None:
        """Mail the download link to whoever asked for the export."""
        await self._record_for_user(
            session,
            event,
            user_id=event.user_id,
            dedup_key=f"export_ready:{event.export_id}",
            source_id=event.export_id,
            template=TemplateName.EXPORT_READY,
            context={
                "formats": list(event.formats),
                "download_url": event.download_url,
                "expires_at": event.expires_at.isoformat(),
            },
        )

    async def invitation_mail_requested(
        self, session: AsyncSession, event: invitations.InvitationMailRequested
    ) -> None:
        """Mail the invitation (and every resend: each has its own moment)."""
        await self._record(
            session,
            event,
            NewDelivery(
                dedup_key=f"invitation:{event.invitation_id}:{event.occurred_at.isoformat()}",
                source_event_type=event.event_type,
                source_id=event.invitation_id,
                template=TemplateName.INVITATION,
                email=event.email,
                language=event.language,
                context={
                    "practice_name": event.practice_name,
                    "inviter_name": event.inviter_name,
                    "profession": event.profession,
                    "accept_url": event.accept_url,
                    "expires_at": event.expires_at.isoformat(),
                },
            ),
        )

    async def inviter_notification_requested(
        self, session: AsyncSession, event: invitations.InviterNotificationRequested
    ) -> None:
        """Tell the inviter how their invitation ended."""
        await self._record_for_user(
            session,
            event,
            user_id=event.inviter_user_id,
            dedup_key=f"invitation_outcome:{event.invitation_id}:{event.outcome.value}",
            source_id=event.invitation_id,
            template=TemplateName.INVITATION_OUTCOME,
            context={
                "practice_name": event.practice_name,
                "outcome": event.outcome.value,
                "colleague_name": event.colleague_name,
            },
        )

    async def _record_for_user(
        self,
        session: AsyncSession,
        event: Event,
        *,
        user_id: str,
        dedup_key: str,
        source_id: str,
        template: TemplateName,
        context: Mapping[str, Any],
    ) -> None:
        # Other services name users by id only; the address comes from UserActivated,
        # which travels on another topic and may arrive later: then the delivery waits.
        address = await find_address(session, user_id)
        await self._record(
            session,
            event,
            NewDelivery(
                dedup_key=dedup_key,
                source_event_type=event.event_type,
                source_id=source_id,
                template=template,
                recipient_user_id=user_id,
                email=address.email if address else None,
                language=address.language if address else None,
                context={**context, "display_name": address.display_name if address else ""},
            ),
        )

    async def _record(self, session: AsyncSession, event: Event, new: NewDelivery) -> None:
        recorded = await record_delivery(session, new, self._clock())
        if recorded is None:
            log.info(
                "delivery already recorded; nothing more to send",
                extra={"template": new.template, "source_id": new.source_id},
            )
            return
        delivery_id, status = recorded
        log.info(
            "delivery recorded",
            extra={"delivery_id": delivery_id, "template": new.template, "status": status.value},
        )
