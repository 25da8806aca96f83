"""Team Sociale Kaart: the work queue (people and fiches by name), approving or refusing
with a reason, and a fiche's history with restoring an earlier version."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from portal.adapters.services import ServiceClients
from portal.domain import requests as words
from portal.entrypoints.pages_requests import (
    FICHE_TYPES,
    refused_decision,
    render_requests,
    request_words,
)
from portal.entrypoints.web import (
    CheckedForm,
    Clients,
    logged_in_user,
    render,
    see_other,
    session_of,
)
from portal.handlers import practices, requests

QUEUE = "/team/werklijst"
STATUSES = ("open", "approved", "declined", "all")


router = APIRouter()


async def queue_page(
    request: Request,
    clients: ServiceClients,
    kind: str,
    status: str,
    offset: int,
    *,
    code: int = 200,
    **refused: dict[str, str],
) -> Response:
    """The team's work queue; `refused`: a refused decision's errors and what was typed."""
    kind = kind if kind in words.KINDS else ""
    status = status if status in STATUSES else "open"
    page = await requests.work_queue(clients, session_of(request), kind, status, offset)
    total = int(page.get("total", 0))
    following = offset + requests.QUEUE_PAGE
    return render_requests(
        request,
        "team_queue.html",
        status=code,
        page=page,
        kind=kind,
        chosen_status=status,
        next_offset=following if following < total else None,
        **refused,
    )


@router.get(QUEUE)
async def queue(
    request: Request,
    clients: Clients,
    soort: Annotated[str, Query(max_length=20)] = "",
    status: Annotated[str, Query(max_length=20)] = "open",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    logged_in_user(request)
    return await queue_page(request, clients, soort, status, offset)


@router.post("/team/aanvragen/{request_id}/beslissing")
async def decide(
    request: Request, clients: Clients, request_id: str, form: CheckedForm
) -> Response:
    logged_in_user(request)
    refused = await refused_decision(request, clients, request_id, form)
    kind = str(form.get("soort", ""))
    if refused:
        return await queue_page(request, clients, kind, "open", 0, code=422, **refused)
    suffix = f"&soort={kind}" if kind in words.KINDS else ""
    return see_other(f"{QUEUE}?gelukt=beslist{suffix}")


@router.get("/team/geschiedenis/{fiche_type}/{fiche_id}")
async def history(request: Request, clients: Clients, fiche_type: str, fiche_id: str) -> Response:
    logged_in_user(request)
    if fiche_type not in FICHE_TYPES:
        return render(request, "not_found.html", status=404)
    versions = await requests.history(clients, session_of(request), fiche_type, fiche_id)
    practice = (
        await practices.public_practice(clients, fiche_id) if fiche_type == "practice" else None
    )
    return render(
        request,
        "team_history.html",
        fiche_type=fiche_type,
        fiche_id=fiche_id,
        versions=list(reversed(versions)),
        field_labels=words.FIELD_LABELS,
        action_label=words.action_label,
        fiche_name=(practice or {}).get("name", ""),
        notice=request.query_params.get("gelukt"),
        **request_words(),
    )


@router.post("/team/geschiedenis/{fiche_type}/{fiche_id}/{version}")
async def restore(
    request: Request,
    clients: Clients,
    fiche_type: str,
    fiche_id: str,
    version: int,
    form: CheckedForm,
) -> Response:
    logged_in_user(request)
    if fiche_type not in FICHE_TYPES:
        return render(request, "not_found.html", status=404)
    await requests.restore(clients, session_of(request), fiche_type, fiche_id, version)
    return see_other(f"/team/geschiedenis/{fiche_type}/{fiche_id}?gelukt=teruggezet")
