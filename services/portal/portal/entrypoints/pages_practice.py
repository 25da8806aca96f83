"""Practice fiche pages: "Praktijkfiche aanmaken", the edit version and its actions, and for
users without rights "Wijziging voorstellen", "Beheerrechten aanvragen", "Aanbod koppelen".

Every page here needs a logged-in user; the public practice page is pages_public's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from portal.adapters.services import ServiceClients
from portal.adapters.translations import translator
from portal.domain.practice_form import (
    AGE_CATEGORIES,
    WEEKDAY_LABELS,
    WEEKDAYS,
    form_values,
    read_form,
    rows_of,
)
from portal.entrypoints.web import (
    TEMPLATES,
    checked_form,
    language_of,
    logged_in_user,
    render,
    session_of,
)
from portal.handlers import practices
from portal.handlers.calls import as_user

# The Dutch labels of fiches' codes; pages translate them like any other text.
TEMPLATES.env.globals["weekday_label"] = lambda day: WEEKDAY_LABELS.get(str(day), str(day))
TEMPLATES.env.globals["age_label"] = lambda code: AGE_CATEGORIES.get(str(code), str(code))

#: A posted form whose CSRF token matched (module level: the routes' annotations are
#: strings, resolved in this module's namespace).
Form = Annotated[FormData, Depends(checked_form)]

#: Where "Mijn fiches" sends a user to create a practice ("Praktijkfiche aanmaken"). The
#: app includes this router before the public one, whose /praktijken/{id} would take it.
CREATE_PATH = "/praktijken/nieuw"


def _form_context(values: dict[str, Any], form: FormData | None = None) -> dict[str, Any]:
    return {
        "values": values,
        "rows": rows_of(values, form),
        "weekdays": [(day, WEEKDAY_LABELS[day]) for day in WEEKDAYS],
        "age_categories": list(AGE_CATEGORIES.items()),
    }


def _typed(form: FormData) -> dict[str, Any]:
    """What was typed, to show it again on a refused form."""
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values["leeftijd"] = form.getlist("leeftijd")
    values["aanbod"] = form.getlist("aanbod")
    return values


def _publish_asked(form: FormData) -> bool:
    return form.get("actie") == "publiceren"


def practice_router(clients: ServiceClients) -> APIRouter:
    router = APIRouter()

    async def _managers(request: Request, practice_id: str) -> list[dict[str, Any]]:
        response = await as_user(
            clients,
            session_of(request),
            "fiches",
            "GET",
            f"{practices.FICHES}/{practice_id}/managers",
        )
        if response.status_code != 200:
            return []
        body = response.json()
        named = body.get("managers")
        if isinstance(named, list):
            return [m for m in named if isinstance(m, dict)]
        return [{"user_id": uid, "name": None} for uid in body.get("manager_user_ids", [])]

    async def _edit_page(
        request: Request,
        practice_id: str,
        view: dict[str, Any],
        *,
        values: dict[str, Any] | None = None,
        form: FormData | None = None,
        errors: dict[str, str] | None = None,
        status: int = 200,
        notice: str | None = None,
    ) -> Response:
        user = session_of(request).user or {}
        mine = user.get("professional_id")
        own_linked = [
            o["profession"]
            for o in view.get("offers", [])
            if o.get("professional_id") == mine and o.get("in_edit_version")
        ]
        return render(
            request,
            "practice_edit.html",
            status=status,
            practice_id=practice_id,
            view=view,
            errors=errors or {},
            notice=notice or request.query_params.get("gelukt"),
            own_professions=list(user.get("professions") or []),
            own_linked=own_linked,
            managers=await _managers(request, practice_id),
            invitations=await practices.invitations_of(clients, session_of(request), practice_id),
            **_form_context(values or form_values(view.get("draft") or {}), form),
        )

    @router.get(CREATE_PATH)
    async def create_form(request: Request, naam: str = "") -> Response:
        logged_in_user(request)
        values: dict[str, Any] = {"naam-0": naam[:200]} if naam else {}
        return render(request, "practice_create.html", **_form_context(values))

    @router.post(CREATE_PATH)
    async def create(request: Request, form: Form) -> Response:
        logged_in_user(request)
        typed = read_form(form, form.getlist)
        outcome = await practices.create(clients, session_of(request), typed, _publish_asked(form))
        if outcome.errors:
            return render(
                request,
                "practice_create.html",
                status=422,
                errors=outcome.errors,
                **_form_context(_typed(form), form),
            )
        return RedirectResponse(
            f"/praktijken/{outcome.practice_id}/bewerken?gelukt=aangemaakt", status_code=303
        )

    @router.get("/praktijken/{practice_id}/bewerken")
    async def edit(request: Request, practice_id: str) -> Response:
        logged_in_user(request)
        view = await practices.edit_view(clients, session_of(request), practice_id)
        if view is None:
            # Not a manager: the two actions of the guide instead of the edit version.
            return RedirectResponse(f"/praktijken/{practice_id}/voorstellen", status_code=303)
        return await _edit_page(request, practice_id, view)

    @router.post("/praktijken/{practice_id}/bewerken")
    async def save(request: Request, practice_id: str, form: Form) -> Response:
        logged_in_user(request)
        session = session_of(request)
        typed = read_form(form, form.getlist)
        outcome = await practices.save(clients, session, practice_id, typed, _publish_asked(form))
        if outcome.errors:
            view = await practices.edit_view(clients, session, practice_id) or {}
            return await _edit_page(
                request,
                practice_id,
                view,
                values=_typed(form),
                form=form,
                errors=outcome.errors,
                status=422,
            )
        done = "gepubliceerd" if _publish_asked(form) else "opgeslagen"
        return RedirectResponse(
            f"/praktijken/{practice_id}/bewerken?gelukt={done}", status_code=303
        )

    @router.post("/praktijken/{practice_id}/aanbod")
    async def own_offers(request: Request, practice_id: str, form: Form) -> Response:
        logged_in_user(request)
        session = session_of(request)
        view = await practices.edit_view(clients, session, practice_id)
        if view is None:
            return RedirectResponse(f"/praktijken/{practice_id}/voorstellen", status_code=303)
        wanted = [str(p) for p in form.getlist("aanbod")]
        await practices.set_own_offers(clients, session, practice_id, wanted, view)
        return RedirectResponse(
            f"/praktijken/{practice_id}/bewerken?gelukt=aanbod", status_code=303
        )

    @router.post("/praktijken/{practice_id}/publiceren")
    async def publish(request: Request, practice_id: str, form: Form) -> Response:
        logged_in_user(request)
        await practices.publish(clients, session_of(request), practice_id)
        return RedirectResponse(
            f"/praktijken/{practice_id}/bewerken?gelukt=gepubliceerd", status_code=303
        )

    @router.post("/praktijken/{practice_id}/uitnodigen")
    async def invite(request: Request, practice_id: str, form: Form) -> Response:
        logged_in_user(request)
        session = session_of(request)
        text = str(form.get("uitnodigen", ""))
        outcome = await practices.invite(clients, session, practice_id, text, language_of(request))
        if outcome.errors:
            view = await practices.edit_view(clients, session, practice_id) or {}
            say = translator(language_of(request))
            return await _edit_page(
                request,
                practice_id,
                view,
                errors={k: say(v, **outcome.error_values) for k, v in outcome.errors.items()},
                status=422,
                values={**form_values(view.get("draft") or {}), "uitnodigen": text},
            )
        return RedirectResponse(
            f"/praktijken/{practice_id}/bewerken?gelukt=uitgenodigd", status_code=303
        )

    @router.post("/praktijken/{practice_id}/beheerders")
    async def grant(request: Request, practice_id: str, form: Form) -> Response:
        logged_in_user(request)
        session = session_of(request)
        who = str(form.get("beheerder", ""))
        outcome = await practices.grant(clients, session, practice_id, who)
        if outcome.errors:
            view = await practices.edit_view(clients, session, practice_id) or {}
            return await _edit_page(
                request,
                practice_id,
                view,
                errors=outcome.errors,
                status=422,
                values={**form_values(view.get("draft") or {}), "beheerder": who},
            )
        return RedirectResponse(
            f"/praktijken/{practice_id}/bewerken?gelukt=beheerder", status_code=303
        )

    @router.post("/praktijken/{practice_id}/beheerders/intrekken")
    async def withdraw(request: Request, practice_id: str, form: Form) -> Response:
        logged_in_user(request)
        session = session_of(request)
        manager = str(form.get("beheerder", ""))
        outcome = await practices.withdraw(clients, session, practice_id, manager)
        if outcome.errors:
            view = await practices.edit_view(clients, session, practice_id) or {}
            return await _edit_page(request, practice_id, view, errors=outcome.errors, status=409)
        return RedirectResponse(
            f"/praktijken/{practice_id}/bewerken?gelukt=ingetrokken", status_code=303
        )

    # --- without management rights ---------------------------------------------------------

    async def _public_or_404(practice_id: str) -> dict[str, Any] | None:
        return await practices.public_practice(clients, practice_id)

    @router.get("/praktijken/{practice_id}/voorstellen")
    async def without_rights(request: Request, practice_id: str) -> Response:
        logged_in_user(request)
        practice = await _public_or_404(practice_id)
        if practice is None:
            return render(request, "not_found.html", status=404)
        return render(
            request,
            "practice_propose.html",
            practice=practice,
            own_professions=list((session_of(request).user or {}).get("professions") or []),
            notice=request.query_params.get("gelukt"),
            **_form_context(form_values(practice.get("data") or {})),
        )

    @router.post("/praktijken/{practice_id}/voorstellen")
    async def propose(request: Request, practice_id: str, form: Form) -> Response:
        logged_in_user(request)
        practice = await _public_or_404(practice_id)
        if practice is None:
            return render(request, "not_found.html", status=404)
        typed = read_form(form, form.getlist)
        outcome = await practices.propose(
            clients, session_of(request), practice_id, typed, practice.get("data") or {}
        )
        if outcome.errors:
            return render(
                request,
                "practice_propose.html",
                status=422,
                practice=practice,
                errors=outcome.errors,
                own_professions=list((session_of(request).user or {}).get("professions") or []),
                **_form_context(_typed(form), form),
            )
        return RedirectResponse(
            f"/praktijken/{practice_id}/voorstellen?gelukt=voorstel", status_code=303
        )

    @router.post("/praktijken/{practice_id}/beheerrechten-aanvragen")
    async def ask_rights(request: Request, practice_id: str, form: Form) -> Response:
        logged_in_user(request)
        motivation = str(form.get("motivatie", ""))
        outcome = await practices.ask_rights(clients, session_of(request), practice_id, motivation)
        if outcome.errors:
            practice = await _public_or_404(practice_id) or {}
            return render(
                request,
                "practice_propose.html",
                status=422,
                practice=practice,
                errors=outcome.errors,
                own_professions=[],
                **_form_context({"motivatie": motivation}),
            )
        return RedirectResponse(
            f"/praktijken/{practice_id}/voorstellen?gelukt=beheerrechten", status_code=303
        )

    @router.post("/praktijken/{practice_id}/aanbod-koppelen")
    async def ask_link(request: Request, practice_id: str, form: Form) -> Response:
        logged_in_user(request)
        professions = [str(p) for p in form.getlist("aanbod")]
        outcome = await practices.ask_link(clients, session_of(request), practice_id, professions)
        if outcome.errors:
            practice = await _public_or_404(practice_id) or {}
            return render(
                request,
                "practice_propose.html",
                status=422,
                practice=practice,
                errors=outcome.errors,
                own_professions=list((session_of(request).user or {}).get("professions") or []),
                **_form_context(form_values(practice.get("data") or {})),
            )
        return RedirectResponse(
            f"/praktijken/{practice_id}/voorstellen?gelukt=koppeling", status_code=303
        )

    return router
