"""The provider's own fiche: its edit version, saving (and publishing), source errors, history.

The form's field names are the guide's Dutch words; the API's are English. A refused save
comes back with the API's field names, mapped here to the form's.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from portal.adapters.services import ServiceClients
from portal.domain.phone_numbers import readable_phone_number
from portal.domain.problems import Problem, in_own_words
from portal.domain.session import WebSession
from portal.domain.web_addresses import with_scheme
from portal.handlers import account

#: API field → form field.
FORM_FIELDS = {
    "preferred_name": "naam",
    "languages": "talen",
    "description": "beschrijving",
    "phone_numbers": "telefoon",
    "email_addresses": "email",
    "websites": "website",
}
SPOKEN_LANGUAGES = ("nl", "fr", "en", "de")


async def my_provider_fiche_id(clients: ServiceClients, session: WebSession) -> str | None:
    token = await account.access_token(clients, session)
    response = await clients.call("fiches", "GET", "/api/fiches/me/map-status", access_token=token)
    if response.status_code != 200:
        raise account.refused(response)
    fiche = response.json().get("provider_fiche")
    return str(fiche["fiche_id"]) if fiche else None


async def edit_version(
    clients: ServiceClients, session: WebSession, fiche_id: str
) -> dict[str, Any]:
    token = await account.access_token(clients, session)
    response = await clients.call(
        "fiches", "GET", f"/api/fiches/providers/{fiche_id}/edit", access_token=token
    )
    if response.status_code != 200:
        raise account.refused(response)
    view: dict[str, Any] = response.json()
    return view


def form_values(own: dict[str, Any]) -> dict[str, Any]:
    """The edit version as the form shows it (the preferred value of each list first)."""

    def ordered(items: list[dict[str, Any]], key: str) -> list[str]:
        first = sorted(items, key=lambda item: not item.get("preferred"))
        return [str(item[key]) for item in first]

    return {
        "naam": own.get("preferred_name") or "",
        "talen": list(own.get("languages") or []),
        "beschrijving": own.get("description") or "",
        "telefoon": [
            readable_phone_number(n) for n in ordered(own.get("phone_numbers") or [], "number")
        ],
        "email": ordered(own.get("email_addresses") or [], "email"),
        "website": ordered(own.get("websites") or [], "url"),
    }


def typed_values(form: FormData) -> dict[str, Any]:
    """What was typed, to show again on a refused save."""

    def many(name: str) -> list[str]:
        return [str(v).strip() for v in form.getlist(name) if str(v).strip()]

    return {
        "naam": str(form.get("naam", "")).strip(),
        "talen": many("talen"),
        "beschrijving": str(form.get("beschrijving", "")).strip(),
        "telefoon": many("telefoon"),
        "email": many("email"),
        "website": many("website"),
    }


def own_data(values: dict[str, Any]) -> dict[str, Any]:
    """The API's body: the first value of each list is the preferred one."""

    def listed(items: list[str], key: str) -> list[dict[str, Any]]:
        return [{key: item, "preferred": index == 0} for index, item in enumerate(items)]

    return {
        "preferred_name": values["naam"] or None,
        "languages": values["talen"],
        "description": values["beschrijving"] or None,
        "phone_numbers": listed(values["telefoon"], "number"),
        "email_addresses": listed(values["email"], "email"),
        "websites": listed([with_scheme(url) for url in values["website"]], "url"),
    }


async def save(
    clients: ServiceClients,
    session: WebSession,
    fiche_id: str,
    values: dict[str, Any],
    publish: bool,
) -> Problem | None:
    """Save the edit version (and publish it); the refusal when the API refuses."""
    token = await account.access_token(clients, session)
    response = await clients.call(
        "fiches",
        "PUT",
        f"/api/fiches/providers/{fiche_id}/edit",
        access_token=token,
        params={"publish": "true"} if publish else None,
        json=own_data(values),
    )
    if response.status_code == 200:
        return None
    problem = account.refused(response).problem
    if response.status_code != 422:
        raise account.ServiceRefused(problem)
    return problem


def form_errors(problem: Problem) -> dict[str, str]:
    own_words = in_own_words(problem.field_errors)
    errors = {FORM_FIELDS.get(k, k): v for k, v in own_words.items()}
    return errors or {"naam": problem.message}


async def report_source_error(
    clients: ServiceClients, session: WebSession, fiche_id: str, description: str
) -> Problem | None:
    token = await account.access_token(clients, session)
    response = await clients.call(
        "fiches",
        "POST",
        f"/api/fiches/providers/{fiche_id}/source-errors",
        access_token=token,
        json={"description": description},
    )
    if response.status_code == 201:
        return None
    problem = account.refused(response).problem
    if response.status_code != 422:
        raise account.ServiceRefused(problem)
    return problem


async def history(clients: ServiceClients, session: WebSession, fiche_id: str) -> list[Any]:
    token = await account.access_token(clients, session)
    response = await clients.call(
        "fiches", "GET", f"/api/fiches/providers/{fiche_id}/history", access_token=token
    )
    if response.status_code != 200:
        raise account.refused(response)
    return list(reversed(response.json()))
