"""What every invitations use case needs, built once by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.events.invitations import InvitationOutcome, InviterNotificationRequested
from invitations.adapters.invitation_repository import InvitationRepository
from invitations.adapters.rate_limits import RateLimiter
from invitations.config import Settings
from invitations.domain.addresses import AddressProtector
from invitations.domain.invitation import (
    Invitation,
    InvitationRefused,
    InvitationStatus,
    Refusal,
)
from invitations.domain.link_tokens import token_digest, token_matches
from invitations.domain.practices import PracticeView
from servicekit.auth import Caller
from servicekit.messaging.outbox import Outbox

LINK_PATH = "/uitnodiging"
"""Where an invitation link leads, under the public base URL: the portal's invitation page
(never an API URL), which shows the invitation and lets the invitee log in, choose their
offer and confirm. The one place to change when the link should open another page."""


@dataclass(frozen=True)
class InvitationsContext:
    """Database, outbox, address protection, rate limits, settings and the clock."""

    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    addresses: AddressProtector
    limiter: RateLimiter
    settings: Settings
    clock: Callable[[], datetime]

    @property
    def link_lifetime(self) -> timedelta:
        """How long a link works after it is sent."""
        return timedelta(days=self.settings.token_ttl_days)

    def accept_url(self, token: str) -> str:
        """The link in the e-mail: always the configured public base URL, never a Host header."""
        base = self.settings.public_base_url.rstrip("/")
        return f"{base}{LINK_PATH}?{urlencode({'token': token})}"

    def committed(self) -> None:
        """Wake the outbox relay: the transaction that queued events has committed."""
        self.outbox.notify_committed()


def logged_in(caller: Caller | None, doing: str) -> Caller:
    """The caller, or a refusal that says to log in first."""
    if caller is None:
        raise InvitationRefused(
            Refusal.NOT_LOGGED_IN,
            "not_logged_in",
            f"Log in first to {doing} (send your access token as `Authorization: Bearer …`).",
        )
    return caller


def managed_practice(
    practice: PracticeView | None, practice_id: str, caller: Caller, *, team_may: bool = False
) -> PracticeView:
    """The practice, when the caller manages it; a refusal naming the reason otherwise.

    `team_may`: the editorial team may act too (moderation: seeing and withdrawing
    invitations of any practice, never issuing them in a practice's name).
    """
    if practice is None:
        raise InvitationRefused(
            Refusal.NOT_FOUND,
            "practice_unknown",
            f"No practice fiche {practice_id} is known to invitations. If it was created "
            "just now, try again in a moment; otherwise check the practice id.",
            field="practice_id",
        )
    if not practice.is_managed_by(caller.user_id) and not (team_may and caller.is_team):
        raise InvitationRefused(
            Refusal.FORBIDDEN,
            "not_a_manager",
            f"You do not manage the practice fiche '{practice.practice_name}': only its "
            "managers can invite colleagues or handle its invitations. Ask a manager, or "
            "request management rights on the fiche.",
        )
    return practice


async def invitation_by_token(
    repository: InvitationRepository, token: str
) -> tuple[Invitation, str]:
    """The invitation behind a link token, or one refusal for unknown and altered tokens."""
    found = await repository.by_digest(token_digest(token))
    if found is None or not token_matches(token, found[1]):
        raise InvitationRefused(
            Refusal.NOT_FOUND,
            "link_not_valid",
            "This invitation link is not valid. Check that you opened the whole link from "
            "the most recent invitation e-mail: sending an invitation again replaces the "
            "earlier link.",
            field="token",
        )
    return found


def status_word(status: InvitationStatus, now: datetime, expires_at: datetime) -> str:
    """How a manager reads an invitation's status (lapsed but not yet swept: expired)."""
    if status is InvitationStatus.OPEN and now >= expires_at:
        return InvitationStatus.EXPIRED.value
    return status.value


def inviter_notification(
    invitation: Invitation,
    outcome: InvitationOutcome,
    now: datetime,
    *,
    colleague_name: str | None = None,
) -> InviterNotificationRequested:
    """The event asking notifications to tell the inviter how their invitation ended
    (with the colleague's name when they logged in to answer)."""
    return InviterNotificationRequested(
        invitation_id=invitation.invitation_id,
        inviter_user_id=invitation.inviter_user_id,
        practice_name=invitation.practice_name,
        outcome=outcome,
        colleague_name=colleague_name,
        occurred_at=now,
    )


def unknown_invitation(invitation_id: str) -> InvitationRefused:
    """The refusal for an invitation id that does not exist."""
    return InvitationRefused(
        Refusal.NOT_FOUND,
        "invitation_unknown",
        f"No invitation {invitation_id}. List the practice's invitations to find its id.",
        field="invitation_id",
    )
