"""A manager (or the team) looks at the practice's invitations and withdraws one."""

from __future__ import annotations

import logging

from contracts.events.invitations import InvitationRevoked
from invitations.adapters.invitation_repository import InvitationRepository
from invitations.domain.invitation import Invitation, InvitationRefused, InvitationStatus, Refusal
from invitations.handlers.context import (
    InvitationsContext,
    logged_in,
    managed_practice,
    status_word,
    unknown_invitation,
)
from servicekit.auth import Caller

log = logging.getLogger(__name__)


async def practice_invitations(
    context: InvitationsContext, caller: Caller | None, practice_id: str
) -> list[Invitation]:
    """Every invitation of a practice, for its managers and the team (no addresses)."""
    caller = logged_in(caller, "see the practice's invitations")
    async with context.sessions() as session:
        repository = InvitationRepository(session)
        managed_practice(await repository.practice(practice_id), practice_id, caller, team_may=True)
        return await repository.of_practice(practice_id)


async def revoke_invitation(
    context: InvitationsContext, caller: Caller | None, invitation_id: str
) -> Invitation:
    """Withdraw an open invitation (a manager or the team): its link stops working at once."""
    caller = logged_in(caller, "revoke an invitation")
    now = context.clock()
    async with context.sessions() as session, session.begin():
        repository = InvitationRepository(session)
        invitation = await repository.by_id(invitation_id)
        if invitation is None:
            raise unknown_invitation(invitation_id)
        managed_practice(
            await repository.practice(invitation.practice_id),
            invitation.practice_id,
            caller,
            team_may=True,
        )
        revoked = await repository.end(
            invitation_id,
            InvitationStatus.REVOKED,
            now,
            ended_by_user_id=caller.user_id,
            ended_by_name=caller.display_name[:300] or None,
        )
        if not revoked:
            status = status_word(invitation.status, now, invitation.expires_at)
            raise InvitationRefused(
                Refusal.CONFLICT,
                "not_open",
                f"This invitation is already {status}; there is nothing to revoke.",
            )
        await context.outbox.add(
            session,
            InvitationRevoked(
                invitation_id=invitation_id, practice_id=invitation.practice_id, occurred_at=now
            ),
        )
    context.committed()
    log.info("invitation revoked", extra={"invitation_id": invitation_id})
    return invitation
