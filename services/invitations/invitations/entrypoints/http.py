"""invitations' HTTP API: managers invite and follow up; invitees open, accept or decline.

Entry points only parse, call a use case and answer; the rules live in handlers/ and
domain/. Addresses are validated here without ever being echoed back.
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures, whose
# caller dependency is declared inside `invitations_router`.

import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from invitations.domain.invitation import Invitation, InvitationRefused, Refusal
from invitations.handlers.answer import accept_invitation, decline_invitation, show_invitation
from invitations.handlers.context import InvitationsContext, status_word
from invitations.handlers.issue import (
    AddressOutcome,
    InviteColleagues,
    issue_invitations,
    resend_invitation,
)
from invitations.handlers.manage import practice_invitations, revoke_invitation
from servicekit.auth import Caller
from servicekit.inputs import RequestBody
from servicekit.problems import FieldError, Problem, invalid_fields
from servicekit.readable_patterns import described

PROFESSION_PATTERN = described(
    r"^[a-z][a-z0-9_]{1,59}$",
    "a profession code: small letters, digits and _, starting with a letter (nurse)",
)
TOKEN_MAX_LENGTH = 200

_STATUS = {
    Refusal.INVALID: 422,
    Refusal.NOT_LOGGED_IN: 401,
    Refusal.FORBIDDEN: 403,
    Refusal.NOT_FOUND: 404,
    Refusal.GONE: 410,
    Refusal.CONFLICT: 409,
    Refusal.RATE_LIMITED: 429,
}

# The link's token must not outlive the answer anywhere: not in a cache, not in the
# Referer header of a page the answer links to.
_LINK_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class InvitationCreate(RequestBody):
    """Invite colleagues to link their offer to the practice."""

    emails: list[str] = Field(min_length=1, description="Colleagues' e-mail addresses.")
    profession: str | None = Field(
        default=None,
        pattern=PROFESSION_PATTERN,
        description="The profession expected (e.g. `nurse`); unset: any they may practise.",
    )
    language: Literal["nl", "fr", "en"] | None = Field(
        default=None, description="Language of the e-mail; default: yours."
    )


class AddressResultRead(BaseModel):
    """What happened to the address at `index` in the request (addresses are not echoed)."""

    index: int
    outcome: AddressOutcome
    invitation_id: str | None
    expires_at: datetime | None


class InvitationBatchRead(BaseModel):
    """The outcome per address, in the order given."""

    results: list[AddressResultRead]


class InvitationRead(BaseModel):
    """An invitation as the practice's managers see it (without the address)."""

    invitation_id: str
    practice_id: str
    profession: str | None
    status: str
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    invited_by_name: str = Field(description="Name of the manager who sent it.")
    ended_by_name: str | None = Field(
        description="Name of who accepted or revoked it (never an address); null otherwise."
    )


class InvitationPage(BaseModel):
    """The practice's invitations, newest first."""

    items: list[InvitationRead]


class LinkRead(BaseModel):
    """What an invitation link shows: who invites, for what, until when. Nothing else."""

    practice_id: str
    practice_name: str
    profession: str | None = Field(description="The profession the practice expects, if any.")
    expires_at: datetime


class TokenBody(RequestBody):
    """The token from the invitation link."""

    token: str = Field(min_length=1, max_length=TOKEN_MAX_LENGTH)


class AcceptBody(TokenBody):
    """Accept: the token, and which of your offers to link."""

    professions: list[str] = Field(
        min_length=1, description="Profession codes of the offers to link (e.g. `nurse`)."
    )


class AcceptedRead(BaseModel):
    """The invitation is accepted; the practice fiche will show the linked offers."""

    invitation_id: str
    practice_id: str
    practice_name: str
    professions: list[str]


class AnsweredRead(BaseModel):
    """The invitation is declined or revoked."""

    invitation_id: str
    status: str


def _refusal(error: InvitationRefused, *, link: bool = False) -> Problem:
    headers: dict[str, str] = dict(_LINK_HEADERS) if link else {}
    if error.retry_after_s is not None:
        headers["Retry-After"] = str(error.retry_after_s)
    if error.refusal is Refusal.NOT_LOGGED_IN:
        headers["WWW-Authenticate"] = "Bearer"
    errors = (
        [FieldError("body", error.field or "", error.reason, error.message)]
        if error.field or error.refusal is Refusal.INVALID
        else []
    )
    if error.refusal is Refusal.INVALID:
        problem = invalid_fields(errors)
        problem.headers.update(headers)
        return problem
    return Problem(
        _STATUS[error.refusal], error.reason, error.message, errors=errors, headers=headers
    )


def _validated_addresses(emails: list[str], limit: int) -> tuple[str, ...]:
    if len(emails) > limit:
        raise InvitationRefused(
            Refusal.INVALID,
            "too_many_addresses",
            f"At most {limit} addresses per request; send the others in another request.",
            field="emails",
        )
    addresses: list[str] = []
    for index, email in enumerate(emails):
        try:
            checked = validate_email(email.strip(), check_deliverability=False)
        except EmailNotValidError as error:
            # The reason names the part that is wrong; the address itself is not repeated.
            raise InvitationRefused(
                Refusal.INVALID,
                "invalid_address",
                f"Address {index + 1} is not a valid e-mail address: {_without(error, email)} "
                "Correct it and send the request again; nobody was invited.",
                field=f"emails.{index}",
            ) from None
        addresses.append(checked.normalized)
    return tuple(addresses)


def _without(error: EmailNotValidError, email: str) -> str:
    """The validator's reason with the address (or a part of it) left out where quoted."""
    text = str(error)
    parts = sorted({email.strip(), *email.strip().split("@")} - {""}, key=len, reverse=True)
    for part in parts:
        text = re.sub(rf"(?<![\w.-]){re.escape(part)}(?![\w.-])", "…", text)
    return text


def _invitation_read(invitation: Invitation, now: datetime) -> InvitationRead:
    return InvitationRead(
        invitation_id=invitation.invitation_id,
        practice_id=invitation.practice_id,
        profession=invitation.profession,
        status=status_word(invitation.status, now, invitation.expires_at),
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        ended_at=invitation.ended_at,
        invited_by_name=invitation.inviter_name,
        ended_by_name=invitation.ended_by_name,
    )


CallerDependency = Callable[..., Awaitable[Caller | None]]


@contextmanager
def _refusals_answered(*, link: bool = False) -> Iterator[None]:
    """A use case's refusal becomes the problem answer (with the link's headers)."""
    try:
        yield
    except InvitationRefused as error:
        raise _refusal(error, link=link) from None


def invitations_router(context: InvitationsContext, caller: CallerDependency) -> APIRouter:
    """Every route of invitations, under /api/invitations."""
    router = APIRouter(prefix="/api/invitations", tags=["invitations"])
    _manager_routes(router, context, caller)
    _link_routes(router, context, caller)
    return router


def _manager_routes(
    router: APIRouter, context: InvitationsContext, caller: CallerDependency
) -> None:
    """What a practice's managers do: invite, list, revoke, resend."""
    OptionalCaller = Annotated[Caller | None, Depends(caller)]

    @router.post(
        "/practices/{practice_id}/invitations",
        summary="Invite colleagues by e-mail (managers of the practice)",
        status_code=201,
        responses={403: {}, 404: {}, 409: {}, 422: {}, 429: {}},
    )
    async def invite(
        practice_id: str, body: InvitationCreate, response: Response, who: OptionalCaller
    ) -> InvitationBatchRead:
        limit = context.settings.max_addresses_per_request
        with _refusals_answered():
            asked = InviteColleagues(
                practice_id=practice_id,
                addresses=_validated_addresses(body.emails, limit),
                profession=body.profession,
                language=body.language,
            )
            results = await issue_invitations(context, who, asked)
        if not any(result.outcome is AddressOutcome.INVITED for result in results):
            response.status_code = 200
        return InvitationBatchRead(
            results=[AddressResultRead(**vars(result)) for result in results]
        )

    @router.get(
        "/practices/{practice_id}/invitations",
        summary="The practice's invitations (managers of the practice)",
    )
    async def list_invitations(practice_id: str, who: OptionalCaller) -> InvitationPage:
        with _refusals_answered():
            found = await practice_invitations(context, who, practice_id)
        now = context.clock()
        return InvitationPage(items=[_invitation_read(item, now) for item in found])

    @router.post("/{invitation_id}/revoke", summary="Withdraw an open invitation (managers)")
    async def revoke(invitation_id: str, who: OptionalCaller) -> AnsweredRead:
        with _refusals_answered():
            invitation = await revoke_invitation(context, who, invitation_id)
        return AnsweredRead(invitation_id=invitation.invitation_id, status="revoked")

    @router.post(
        "/{invitation_id}/resend",
        summary="Send an open invitation again with a new link (managers)",
    )
    async def resend(invitation_id: str, who: OptionalCaller) -> AddressResultRead:
        with _refusals_answered():
            result = await resend_invitation(context, who, invitation_id)
        return AddressResultRead(**vars(result))


def _link_routes(router: APIRouter, context: InvitationsContext, caller: CallerDependency) -> None:
    """What the invitation link does: show what it invites to, accept, decline."""
    OptionalCaller = Annotated[Caller | None, Depends(caller)]

    @router.get("/link", summary="What an invitation link invites to")
    async def show_link(
        response: Response,
        token: Annotated[str, Query(min_length=1, max_length=TOKEN_MAX_LENGTH)],
    ) -> LinkRead:
        response.headers.update(_LINK_HEADERS)
        with _refusals_answered(link=True):
            invitation = await show_invitation(context, token)
        return LinkRead(
            practice_id=invitation.practice_id,
            practice_name=invitation.practice_name,
            profession=invitation.profession,
            expires_at=invitation.expires_at,
        )

    @router.post(
        "/link/accept",
        summary="Accept an invitation: link the chosen offers (logged in as professional)",
    )
    async def accept(body: AcceptBody, response: Response, who: OptionalCaller) -> AcceptedRead:
        response.headers.update(_LINK_HEADERS)
        with _refusals_answered(link=True):
            invitation, chosen = await accept_invitation(context, who, body.token, body.professions)
        return AcceptedRead(
            invitation_id=invitation.invitation_id,
            practice_id=invitation.practice_id,
            practice_name=invitation.practice_name,
            professions=list(chosen),
        )

    @router.post("/link/decline", summary="Decline an invitation")
    async def decline(body: TokenBody, response: Response) -> AnsweredRead:
        response.headers.update(_LINK_HEADERS)
        with _refusals_answered(link=True):
            invitation = await decline_invitation(context, body.token)
        return AnsweredRead(invitation_id=invitation.invitation_id, status="declined")
