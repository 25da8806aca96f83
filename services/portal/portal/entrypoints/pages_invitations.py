"""The page an invitation mail links to (`/uitnodiging?token=…`, invitations' LINK_PATH):
which practice invites and for what; log in if needed (and come back here); tick the offer
and "Koppeling bevestigen", or decline; a clear page when the link no longer works."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response

from portal.adapters.services import ServiceClients
from portal.entrypoints.web import CheckedForm, Clients, render, session_of
from portal.handlers import invitations
from portal.handlers.invitations import ENDED, WRONG_PERSON

PAGE = "/uitnodiging"
#: The link must not be kept by caches, nor leak through the Referer header.
LINK_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
TOKEN = Annotated[str, Query(max_length=200)]


def _private(response: Response) -> Response:
    response.headers.update(LINK_HEADERS)
    return response


router = APIRouter()


def ended(request: Request, reason: str) -> Response:
    status = 404 if reason == "link_not_valid" else 410
    return _private(render(request, "invitation_ended.html", reason=reason, status=status))


async def invitation_page(
    request: Request,
    clients: ServiceClients,
    token: str,
    *,
    refusal: str | None = None,
    status: int = 200,
) -> Response:
    answer = await invitations.show(clients, token)
    if answer.found is None:
        return ended(request, answer.reason or "link_not_valid")
    invitation = answer.found
    user = session_of(request).user
    own = list((user or {}).get("professions") or [])
    invited = invitation.get("profession")
    choices = [p for p in own if not invited or p == invited]
    return _private(
        render(
            request,
            "invitation.html",
            status=status,
            token=token,
            invitation=invitation,
            choices=choices,
            refusal=refusal,
            login_url="/aanmelden/start?"
            + urlencode({"als": "professional", "terug": f"{PAGE}?{urlencode({'token': token})}"}),
        )
    )


@router.get(PAGE)
async def show(request: Request, clients: Clients, token: TOKEN = "") -> Response:
    if not token:
        return ended(request, "link_not_valid")
    return await invitation_page(request, clients, token)


@router.post(PAGE + "/bevestigen")
async def accept(request: Request, clients: Clients, form: CheckedForm) -> Response:
    token = str(form.get("token", ""))
    if session_of(request).user is None:
        return await invitation_page(request, clients, token)
    chosen = [str(p) for p in form.getlist("aanbod")]
    if not chosen:
        return await invitation_page(request, clients, token, refusal="no_offer_chosen", status=422)
    answer = await invitations.accept(clients, session_of(request), token, chosen)
    if answer.found is not None:
        return _private(render(request, "invitation_accepted.html", accepted=answer.found))
    reason = answer.reason or "unknown"
    if reason in ENDED:
        return ended(request, reason)
    status = 403 if reason in WRONG_PERSON else 422
    return await invitation_page(request, clients, token, refusal=reason, status=status)


@router.post(PAGE + "/weigeren")
async def decline(request: Request, clients: Clients, form: CheckedForm) -> Response:
    answer = await invitations.decline(clients, str(form.get("token", "")))
    if answer.found is None:
        return ended(request, answer.reason or "link_not_valid")
    return _private(render(request, "invitation_declined.html"))
