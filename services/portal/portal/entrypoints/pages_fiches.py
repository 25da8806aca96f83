""" "Mijn fiches" and its next steps."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response

from portal.adapters.services import ServiceClients
from portal.domain import requests as words
from portal.domain.messages import N_
from portal.domain.problems import Problem
from portal.entrypoints.pages_account import next_page
from portal.entrypoints.web import (
    CheckedForm,
    Clients,
    logged_in_user,
    render,
    see_other,
    session_of,
)
from portal.handlers import provider_fiche
from portal.handlers.my_fiches import OFFLINE_REASONS, SITUATIONS, ask_link, my_fiches

router = APIRouter()


@router.get("/mijn-fiches")
async def my_fiches_page(
    request: Request,
    clients: Clients,
    praktijk: Annotated[list[str] | None, Query(max_length=200)] = None,
) -> Response:
    user = logged_in_user(request)
    if user.get("status") != "active":
        return see_other(next_page(user.get("status")))
    found = await my_fiches(clients, session_of(request), praktijk or [])
    return render(
        request,
        "my_fiches.html",
        found=found,
        situations=SITUATIONS,
        offline_reasons=OFFLINE_REASONS,
        asked=request.query_params.get("gevraagd"),
    )


@router.post("/mijn-fiches/praktijken/{practice_id}/koppelen")
async def link_offer(
    request: Request, clients: Clients, practice_id: str, form: CheckedForm
) -> Response:
    user = logged_in_user(request)
    chosen = [str(v) for v in form.getlist("beroep")] or list(user.get("professions", []))
    await ask_link(clients, session_of(request), practice_id, chosen)
    return see_other(f"/mijn-fiches?gevraagd={practice_id}")


async def own_fiche_id(request: Request, clients: ServiceClients) -> str:
    user = logged_in_user(request)
    fiche_id = None
    if user.get("professional_id") and user.get("status") == "active":
        fiche_id = await provider_fiche.my_provider_fiche_id(clients, session_of(request))
    if fiche_id is None:
        raise HTTPException(404)
    return fiche_id


async def edit_page(
    request: Request,
    clients: ServiceClients,
    fiche_id: str,
    *,
    values: dict[str, Any] | None = None,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The edit version: as typed (`values`), or as stored with one field as typed (`typed`)."""
    view = await provider_fiche.edit_version(clients, session_of(request), fiche_id)
    stored = provider_fiche.form_values(view["own_edit_version"])
    return render(
        request,
        "provider_edit.html",
        status=status,
        view=view,
        values=values or {**stored, **(typed or {})},
        errors=errors or {},
        spoken=provider_fiche.SPOKEN_LANGUAGES,
        done=request.query_params.get("klaar"),
    )


@router.get("/mijn-fiches/zorgverlener")
async def provider_edit(request: Request, clients: Clients) -> Response:
    return await edit_page(request, clients, await own_fiche_id(request, clients))


@router.post("/mijn-fiches/zorgverlener")
async def provider_save(request: Request, clients: Clients, form: CheckedForm) -> Response:
    fiche_id = await own_fiche_id(request, clients)
    values = provider_fiche.typed_values(form)
    publish = form.get("actie") == "publiceren"
    refused = await provider_fiche.save(clients, session_of(request), fiche_id, values, publish)
    if refused is not None:
        errors = provider_fiche.form_errors(refused)
        return await edit_page(request, clients, fiche_id, values=values, errors=errors, status=422)
    done = "gepubliceerd" if publish else "bewaard"
    return see_other(f"/mijn-fiches/zorgverlener?klaar={done}")


@router.post("/mijn-fiches/zorgverlener/bronfout")
async def source_error(request: Request, clients: Clients, form: CheckedForm) -> Response:
    fiche_id = await own_fiche_id(request, clients)
    description = str(form.get("bronfout", "")).strip()
    refused = (
        await provider_fiche.report_source_error(
            clients, session_of(request), fiche_id, description
        )
        if description
        else Problem(422, message=N_("Beschrijf wat er fout is."))
    )
    if refused is not None:
        errors = {"bronfout": refused.field_errors.get("description") or refused.message}
        typed = {"bronfout": description}
        return await edit_page(request, clients, fiche_id, typed=typed, errors=errors, status=422)
    return see_other("/mijn-fiches/zorgverlener?klaar=gemeld")


@router.get("/mijn-fiches/zorgverlener/geschiedenis")
async def provider_history(request: Request, clients: Clients) -> Response:
    fiche_id = await own_fiche_id(request, clients)
    versions = await provider_fiche.history(clients, session_of(request), fiche_id)
    return render(
        request,
        "provider_history.html",
        versions=versions,
        fiche_id=fiche_id,
        field_labels=words.FIELD_LABELS,
        action_label=words.action_label,
    )
