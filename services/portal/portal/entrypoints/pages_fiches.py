""" "Mijn fiches" and its next steps."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import RedirectResponse

from portal.adapters.services import ServiceClients
from portal.domain.messages import N_
from portal.domain.problems import Problem
from portal.entrypoints.pages_account import next_page
from portal.entrypoints.web import CheckedForm, logged_in_user, render, session_of
from portal.handlers import provider_fiche
from portal.handlers.my_fiches import OFFLINE_REASONS, SITUATIONS, ask_link, my_fiches


def fiches_router(clients: ServiceClients) -> APIRouter:
    router = APIRouter()

    @router.get("/mijn-fiches")
    async def my_fiches_page(
        request: Request,
        praktijk: Annotated[list[str] | None, Query(max_length=200)] = None,
    ) -> Response:
        user = logged_in_user(request)
        if user.get("status") != "active":
            return RedirectResponse(next_page(user.get("status")), status_code=303)
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
    async def link_offer(request: Request, practice_id: str, form: CheckedForm) -> Response:
        user = logged_in_user(request)
        chosen = [str(v) for v in form.getlist("beroep")] or list(user.get("professions", []))
        await ask_link(clients, session_of(request), practice_id, chosen)
        return RedirectResponse(f"/mijn-fiches?gevraagd={practice_id}", status_code=303)

    async def own_fiche_id(request: Request) -> str:
        user = logged_in_user(request)
        fiche_id = None
        if user.get("professional_id") and user.get("status") == "active":
            fiche_id = await provider_fiche.my_provider_fiche_id(clients, session_of(request))
        if fiche_id is None:
            raise HTTPException(404)
        return fiche_id

    async def edit_page(
        request: Request,
        fiche_id: str,
        *,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        view = await provider_fiche.edit_version(clients, session_of(request), fiche_id)
        return render(
            request,
            "provider_edit.html",
            status=status,
            view=view,
            values=values or provider_fiche.form_values(view["own_edit_version"]),
            errors=errors or {},
            spoken=provider_fiche.SPOKEN_LANGUAGES,
            done=request.query_params.get("klaar"),
        )

    @router.get("/mijn-fiches/zorgverlener")
    async def provider_edit(request: Request) -> Response:
        return await edit_page(request, await own_fiche_id(request))

    @router.post("/mijn-fiches/zorgverlener")
    async def provider_save(request: Request, form: CheckedForm) -> Response:
        fiche_id = await own_fiche_id(request)
        values = provider_fiche.typed_values(form)
        publish = form.get("actie") == "publiceren"
        refused = await provider_fiche.save(clients, session_of(request), fiche_id, values, publish)
        if refused is not None:
            errors = provider_fiche.form_errors(refused)
            return await edit_page(request, fiche_id, values=values, errors=errors, status=422)
        done = "gepubliceerd" if publish else "bewaard"
        return RedirectResponse(f"/mijn-fiches/zorgverlener?klaar={done}", status_code=303)

    @router.post("/mijn-fiches/zorgverlener/bronfout")
    async def source_error(request: Request, form: CheckedForm) -> Response:
        fiche_id = await own_fiche_id(request)
        description = str(form.get("bronfout", "")).strip()
        refused = (
            await provider_fiche.report_source_error(
                clients, session_of(request), fiche_id, description
            )
            if description
            else Problem(422, message=N_("Beschrijf wat er fout is."))
        )
        if refused is not None:
            view_values = {"bronfout": description}
            errors = {"bronfout": refused.field_errors.get("description") or refused.message}
            view = await provider_fiche.edit_version(clients, session_of(request), fiche_id)
            return render(
                request,
                "provider_edit.html",
                status=422,
                view=view,
                values={**provider_fiche.form_values(view["own_edit_version"]), **view_values},
                errors=errors,
                spoken=provider_fiche.SPOKEN_LANGUAGES,
                done=None,
            )
        return RedirectResponse("/mijn-fiches/zorgverlener?klaar=gemeld", status_code=303)

    @router.get("/mijn-fiches/zorgverlener/geschiedenis")
    async def provider_history(request: Request) -> Response:
        fiche_id = await own_fiche_id(request)
        versions = await provider_fiche.history(clients, session_of(request), fiche_id)
        return render(request, "provider_history.html", versions=versions, fiche_id=fiche_id)

    return router
