"""A manager invites colleagues by e-mail address; a manager sends an invitation again."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.base import Event
from contracts.events.invitations import InvitationIssued, InviteeMailRequested
from invitations.adapters.invitation_repository import InvitationRepository
from invitations.adapters.rate_limits import Allowance
from invitations.domain.invitation import (
    Invitation,
    InvitationRefused,
    InvitationStatus,
    Refusal,
)
from invitations.domain.link_tokens import new_token, token_digest
from invitations.domain.practices import PracticeView
from invitations.handlers.context import (
    InvitationsContext,
    logged_in,
    managed_practice,
    status_word,
    unknown_invitation,
)
from servicekit.auth import Caller
from servicekit.database import as_utc
from servicekit.sealing import purpose

log = logging.getLogger(__name__)


class AddressOutcome(StrEnum):
    """What happened to one address of an invitation request."""

    INVITED = "invited"
    """A new invitation; the e-mail is on its way."""
    ALREADY_LINKED = "already_linked"
    """This person accepted an earlier invitation and their offer is linked: no e-mail."""
    ALREADY_INVITED = "already_invited"
    """An open invitation to this address exists: send that one again instead."""


@dataclass(frozen=True)
class InviteColleagues:
    """Invite the people behind `addresses` (validated, in the order given)."""

    practice_id: str
    addresses: tuple[str, ...]
    profession: str | None
    language: str | None


@dataclass(frozen=True)
class AddressResult:
    """The outcome for the address at `index` in the request (the address is not echoed)."""

    index: int
    outcome: AddressOutcome
    invitation_id: str | None
    expires_at: datetime | None


def _allowances(context: InvitationsContext, manager_id: str, practice_id: str) -> list[Allowance]:
    settings = context.settings
    return [
        Allowance(f"rate:manager:{manager_id}", settings.manager_limit, settings.manager_window_s),
        Allowance(
            f"rate:practice:{practice_id}", settings.practice_limit, settings.practice_window_s
        ),
    ]


async def _consume_allowance(
    context: InvitationsContext, caller: Caller, practice: PracticeView, amount: int
) -> None:
    exceeded = await context.limiter.consume(
        _allowances(context, caller.user_id, practice.practice_id), amount
    )
    if exceeded is None:
        return
    who = "you" if exceeded.allowance.key.startswith("rate:manager:") else "this practice"
    raise InvitationRefused(
        Refusal.RATE_LIMITED,
        "rate_limited",
        f"Too many invitation e-mails: {who} may send {exceeded.allowance.limit} per "
        f"{exceeded.allowance.window_s // 60} minutes. Try again in "
        f"{exceeded.retry_after_s} seconds.",
        retry_after_s=exceeded.retry_after_s,
    )


def _already_linked(row: Any, practice: PracticeView) -> bool:
    """An accepted invitation whose professional fiches still links to the practice.

    An acceptance newer than the practice's last announcement counts as linked too: fiches
    has not had time to say so yet.
    """
    if row.status != InvitationStatus.ACCEPTED.value or row.accepted_professional_id is None:
        return False
    if practice.links(row.accepted_professional_id):
        return True
    return row.ended_at is not None and as_utc(row.ended_at) >= practice.changed_at


async def issue_invitations(
    context: InvitationsContext, caller: Caller | None, command: InviteColleagues
) -> list[AddressResult]:
    """Invite each address that is neither linked nor invited already; all or nothing.

    Refused whole when the caller does not manage the practice, when the open invitations
    would exceed the practice's cap, or when a rate limit is reached.
    """
    caller = logged_in(caller, "invite colleagues")
    now = context.clock()
    fingerprints = _distinct_fingerprints(context, command.addresses)
    results: list[AddressResult] = []
    async with context.sessions() as session, session.begin():
        repository = InvitationRepository(session)
        practice = managed_practice(
            await repository.practice(command.practice_id, lock=True),
            command.practice_id,
            caller,
        )
        to_invite: list[int] = []
        for index, fingerprint in enumerate(fingerprints):
            earlier = await _earlier_outcome(repository, practice, index, fingerprint, now)
            if earlier is None:
                to_invite.append(index)
            else:
                results.append(earlier)
        if to_invite:
            await _check_open_cap(context, repository, practice, len(to_invite), now)
            await _consume_allowance(context, caller, practice, len(to_invite))
            for index in to_invite:
                results.append(
                    await _invite(
                        context,
                        repository,
                        session,
                        caller,
                        practice,
                        command,
                        index,
                        fingerprints[index],
                        now,
                    )
                )
    context.committed()
    return sorted(results, key=lambda result: result.index)


def _distinct_fingerprints(context: InvitationsContext, addresses: tuple[str, ...]) -> list[str]:
    """The addresses' fingerprints; an address named twice refuses the request."""
    fingerprints = [context.addresses.fingerprint(address) for address in addresses]
    for index, fingerprint in enumerate(fingerprints):
        if fingerprint in fingerprints[:index]:
            raise InvitationRefused(
                Refusal.INVALID,
                "duplicate_address",
                f"Address {index + 1} is the same as an earlier one in this request; "
                "name each colleague once.",
                field=f"emails.{index}",
            )
    return fingerprints


async def _earlier_outcome(
    repository: InvitationRepository,
    practice: PracticeView,
    index: int,
    fingerprint: str,
    now: datetime,
) -> AddressResult | None:
    """Linked or invited already (no new e-mail), or None: to invite."""
    earlier = await repository.for_address(practice.practice_id, fingerprint)
    if any(_already_linked(row, practice) for row in earlier):
        return AddressResult(index, AddressOutcome.ALREADY_LINKED, None, None)
    open_one = next(
        (
            row
            for row in earlier
            if row.status == InvitationStatus.OPEN.value and as_utc(row.expires_at) > now
        ),
        None,
    )
    if open_one is None:
        return None
    return AddressResult(
        index,
        AddressOutcome.ALREADY_INVITED,
        open_one.invitation_id,
        as_utc(open_one.expires_at),
    )


async def _check_open_cap(
    context: InvitationsContext,
    repository: InvitationRepository,
    practice: PracticeView,
    adding: int,
    now: datetime,
) -> None:
    """Refuse a request that would take the practice's open invitations over its cap."""
    cap = context.settings.max_open_per_practice
    open_now = await repository.count_open(practice.practice_id, now)
    if open_now + adding > cap:
        raise InvitationRefused(
            Refusal.CONFLICT,
            "too_many_open_invitations",
            f"'{practice.practice_name}' has {open_now} open invitations and may have "
            f"at most {cap}; this request would add {adding}. Revoke "
            "invitations that are no longer needed, or wait until some are answered.",
        )


async def _invite(
    context: InvitationsContext,
    repository: InvitationRepository,
    session: AsyncSession,
    caller: Caller,
    practice: PracticeView,
    command: InviteColleagues,
    index: int,
    fingerprint: str,
    now: datetime,
) -> AddressResult:
    address = command.addresses[index]
    invitation_id = str(uuid.uuid4())
    token = new_token()
    expires_at = now + context.link_lifetime
    language = command.language or caller.language or "nl"
    inviter_name = caller.display_name or "a manager of the practice"
    await repository.add(
        {
            "invitation_id": invitation_id,
            "practice_id": practice.practice_id,
            "inviter_user_id": caller.user_id,
            "inviter_name": inviter_name,
            "profession": command.profession,
            "language": language,
            "language_chosen": command.language is not None,
            "token_digest": token_digest(token),
            "address_fingerprint": fingerprint,
            "sealed_address": context.addresses.seal(address, invitation_id),
            "status": InvitationStatus.OPEN.value,
            "created_at": now,
            "expires_at": expires_at,
            "mails_sent": 1,
        }
    )
    await context.outbox.add_all(
        session,
        _issue_events(
            context,
            invitation_id=invitation_id,
            practice=practice,
            profession=command.profession,
            email=address,
            language=language,
            language_chosen=command.language is not None,
            inviter_name=inviter_name,
            token=token,
            expires_at=expires_at,
            now=now,
        ),
    )
    log.info(
        "invitation issued",
        extra={"invitation_id": invitation_id, "practice_id": practice.practice_id},
    )
    return AddressResult(index, AddressOutcome.INVITED, invitation_id, expires_at)


def _issue_events(
    context: InvitationsContext,
    *,
    invitation_id: str,
    practice: PracticeView,
    profession: str | None,
    email: str,
    language: str,
    language_chosen: bool,
    inviter_name: str,
    token: str,
    expires_at: datetime,
    now: datetime,
) -> list[Event]:
    """An invitation (re)issued: the public fact without token or address, and the mail
    with its link for notifications (restricted topic)."""
    mail_key = context.settings.mail_sealing_key()
    return [
        InvitationIssued(
            invitation_id=invitation_id,
            practice_id=practice.practice_id,
            occurred_at=now,
            profession=profession,
            expires_at=expires_at,
        ),
        # Sealed for notifications: the outbox row, the topic record and notifications'
        # delivery row hold neither the address nor the link in clear.
        InviteeMailRequested(
            invitation_id=invitation_id,
            sealed_email=mail_key.seal(email, purpose("email", invitation_id)),
            language=language,
            language_chosen=language_chosen,
            practice_name=practice.practice_name,
            inviter_name=inviter_name,
            profession=profession,
            sealed_accept_url=mail_key.seal(
                context.accept_url(token), purpose("accept_url", invitation_id)
            ),
            expires_at=expires_at,
            occurred_at=now,
        ),
    ]


async def resend_invitation(
    context: InvitationsContext, caller: Caller | None, invitation_id: str
) -> AddressResult:
    """A new link for an open invitation, mailed again; the previous link stops working."""
    caller = logged_in(caller, "send an invitation again")
    now = context.clock()
    async with context.sessions() as session, session.begin():
        repository = InvitationRepository(session)
        invitation, practice, sealed = await _resendable(repository, caller, invitation_id, now)
        await _consume_allowance(context, caller, practice, 1)
        token = new_token()
        expires_at = now + context.link_lifetime
        if not await repository.renew_token(invitation_id, token_digest(token), expires_at, now):
            raise InvitationRefused(
                Refusal.CONFLICT,
                "not_open",
                "This invitation was answered or withdrawn a moment ago, so it was not sent "
                "again. List the practice's invitations to see where it stands.",
            )
        # The new expiry goes public again (the latest InvitationIssued of an invitation
        # is current); the new link goes on the restricted topic only.
        await context.outbox.add_all(
            session,
            _issue_events(
                context,
                invitation_id=invitation_id,
                practice=practice,
                profession=invitation.profession,
                email=context.addresses.unseal(sealed, invitation_id),
                language=invitation.language,
                language_chosen=invitation.language_chosen,
                inviter_name=invitation.inviter_name,
                token=token,
                expires_at=expires_at,
                now=now,
            ),
        )
    context.committed()
    log.info("invitation sent again", extra={"invitation_id": invitation_id})
    return AddressResult(0, AddressOutcome.INVITED, invitation_id, expires_at)


async def _resendable(
    repository: InvitationRepository, caller: Caller, invitation_id: str, now: datetime
) -> tuple[Invitation, PracticeView, str]:
    """The open invitation, its practice (which the caller manages) and its sealed address."""
    invitation = await repository.by_id(invitation_id)
    if invitation is None:
        raise unknown_invitation(invitation_id)
    practice = managed_practice(
        await repository.practice(invitation.practice_id, lock=True),
        invitation.practice_id,
        caller,
    )
    if not invitation.is_open_at(now):
        raise InvitationRefused(
            Refusal.CONFLICT,
            "not_open",
            f"This invitation is {status_word(invitation.status, now, invitation.expires_at)}"
            ", so it cannot be sent again. Invite the colleague anew instead.",
        )
    sealed = await repository.sealed_address(invitation_id)
    if sealed is None:  # pragma: no cover - an open invitation always keeps its address
        raise InvitationRefused(
            Refusal.CONFLICT,
            "no_address",
            "This invitation has no address left to send to. Invite the colleague anew instead.",
        )
    return invitation, practice, sealed
