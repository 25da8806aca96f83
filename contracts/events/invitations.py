"""Events invitations publishes.

`invitations.invitations.v1` is public and never carries the token or the invitee's
address; `invitations.deliveries.v1` is restricted to notifications and carries both,
sealed for notifications, so the e-mail can be sent.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from contracts.base import EVENT_TYPE_PREFIX, Event

INVITATIONS_TOPIC = "invitations.invitations.v1"
DELIVERIES_TOPIC = "invitations.deliveries.v1"


class _InvitationFacts(Event):
    invitation_id: str = Field(description="Id of the invitation.")
    practice_id: str = Field(description="The inviting practice fiche.")
    occurred_at: datetime = Field(description="When it happened.")

    def partition_key(self) -> str:
        return self.invitation_id


class InvitationIssued(_InvitationFacts):
    """A manager invited a colleague to link their offer to the practice.

    Published again, with the same invitation id and a later expiry, when a manager sends
    the invitation again (a new link): the latest one of an invitation is current.
    """

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "invitations.InvitationIssued"
    topic: ClassVar[str] = INVITATIONS_TOPIC

    profession: str | None = Field(default=None, description="Expected profession, if named.")
    expires_at: datetime = Field(description="When the invitation lapses.")


class InvitationAccepted(_InvitationFacts):
    """The invitee logged in as a professional and chose which offers to link.

    fiches links them without a further approval: a manager invited them.
    """

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "invitations.InvitationAccepted"
    topic: ClassVar[str] = INVITATIONS_TOPIC

    professional_id: str = Field(description="The registry's opaque id of the invitee.")
    professions: tuple[str, ...] = Field(description="Profession codes to link.")


class InvitationDeclined(_InvitationFacts):
    """The invitee declined."""

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "invitations.InvitationDeclined"
    topic: ClassVar[str] = INVITATIONS_TOPIC


class InvitationRevoked(_InvitationFacts):
    """A manager withdrew the invitation."""

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "invitations.InvitationRevoked"
    topic: ClassVar[str] = INVITATIONS_TOPIC


class InvitationExpired(_InvitationFacts):
    """The invitation lapsed unanswered."""

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "invitations.InvitationExpired"
    topic: ClassVar[str] = INVITATIONS_TOPIC


class InvitationMailRequested(Event):
    """Send (or resend) the invitation e-mail with its single-use link.

    Superseded by `InviteeMailRequested`, which carries the address and the link sealed
    for notifications; invitations no longer publishes this event, and notifications still
    reads it so that events published before the upgrade are mailed.
    """

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "invitations.InvitationMailRequested"
    topic: ClassVar[str] = DELIVERIES_TOPIC

    invitation_id: str = Field(description="Id of the invitation.")
    email: str = Field(description="The invitee's address (restricted topic only).")
    language: str = Field(description="Language of the message: nl, fr or en.")
    practice_name: str = Field(description="Name of the inviting practice.")
    inviter_name: str = Field(description="Name of the inviting manager.")
    profession: str | None = Field(default=None, description="Expected profession, if named.")
    accept_url: str = Field(description="The link, carrying the token.")
    expires_at: datetime = Field(description="When the link stops working.")
    occurred_at: datetime = Field(description="When it was asked.")

    def partition_key(self) -> str:
        return self.invitation_id


class InviteeMailRequested(Event):
    """Send (or resend) the invitation e-mail with its single-use link.

    The address and the link are sealed with notifications' public mail key
    (servicekit.sealing): only notifications can open them, when it sends.
    """

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "invitations.InviteeMailRequested"
    topic: ClassVar[str] = DELIVERIES_TOPIC

    invitation_id: str = Field(description="Id of the invitation.")
    sealed_email: str = Field(
        description="The invitee's address, sealed for notifications; bound to "
        "`email:<invitation_id>`."
    )
    language: str = Field(
        description="Language of the message: nl, fr or en; the manager's own unless "
        "`language_chosen`."
    )
    language_chosen: bool = Field(
        default=False,
        description="The manager chose `language`. Otherwise notifications writes in the "
        "invitee's own language when it knows the address, else in `language`.",
    )
    practice_name: str = Field(description="Name of the inviting practice.")
    inviter_name: str = Field(description="Name of the inviting manager.")
    profession: str | None = Field(default=None, description="Expected profession, if named.")
    sealed_accept_url: str = Field(
        description="The link (carries the token), sealed for notifications; bound to "
        "`accept_url:<invitation_id>`."
    )
    expires_at: datetime = Field(description="When the link stops working.")
    occurred_at: datetime = Field(description="When it was asked.")

    def partition_key(self) -> str:
        return self.invitation_id


class InvitationOutcome(StrEnum):
    """What the inviter is told."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


class InviterNotificationRequested(Event):
    """Tell the inviting manager how their invitation ended (addressed by user id)."""

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "invitations.InviterNotificationRequested"
    topic: ClassVar[str] = DELIVERIES_TOPIC

    invitation_id: str = Field(description="Id of the invitation.")
    inviter_user_id: str = Field(description="identity user id of the inviter.")
    practice_name: str = Field(description="Name of the inviting practice.")
    outcome: InvitationOutcome = Field(description="How the invitation ended.")
    colleague_name: str | None = Field(
        default=None,
        description="Name of the colleague who accepted (as their login gave it); none when "
        "they answered without logging in.",
    )
    occurred_at: datetime = Field(description="When it ended.")

    def partition_key(self) -> str:
        return self.invitation_id
