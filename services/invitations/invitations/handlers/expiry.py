"""The scheduled sweep that ends invitations nobody answered in time."""

from __future__ import annotations

import asyncio
import logging

from contracts.events.invitations import InvitationExpired, InvitationOutcome
from invitations.adapters.invitation_repository import InvitationRepository
from invitations.domain.invitation import InvitationStatus
from invitations.handlers.context import InvitationsContext, inviter_notification

log = logging.getLogger(__name__)


async def expire_lapsed_invitations(context: InvitationsContext) -> int:
    """Mark lapsed open invitations expired and tell their inviters; returns how many.

    Each invitation ends by a conditional update, so two replicas sweeping at once (or an
    answer arriving at the same moment) never end one twice.
    """
    now = context.clock()
    expired = 0
    async with context.sessions() as session, session.begin():
        repository = InvitationRepository(session)
        for invitation in await repository.lapsed(now, context.settings.expiry_sweep_batch):
            if not await repository.end(
                invitation.invitation_id,
                InvitationStatus.EXPIRED,
                now,
                must_be_unlapsed=False,
            ):
                continue
            expired += 1
            await context.outbox.add_all(
                session,
                [
                    InvitationExpired(
                        invitation_id=invitation.invitation_id,
                        practice_id=invitation.practice_id,
                        occurred_at=now,
                    ),
                    inviter_notification(invitation, InvitationOutcome.EXPIRED, now),
                ],
            )
    if expired:
        context.committed()
        log.info("invitations expired", extra={"count": expired})
    return expired


async def sweep_forever(context: InvitationsContext) -> None:
    """Sweep every `expiry_sweep_interval_s` until cancelled; a failed sweep is retried."""
    while True:
        try:
            while await expire_lapsed_invitations(context) == context.settings.expiry_sweep_batch:
                pass  # a full batch: more may be waiting
        except Exception:
            log.exception("expiry sweep failed; retrying at the next interval")
        await asyncio.sleep(context.settings.expiry_sweep_interval_s)
