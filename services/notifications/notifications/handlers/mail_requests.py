"""Events that ask for an e-mail become delivery records; nothing is sent here.

Each handler runs inside the inbox's batch transaction and only records what to send:
the sender loop (`notifications.handlers.sender`) sends pending deliveries with its own
retries, so an SMTP outage never holds the Kafka consumer.

To add a message: a template folder, a `TemplateName`, a handler here that records a
`NewDelivery`, and one line in `entrypoints/kafka.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
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
    seal_context,
    seal_value,
)
from notifications.domain.deliveries import PREFER_RECIPIENT_LANGUAGE, TemplateName
from servicekit.sealing import KeyRing, SealingError, purpose

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class MailRequestHandlers:
    """Records one delivery per event that should reach a person.

    Addresses and links arrive sealed for notifications (servicekit.sealing) and are
    recorded as they came; the few that still arrive clear (events from before the
    senders sealed them, fiches' export links) are sealed here before they are stored.
    Nothing is stored opened: the sender opens addresses and links when it sends, and an
    activated user's address is opened here only in memory, for its keyed digest.
    """

    def __init__(self, *, keys: KeyRing, clock: Callable[[], datetime] = _now) -> None:
        self._keys = keys
        self._clock = clock

    async def activation_mail_requested(
        self, session: AsyncSession, event: identity.ActivationMailRequested
    ) -> None:
        """Mail the activation link to the address being verified."""
        await self._verification(
            session,
            event,
            sealed_email=event.sealed_email,
            activation_url=event.sealed_activation_url,
        )

    async def email_verification_requested(
        self, session: AsyncSession, event: identity.EmailVerificationRequested
    ) -> None:
        """The same, for an event published before identity sealed what it carries."""
        await self._verification(
            session,
            event,
            sealed_email=self._seal_email(event.email, event.user_id),
            activation_url=event.activation_url,
        )

    async def _verification(
        self,
        session: AsyncSession,
        event: identity.ActivationMailRequested | identity.EmailVerificationRequested,
        *,
        sealed_email: str,
        activation_url: str,
    ) -> None:
        await self._record(
            session,
            event,
            NewDelivery(
                dedup_key=f"email_verification:{event.verification_id}",
                source_event_type=event.event_type,
                source_id=event.verification_id,
                template=TemplateName.EMAIL_VERIFICATION,
                recipient_user_id=event.user_id,
                sealed_email=sealed_email,
                language=event.language,
                context={
                    "display_name": event.display_name,
                    "activation_url": activation_url,
                    "expires_at": event.expires_at.isoformat(),
                },
            ),
        )

    async def profile_activated(
        self, session: AsyncSession, event: identity.ProfileActivated
    ) -> None:
        """Remember the verified (sealed) address; send what waited for it."""
        try:
            # Opened in memory only, for the keyed digest that finds the user by address.
            clear = self._keys.open(event.sealed_email, purpose("email", event.user_id))
            digest: str | None = self._keys.address_digest(clear)
        except SealingError as error:
            log.warning(
                "address of an activated user does not open",
                extra={"user_id": event.user_id, "error": str(error)},
            )
            digest = None
        address = Address(event.sealed_email, event.language, event.display_name, digest)
        await self._remember(session, event.user_id, address)

    async def user_activated(self, session: AsyncSession, event: identity.UserActivated) -> None:
        """The same, for an event published before identity sealed the address."""
        sealed = self._seal_email(event.email, event.user_id)
        digest = self._keys.address_digest(event.email)
        address = Address(sealed, event.language, event.display_name, digest)
        await self._remember(session, event.user_id, address)

    def _seal_email(self, email: str, owner_id: str) -> str:
        return seal_value(email, self._keys, purpose("email", owner_id))

    async def _remember(self, session: AsyncSession, user_id: str, address: Address) -> None:
        now = self._clock()
        await remember_address(session, user_id, address, now)
        released = await release_waiting(session, user_id, address, now)
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

    async def invitee_mail_requested(
        self, session: AsyncSession, event: invitations.InviteeMailRequested
    ) -> None:
        """Mail the invitation (and every resend: each has its own moment)."""
        await self._invitation(
            session,
            event,
            sealed_email=event.sealed_email,
            accept_url=event.sealed_accept_url,
            language_chosen=event.language_chosen,
        )

    async def invitation_mail_requested(
        self, session: AsyncSession, event: invitations.InvitationMailRequested
    ) -> None:
        """The same, for an event published before invitations sealed what it carries."""
        await self._invitation(
            session,
            event,
            sealed_email=self._seal_email(event.email, event.invitation_id),
            accept_url=event.accept_url,
            language_chosen=False,
        )

    async def _invitation(
        self,
        session: AsyncSession,
        event: invitations.InviteeMailRequested | invitations.InvitationMailRequested,
        *,
        sealed_email: str,
        accept_url: str,
        language_chosen: bool,
    ) -> None:
        await self._record(
            session,
            event,
            NewDelivery(
                dedup_key=f"invitation:{event.invitation_id}:{event.occurred_at.isoformat()}",
                source_event_type=event.event_type,
                source_id=event.invitation_id,
                template=TemplateName.INVITATION,
                sealed_email=sealed_email,
                language=event.language,
                context={
                    "practice_name": event.practice_name,
                    "inviter_name": event.inviter_name,
                    "profession": event.profession,
                    "accept_url": accept_url,
                    "expires_at": event.expires_at.isoformat(),
                    # Unless the manager chose, the sender writes in the invitee's own
                    # language when the address belongs to a user it knows.
                    PREFER_RECIPIENT_LANGUAGE: not language_chosen,
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
                sealed_email=address.sealed_email if address else None,
                language=address.language if address else None,
                context={**context, "display_name": address.display_name if address else ""},
            ),
        )

    async def _record(self, session: AsyncSession, event: Event, new: NewDelivery) -> None:
        # Links still clear (older events, export links) are sealed before they are stored.
        sealed = replace(new, context=seal_context(new.context, self._keys, new.source_id))
        recorded = await record_delivery(session, sealed, self._clock())
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
