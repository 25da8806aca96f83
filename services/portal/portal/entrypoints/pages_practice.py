"""Practice fiche pages: "Praktijkfiche aanmaken", the edit version and its actions, and for
users without rights "Wijziging voorstellen", "Beheerrechten aanvragen", "Aanbod koppelen".

Every page here needs a logged-in user; the public practice page is pages_public's.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
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
    CheckedForm,
    Clients,
    language_of,
    logged_in_user,
    render,
    see_other,
    session_of,
)
from portal.handlers import practices, requests

# The Dutch labels of fiches' codes; pages translate them like any other text.
TEMPLATES.env.globals["weekday_label"] = lambda day: WEEKDAY_LABELS.get(str(day), str(day))
TEMPLATES.env.globals["age_label"] = lambda code: AGE_CATEGORIES.get(str(code), str(code))

#: Where "Mijn fiches" sends a user to create a practice ("Praktijkfiche aanmaken"). The
#: app includes this router before the public one, whose /praktijken/{id} would take it.
CREATE_PATH = "/praktijken/nieuw"

router = APIRouter()


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


def _own_professions(request: Request) -> list[str]:
    return list((session_of(request).user or {}).get("professions") or [])


def _edited(practice_id: str, done: str) -> Response:
    """Back to the edit version, saying what was done."""
    return see_other(f"/praktijken/{practice_id}/bewerken?gelukt={done}")


def _proposed(practice_id: str, done: str) -> Response:
    """Back to the page for users without rights, saying what was asked."""
    return see_other(f"/praktijken/{practice_id}/voorstellen?gelukt={done}")


async def _edit_page(
    request: Request,
    clients: ServiceClients,
    practice_id: str,
    view: dict[str, Any],
    *,
    values: dict[str, Any] | None = None,
    form: FormData | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    session = session_of(request)
    user = session.user or {}
    return render(
        request,
        "practice_edit.html",
        status=status,
        practice_id=practice_id,
        view=view,
        errors=errors or {},
        notice=request.query_params.get("gelukt"),
        own_professions=list(user.get("professions") or []),
        own_linked=practices.own_linked(user, view),
        managers=await practices.managers_of(clients, session, practice_id),
        invitations=await practices.invitations_of(clients, session, practice_id),
        waiting=await requests.waiting_on(clients, session, practice_id),
        **_form_context(values or form_values(view.get("draft") or {}), form),
    )


async def _after_edit_action(
    request: Request,
    clients: ServiceClients,
    practice_id: str,
    outcome: practices.Outcome,
    done: str,
    *,
    status: int = 422,
    typed: dict[str, str] | None = None,
    form: FormData | None = None,
) -> Response:
    """Back to the edit version saying what was done; when refused, the edit version again
    with the errors: the whole form as typed (`form`), or the stored edit version with
    what was typed in the action's own field (`typed`)."""
    if not outcome.errors:
        return _edited(practice_id, done)
    view = await practices.edit_view(clients, session_of(request), practice_id) or {}
    values = _typed(form) if form is not None else None
    if typed:
        values = {**form_values(view.get("draft") or {}), **typed}
    return await _edit_page(
        request,
        clients,
        practice_id,
        view,
        values=values,
        form=form,
        errors=outcome.errors,
        status=status,
    )


async def _propose_page(
    request: Request,
    practice: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    form: FormData | None = None,
    own_professions: list[str] | None = None,
) -> Response:
    """The page for users without rights; with errors, the refused form again (422)."""
    return render(
        request,
        "practice_propose.html",
        status=422 if errors else 200,
        practice=practice,
        errors=errors or {},
        own_professions=_own_professions(request) if own_professions is None else own_professions,
        notice=None if errors else request.query_params.get("gelukt"),
        **_form_context(
            form_values(practice.get("data") or {}) if values is None else values, form
        ),
    )


# --- creating and editing (managers) ------------------------------------------------------


@router.get(CREATE_PATH)
async def create_form(request: Request, naam: str = "") -> Response:
    logged_in_user(request)
    values: dict[str, Any] = {"naam-0": naam[:200]} if naam else {}
    return render(request, "practice_create.html", **_form_context(values))


@router.post(CREATE_PATH)
async def create(request: Request, form: CheckedForm, clients: Clients) -> Response:
    logged_in_user(request)
    typed = read_form(form, form.getlist)
    outcome = await practices.create(clients, session_of(request), typed, _publish_asked(form))
    if outcome.errors:
        context = _form_context(_typed(form), form)
        return render(request, "practice_create.html", status=422, errors=outcome.errors, **context)
    return _edited(str(outcome.practice_id), "aangemaakt")


@router.get("/praktijken/{practice_id}/bewerken")
async def edit(request: Request, practice_id: str, clients: Clients) -> Response:
    logged_in_user(request)
    view = await practices.edit_view(clients, session_of(request), practice_id)
    if view is None:
        # Not a manager: the two actions of the guide instead of the edit version.
        return see_other(f"/praktijken/{practice_id}/voorstellen")
    return await _edit_page(request, clients, practice_id, view)


@router.post("/praktijken/{practice_id}/bewerken")
async def save(request: Request, practice_id: str, form: CheckedForm, clients: Clients) -> Response:
    logged_in_user(request)
    typed = read_form(form, form.getlist)
    publish = _publish_asked(form)
    outcome = await practices.save(clients, session_of(request), practice_id, typed, publish)
    done = "gepubliceerd" if publish else "opgeslagen"
    return await _after_edit_action(request, clients, practice_id, outcome, done, form=form)


@router.post("/praktijken/{practice_id}/aanbod")
async def own_offers(
    request: Request, practice_id: str, form: CheckedForm, clients: Clients
) -> Response:
    logged_in_user(request)
    session = session_of(request)
    view = await practices.edit_view(clients, session, practice_id)
    if view is None:
        return see_other(f"/praktijken/{practice_id}/voorstellen")
    wanted = [str(p) for p in form.getlist("aanbod")]
    await practices.set_own_offers(clients, session, practice_id, wanted, view)
    return _edited(practice_id, "aanbod")


@router.post("/praktijken/{practice_id}/publiceren")
async def publish(
    request: Request, practice_id: str, form: CheckedForm, clients: Clients
) -> Response:
    logged_in_user(request)
    await practices.publish(clients, session_of(request), practice_id)
    return _edited(practice_id, "gepubliceerd")


@router.post("/praktijken/{practice_id}/uitnodigen")
async def invite(
    request: Request, practice_id: str, form: CheckedForm, clients: Clients
) -> Response:
    logged_in_user(request)
    text = str(form.get("uitnodigen", ""))
    language = language_of(request)
    outcome = await practices.invite(clients, session_of(request), practice_id, text, language)
    # Translated here: the message names the refused address's position.
    say = translator(language)
    outcome.errors = {k: say(v, **outcome.error_values) for k, v in outcome.errors.items()}
    typed = {"uitnodigen": text}
    return await _after_edit_action(
        request, clients, practice_id, outcome, "uitgenodigd", typed=typed
    )


@router.post("/praktijken/{practice_id}/beheerders")
async def grant(
    request: Request, practice_id: str, form: CheckedForm, clients: Clients
) -> Response:
    logged_in_user(request)
    who = str(form.get("beheerder", ""))
    outcome = await practices.grant(clients, session_of(request), practice_id, who)
    typed = {"beheerder": who}
    return await _after_edit_action(
        request, clients, practice_id, outcome, "beheerder", typed=typed
    )


@router.post("/praktijken/{practice_id}/beheerders/intrekken")
async def withdraw(
    request: Request, practice_id: str, form: CheckedForm, clients: Clients
) -> Response:
    logged_in_user(request)
    manager = str(form.get("beheerder", ""))
    outcome = await practices.withdraw(clients, session_of(request), practice_id, manager)
    return await _after_edit_action(
        request, clients, practice_id, outcome, "ingetrokken", status=409
    )


# --- without management rights ------------------------------------------------------------


@router.get("/praktijken/{practice_id}/voorstellen")
async def without_rights(request: Request, practice_id: str, clients: Clients) -> Response:
    logged_in_user(request)
    practice = await practices.public_practice(clients, practice_id)
    if practice is None:
        return render(request, "not_found.html", status=404)
    return await _propose_page(request, practice)


@router.post("/praktijken/{practice_id}/voorstellen")
async def propose(
    request: Request, practice_id: str, form: CheckedForm, clients: Clients
) -> Response:
    logged_in_user(request)
    practice = await practices.public_practice(clients, practice_id)
    if practice is None:
        return render(request, "not_found.html", status=404)
    typed = read_form(form, form.getlist)
    current = practice.get("data") or {}
    outcome = await practices.propose(clients, session_of(request), practice_id, typed, current)
    if outcome.errors:
        return await _propose_page(
            request, practice, errors=outcome.errors, values=_typed(form), form=form
        )
    return _proposed(practice_id, "voorstel")


@router.post("/praktijken/{practice_id}/beheerrechten-aanvragen")
async def ask_rights(
    request: Request, practice_id: str, form: CheckedForm, clients: Clients
) -> Response:
    logged_in_user(request)
    motivation = str(form.get("motivatie", ""))
    outcome = await practices.ask_rights(clients, session_of(request), practice_id, motivation)
    if outcome.errors:
        practice = await practices.public_practice(clients, practice_id) or {}
        values = {"motivatie": motivation}
        return await _propose_page(
            request, practice, errors=outcome.errors, values=values, own_professions=[]
        )
    return _proposed(practice_id, "beheerrechten")


@router.post("/praktijken/{practice_id}/aanbod-koppelen")
async def ask_link(
    request: Request, practice_id: str, form: CheckedForm, clients: Clients
) -> Response:
    logged_in_user(request)
    professions = [str(p) for p in form.getlist("aanbod")]
    outcome = await practices.ask_link(clients, session_of(request), practice_id, professions)
    if outcome.errors:
        practice = await practices.public_practice(clients, practice_id) or {}
        return await _propose_page(request, practice, errors=outcome.errors)
    return _proposed(practice_id, "koppeling")
