"""Requests: "Mijn aanvragen" and their state; a practice's managers decide the requests on
it; "Verwijderen aanvragen" from any fiche page."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import FormData

from portal.adapters.services import ServiceClients
from portal.domain import requests as words
from portal.entrypoints.web import (
    CheckedForm,
    Clients,
    logged_in_user,
    render,
    see_other,
    session_of,
)
from portal.handlers import practices, requests

FICHE_TYPES = ("practice", "provider")


def request_words() -> dict[str, Any]:
    """What the request templates need to show a request in people's words."""
    return {
        "kinds": words.KINDS,
        "states": words.STATES,
        "fiche_types": words.FICHE_TYPES,
        "asked": words.asked,
        "fiche_path": words.fiche_path,
    }


def render_requests(
    request: Request,
    template: str,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    """A page of requests to decide, with its notice and, when refused, the errors. A
    refusal about a request the page no longer lists (a colleague decided it meanwhile)
    is said once at the top, not next to a card that is gone."""
    listed = {str(item.get("request_id")) for item in _listed(context)}
    errors, values = dict(errors or {}), dict(values or {})
    gone = [name for name in errors if name.startswith("reden-") and name[6:] not in listed]
    for name in gone:
        errors.pop(name)
        values.pop(name, None)
    return render(
        request,
        template,
        status=status,
        errors=errors,
        values=values,
        notice="intussen-beslist" if gone else request.query_params.get("gelukt"),
        **request_words(),
        **context,
    )


def _listed(context: dict[str, Any]) -> list[dict[str, Any]]:
    """The requests a page shows: a practice's `items`, or the work queue's page."""
    if "items" in context:
        return list(context["items"])
    return list((context.get("page") or {}).get("items", []))


async def refused_decision(
    request: Request, clients: ServiceClients, request_id: str, form: FormData
) -> dict[str, dict[str, str]] | None:
    """Decide a request as its form says; when refused, the errors and what was typed."""
    comment = str(form.get("reden", ""))
    decision = str(form.get("beslissing", ""))
    outcome = await requests.decide(clients, session_of(request), request_id, decision, comment)
    if not outcome.errors:
        return None
    field_name = f"reden-{request_id}"
    return {"errors": {field_name: outcome.errors["reden"]}, "values": {field_name: comment}}


router = APIRouter()


@router.get("/mijn-aanvragen")
async def my_requests(request: Request, clients: Clients) -> Response:
    logged_in_user(request)
    items = await requests.mine(clients, session_of(request))
    return render(request, "my_requests.html", items=items, **request_words())


async def practice_requests_page(
    request: Request,
    clients: ServiceClients,
    practice_id: str,
    *,
    status: int = 200,
    **refused: dict[str, str],
) -> Response:
    """The requests on a practice its managers decide; `refused`: a refused decision's
    errors and what was typed."""
    session = session_of(request)
    items = await requests.of_practice(clients, session, practice_id)
    practice = await practices.public_practice(clients, practice_id)
    view = await practices.edit_view(clients, session, practice_id)
    name = (practice or {}).get("name") or _draft_name(view)
    return render_requests(
        request,
        "practice_requests.html",
        status=status,
        practice_id=practice_id,
        practice_name=name,
        items=items,
        **refused,
    )


@router.get("/praktijken/{practice_id}/aanvragen")
async def practice_requests(request: Request, practice_id: str, clients: Clients) -> Response:
    logged_in_user(request)
    return await practice_requests_page(request, clients, practice_id)


@router.post("/praktijken/{practice_id}/aanvragen/{request_id}/beslissing")
async def decide(
    request: Request, clients: Clients, practice_id: str, request_id: str, form: CheckedForm
) -> Response:
    logged_in_user(request)
    refused = await refused_decision(request, clients, request_id, form)
    if refused:
        return await practice_requests_page(request, clients, practice_id, status=422, **refused)
    return see_other(f"/praktijken/{practice_id}/aanvragen?gelukt=beslist")


@router.get("/verwijderen-aanvragen")
async def removal_form(
    request: Request,
    clients: Clients,
    soort: Annotated[str, Query(max_length=20)] = "",
    fiche: Annotated[str, Query(max_length=36)] = "",
) -> Response:
    logged_in_user(request)
    if soort not in FICHE_TYPES or not fiche:
        return render(request, "not_found.html", status=404)
    return render(
        request,
        "removal_request.html",
        fiche_type=soort,
        fiche_id=fiche,
        fiche_name=await _public_name(clients, soort, fiche),
        **request_words(),
    )


async def _public_name(clients: ServiceClients, fiche_type: str, fiche_id: str) -> str:
    """The name the fiche is on the map by ("" when it is not published): the form says
    which fiche the removal is asked for."""
    if fiche_type == "practice":
        practice = await practices.public_practice(clients, fiche_id)
        return str((practice or {}).get("name") or "")
    response = await clients.call("fiches", "GET", f"/api/fiches/providers/{quote(fiche_id)}")
    if response.status_code != 200:
        return ""
    body = response.json()
    official = f"{body.get('official_first_name', '')} {body.get('official_last_name', '')}"
    return str(body.get("preferred_name") or official).strip()


@router.post("/verwijderen-aanvragen")
async def ask_removal(request: Request, clients: Clients, form: CheckedForm) -> Response:
    logged_in_user(request)
    fiche_type, fiche_id = str(form.get("soort", "")), str(form.get("fiche", ""))[:36]
    if fiche_type not in FICHE_TYPES or not fiche_id:
        return render(request, "not_found.html", status=404)
    reason = str(form.get("reden", ""))
    outcome = await requests.ask_removal(clients, session_of(request), fiche_type, fiche_id, reason)
    if outcome.errors:
        return render(
            request,
            "removal_request.html",
            status=422,
            fiche_type=fiche_type,
            fiche_id=fiche_id,
            fiche_name=await _public_name(clients, fiche_type, fiche_id),
            errors=outcome.errors,
            values={"reden": reason},
            **request_words(),
        )
    return see_other("/mijn-aanvragen?gelukt=verwijderen")


def _draft_name(view: dict[str, Any] | None) -> str:
    names = ((view or {}).get("draft") or {}).get("names") or []
    preferred = [n["name"] for n in names if n.get("preferred")] or [n["name"] for n in names]
    return str(preferred[0]) if preferred else ""
