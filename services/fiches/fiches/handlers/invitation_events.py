"""An accepted invitation links the invitee's offers to the inviting practice.

A manager invited them, so no further approval is needed: the offers are linked in the
practice's edit version and that part of the offer block is published at once (if the
practice itself is published). Other unpublished edits of the practice stay unpublished:
only the invitee's offers become public.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events.invitations import InvitationAccepted
from fiches.adapters import practice_store as store
from fiches.adapters.practice_repository import PracticeFicheRepository
from fiches.handlers.practices import linked_provider, public_professions_of, save_practice
from servicekit.messaging.outbox import Outbox

log = logging.getLogger(__name__)


class InvitationEventHandlers:
    """Applies invitations' events inside the consumer's batch transaction."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    async def invitation_accepted(self, session: AsyncSession, event: InvitationAccepted) -> None:
        practice = await PracticeFicheRepository.of(session).get(event.practice_id, lock=True)
        if practice is None or practice.removed:
            log.warning(
                "invitation accepted for a practice that is not (or no longer) in fiches",
                extra={"invitation_id": event.invitation_id, "practice_id": event.practice_id},
            )
            return
        provider = await store.provider_by_professional(session, event.professional_id)
        if provider is None:
            # Retried, then dead-lettered: the registry event has not reached fiches yet.
            raise LookupError(
                f"invitation {event.invitation_id}: professional {event.professional_id} "
                "has no provider fiche in fiches yet; once their registry event has reached "
                "fiches, replay this message from deadletter.fiches.v1"
            )
        allowed = public_professions_of(provider)
        professions = [p for p in event.professions if p in allowed]
        if len(professions) != len(event.professions):
            log.warning(
                "invitation names professions the provider may not practise; they are skipped",
                extra={"invitation_id": event.invitation_id},
            )
        practice.link_offers(
            linked_provider(provider),
            professions,
            user_id=f"invitation:{event.invitation_id}",
            action=f"invitation:{event.invitation_id}",
            now=store.utcnow(),
            publish=True,
        )
        await save_practice(session, self._outbox, practice)
