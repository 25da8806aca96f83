"""The invitee follows the link: sees the invitation, accepts it or declines it."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from contracts.events.invitations import (
    InvitationAccepted,
    InvitationDeclined,
    InvitationOutcome,
)
from invitations.adapters.invitation_repository import InvitationRepository
from invitations.domain.invitation import (
    Invitation,
    InvitationRefused,
    InvitationStatus,
    Invitee,
    Refusal,
    offers_to_link,
)
from invitations.handlers.context import (
    InvitationsContext,
    invitation_by_token,
    inviter_notification,
    logged_in,
)
from servicekit.auth import Caller

log = logging.getLogger(__name__)


def _answered_meanwhile() -> InvitationRefused:
    return InvitationRefused(
        Refusal.GONE,
        "already_used",
        "This invitation was answered a moment ago: a link works once. If your offer is not "
        "linked to the practice, ask the practice for a new invitation.",
    )


async def show_invitation(context: InvitationsContext, token: str) -> Invitation:
    """What the link shows: which practice invites, and for which profession."""
    async with context.sessions() as session:
        invitation, _ = await invitation_by_token(InvitationRepository(session), token)
    invitation.ensure_answerable(context.clock())
    return invitation


async def accept_invitation(
    context: InvitationsContext, caller: Caller | None, token: str, professions: Sequence[str]
) -> tuple[Invitation, tuple[str, ...]]:
    """Link the chosen offers: exactly once, by a professional, for professions they hold.

    A refusal leaves the invitation open for the right person.
    """
    caller = logged_in(caller, "accept the invitation (the invitation stays open)")
    now = context.clock()
    async with context.sessions() as session, session.begin():
        repository = InvitationRepository(session)
        invitation, digest = await invitation_by_token(repository, token)
        invitation.ensure_answerable(now)
        acceptance = offers_to_link(
            invitation,
            Invitee(caller.is_professional, caller.professional_id, caller.professions),
            professions,
        )
        won = await repository.end(
            invitation.invitation_id,
            InvitationStatus.ACCEPTED,
            now,
            token_digest=digest,
            ended_by_user_id=caller.user_id,
            ended_by_name=caller.display_name[:300] or None,
            accepted_professional_id=acceptance.professional_id,
            accepted_professions=list(acceptance.professions),
        )
        if not won:
            raise _answered_meanwhile()
        await context.outbox.add_all(
            session,
            [
                InvitationAccepted(
                    invitation_id=invitation.invitation_id,
                    practice_id=invitation.practice_id,
                    occurred_at=now,
                    professional_id=acceptance.professional_id,
                    professions=acceptance.professions,
                ),
                inviter_notification(
                    invitation,
                    InvitationOutcome.ACCEPTED,
                    now,
                    colleague_name=caller.display_name or None,
                ),
            ],
        )
    context.committed()
    log.info("invitation accepted", extra={"invitation_id": invitation.invitation_id})
    return invitation, acceptance.professions


async def decline_invitation(context: InvitationsContext, token: str) -> Invitation:
    """Say no. The link is enough: whoever received the e-mail may decline without an account."""
    now = context.clock()
    async with context.sessions() as session, session.begin():
        repository = InvitationRepository(session)
        invitation, digest = await invitation_by_token(repository, token)
        invitation.ensure_answerable(now)
        if not await repository.end(
            invitation.invitation_id, InvitationStatus.DECLINED, now, token_digest=digest
        ):
            raise _answered_meanwhile()
        await context.outbox.add_all(
            session,
            [
                InvitationDeclined(
                    invitation_id=invitation.invitation_id,
                    practice_id=invitation.practice_id,
                    occurred_at=now,
                ),
                inviter_notification(invitation, InvitationOutcome.DECLINED, now),
            ],
        )
    context.committed()
    log.info("invitation declined", extra={"invitation_id": invitation.invitation_id})
    return invitation
