"""An invitation and the rules of answering it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class InvitationStatus(StrEnum):
    """Where an invitation stands. Only `open` can change; every other status is final."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"
    EXPIRED = "expired"


class Refusal(StrEnum):
    """Why a request was refused; the HTTP layer maps each to a status code."""

    INVALID = "invalid"
    NOT_LOGGED_IN = "not_logged_in"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    GONE = "gone"
    CONFLICT = "conflict"
    RATE_LIMITED = "rate_limited"


class InvitationRefused(Exception):
    """A request that breaks a rule; `message` says what, and what to do next."""

    def __init__(
        self,
        refusal: Refusal,
        reason: str,
        message: str,
        *,
        field: str | None = None,
        retry_after_s: int | None = None,
    ) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.reason = reason
        self.message = message
        self.field = field
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Invitation:
    """What invitations keeps about one invitation (no token, no address in clear)."""

    invitation_id: str
    practice_id: str
    practice_name: str
    inviter_user_id: str
    inviter_name: str
    profession: str | None
    language: str
    status: InvitationStatus
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None
    language_chosen: bool = False
    """The manager chose `language`; otherwise it is the manager's own."""
    ended_by_name: str | None = None

    def is_open_at(self, now: datetime) -> bool:
        """Open and not lapsed (the sweep may not have marked it expired yet)."""
        return self.status is InvitationStatus.OPEN and now < self.expires_at

    def ensure_answerable(self, now: datetime) -> None:
        """Refuse a link that can no longer be used, saying why."""
        if self.status is InvitationStatus.ACCEPTED:
            raise InvitationRefused(
                Refusal.GONE,
                "already_used",
                "This invitation link was already used: a link works once. If your offer "
                "is not linked to the practice, ask the practice for a new invitation.",
            )
        if self.status is InvitationStatus.DECLINED:
            raise InvitationRefused(
                Refusal.GONE,
                "declined",
                "This invitation was declined. Ask the practice for a new invitation if "
                "you changed your mind.",
            )
        if self.status is InvitationStatus.REVOKED:
            raise InvitationRefused(
                Refusal.GONE,
                "revoked",
                "The practice withdrew this invitation. Contact the practice if you "
                "expected to be linked.",
            )
        if self.status is InvitationStatus.EXPIRED or now >= self.expires_at:
            raise InvitationRefused(
                Refusal.GONE,
                "expired",
                f"This invitation link expired on {self.expires_at:%Y-%m-%d %H:%M} UTC. "
                "Ask the practice to send it again.",
            )


@dataclass(frozen=True)
class Invitee:
    """The person following the link, as their access token describes them."""

    is_professional: bool
    professional_id: str | None
    professions: tuple[str, ...]
    """Professions they hold and may practise (identity checked them at login)."""


@dataclass(frozen=True)
class Acceptance:
    """Whose offers to link, and which."""

    professional_id: str
    professions: tuple[str, ...]


def offers_to_link(invitation: Invitation, invitee: Invitee, chosen: Sequence[str]) -> Acceptance:
    """The offers to link, or a refusal that leaves the invitation open.

    Only a professional may accept, only for professions they hold and may practise,
    and only for the profession the practice named, if it named one.
    """
    if not invitee.is_professional or invitee.professional_id is None:
        raise InvitationRefused(
            Refusal.FORBIDDEN,
            "not_a_professional",
            "Only a healthcare professional can link an offer to a practice. Log in as "
            "professional (zorgverlener) and follow the link again; the invitation stays "
            "open until then.",
        )
    wanted = tuple(dict.fromkeys(code.strip() for code in chosen if code.strip()))
    if not wanted:
        raise InvitationRefused(
            Refusal.INVALID,
            "no_offer_chosen",
            "Tick at least one of your offers to link to the practice.",
            field="professions",
        )
    not_held = [code for code in wanted if code not in invitee.professions]
    if not_held:
        held = ", ".join(invitee.professions) or "none"
        raise InvitationRefused(
            Refusal.FORBIDDEN,
            "profession_not_held",
            f"You cannot link an offer as {', '.join(not_held)}: the authentic source does "
            f"not list it as a profession you may practise (yours: {held}). The invitation "
            "stays open; if the source is wrong, report it from your provider fiche.",
            field="professions",
        )
    if invitation.profession is not None:
        other = [code for code in wanted if code != invitation.profession]
        if other:
            raise InvitationRefused(
                Refusal.FORBIDDEN,
                "profession_not_invited",
                f"The practice invited a {invitation.profession}; it did not invite an "
                f"offer as {', '.join(other)}. Choose {invitation.profession}, or ask the "
                "practice for an invitation for your profession. The invitation stays open.",
                field="professions",
            )
    return Acceptance(invitee.professional_id, wanted)
