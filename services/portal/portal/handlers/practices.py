"""Practice fiches for the people who keep them: create, edit, publish, offers, managers,
invitations; and for those without rights: propose a change, ask for rights, ask to link.

Each function calls fiches (or invitations) with the user's access token and returns what
the page needs; a refusal the user cannot fix on the form becomes ServiceRefused (the
problem page), one they can fix comes back as errors per field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from portal.adapters.services import ServiceClients
from portal.domain.messages import N_
from portal.domain.practice_form import PracticeForm, changed_data, field_errors
from portal.domain.session import WebSession
from portal.handlers.calls import as_user, body_of, expect

FICHES = "/api/fiches/practices"


@dataclass
class Outcome:
    """What a write did: the practice it is about, or the errors to show on the form."""

    practice_id: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)
    #: Values the error messages name (`{number}`), filled in once they are translated.
    error_values: dict[str, str] = field(default_factory=dict)


def _refused_fields(response: Any, form: PracticeForm) -> dict[str, str]:
    errors = field_errors(body_of(response), form.rows)
    return errors or {"algemeen": N_("Deze gegevens kunnen we niet bewaren. Kijk ze na.")}


def _refused(practice_id: str | None, field_name: str, message: str) -> Outcome:
    """A write refused before or by the service, with the message for one field."""
    return Outcome(practice_id, errors={field_name: message})


async def _fiches(
    clients: ServiceClients, session: WebSession, method: str, path: str = "", **kwargs: Any
) -> httpx.Response:
    """A call to fiches' practice API as the user (`path` after the practices' address)."""
    return await as_user(clients, session, "fiches", method, f"{FICHES}{path}", **kwargs)


def _found(response: httpx.Response, missing: int) -> dict[str, Any] | None:
    """The answer's body, or None when fiches answers `missing` (not found, not allowed)."""
    if response.status_code == missing:
        return None
    body: dict[str, Any] = expect(response, 200).json()
    return body


def _form_refused(
    response: httpx.Response, form: PracticeForm, practice_id: str | None = None
) -> Outcome | None:
    """The errors per row of the form when fiches refuses its data (422), else None."""
    if response.status_code != 422:
        return None
    return Outcome(practice_id, errors=_refused_fields(response, form))


def _requested(response: httpx.Response, practice_id: str) -> Outcome:
    """A request fiches recorded (201) for the managers or the team to decide."""
    return Outcome(practice_id, done=[str(expect(response, 201).json()["request_id"])])


async def create(
    clients: ServiceClients, session: WebSession, form: PracticeForm, publish: bool
) -> Outcome:
    """A new practice fiche; the user manages it from now on."""
    publishing = {"publish": str(publish).lower()}
    body = {**form.data, "offers": form.offers}
    response = await _fiches(clients, session, "POST", params=publishing, json=body)
    return _form_refused(response, form) or Outcome(
        practice_id=str(expect(response, 201).json()["practice_id"])
    )


async def edit_view(
    clients: ServiceClients, session: WebSession, practice_id: str
) -> dict[str, Any] | None:
    """The edit version, or None when the user does not manage the practice."""
    return _found(await _fiches(clients, session, "GET", f"/{practice_id}/edit"), missing=403)


async def save(
    clients: ServiceClients,
    session: WebSession,
    practice_id: str,
    form: PracticeForm,
    publish: bool,
) -> Outcome:
    """Save the edit version ("Opslaan"), and publish it ("Opslaan en publiceren")."""
    publishing = {"publish": str(publish).lower()}
    response = await _fiches(
        clients, session, "PUT", f"/{practice_id}/edit", params=publishing, json=form.data
    )
    return _form_refused(response, form, practice_id) or Outcome(
        practice_id, done=list(expect(response, 200).json().get("changed_fields", []))
    )


def own_linked(user: dict[str, Any], view: dict[str, Any]) -> list[str]:
    """The user's own professions whose offer the edit version links."""
    mine = user.get("professional_id")
    return [
        str(o["profession"])
        for o in view.get("offers", [])
        if o.get("professional_id") == mine and o.get("in_edit_version")
    ]


async def set_own_offers(
    clients: ServiceClients,
    session: WebSession,
    practice_id: str,
    wanted: list[str],
    view: dict[str, Any],
) -> Outcome:
    """The "Aanbod" checkboxes: link the ticked own professions, unlink the others."""
    user = session.user or {}
    mine = str(user.get("professional_id") or "")
    own = [str(p) for p in user.get("professions") or []]
    linked = set(own_linked({**user, "professional_id": mine}, view))
    to_link = [p for p in own if p in wanted and p not in linked]
    to_unlink = [p for p in own if p not in wanted and p in linked]
    if to_link:
        response = await _fiches(
            clients, session, "POST", f"/{practice_id}/offers", json={"professions": to_link}
        )
        expect(response, 200)
    for profession in to_unlink:
        response = await _fiches(
            clients, session, "DELETE", f"/{practice_id}/offers/{mine}/{profession}"
        )
        expect(response, 204)
    return Outcome(practice_id, done=to_link + to_unlink)


async def publish(clients: ServiceClients, session: WebSession, practice_id: str) -> None:
    expect(await _fiches(clients, session, "POST", f"/{practice_id}/publish"), 200)


async def managers_of(
    clients: ServiceClients, session: WebSession, practice_id: str
) -> list[dict[str, Any]]:
    """The practice's managers with the names fiches gives (none when it cannot say)."""
    response = await _fiches(clients, session, "GET", f"/{practice_id}/managers")
    if response.status_code != 200:
        return []
    body = response.json()
    named = body.get("managers")
    if isinstance(named, list):
        return [m for m in named if isinstance(m, dict)]
    return [{"user_id": uid, "name": None} for uid in body.get("manager_user_ids", [])]


def addresses_typed(text: str) -> list[str]:
    """E-mail addresses typed one per line, or separated by commas or spaces."""
    return [part for part in text.replace(",", " ").replace(";", " ").split() if part]


async def invite(
    clients: ServiceClients, session: WebSession, practice_id: str, text: str, language: str
) -> Outcome:
    """ "Uitnodigen": one invitation per address; errors name the address's position."""
    emails = addresses_typed(text)
    if not emails:
        return _refused(practice_id, "uitnodigen", N_("Geef minstens één e-mailadres."))
    response = await as_user(
        clients,
        session,
        "invitations",
        "POST",
        f"/api/invitations/practices/{practice_id}/invitations",
        json={"emails": emails, "language": language},
    )
    if response.status_code in (404, 409, 422, 429):
        message, position = _invitation_refusal(response)
        return Outcome(
            practice_id,
            errors={"uitnodigen": message},
            error_values={"number": position} if position else {},
        )
    expect(response, 200, 201)
    outcomes = [str(r.get("outcome")) for r in response.json().get("results", [])]
    return Outcome(practice_id, done=outcomes)


def _invitation_refusal(response: Any) -> tuple[str, str | None]:
    """The message, and the position of the refused address (never the address itself)."""
    if response.status_code == 429:
        return N_("Je hebt te veel uitnodigingen verstuurd. Probeer het later opnieuw."), None
    if response.status_code == 404:
        return N_(
            "Deze praktijk is nog niet gekend voor uitnodigingen. "
            "Probeer het over een minuut opnieuw."
        ), None
    if response.status_code == 409:
        return (
            N_("Deze praktijk heeft te veel openstaande uitnodigingen. Trek er eerst enkele in."),
            None,
        )
    body = body_of(response)
    items = (body or {}).get("detail") or (body or {}).get("errors") or []
    for item in items if isinstance(items, list) else []:
        where = item.get("loc") or str(item.get("field", "")).split(".")
        position = next((p for p in reversed(where) if str(p).isdigit()), None)
        if position is not None:
            return (
                N_("E-mailadres {number} klopt niet. Schrijf het als naam@praktijk.be."),
                str(int(position) + 1),
            )
    return N_("Geef een of meer geldige e-mailadressen, één per regel."), None


async def invitations_of(
    clients: ServiceClients, session: WebSession, practice_id: str
) -> list[dict[str, Any]]:
    """The practice's invitations (state and dates; never addresses)."""
    response = await as_user(
        clients,
        session,
        "invitations",
        "GET",
        f"/api/invitations/practices/{practice_id}/invitations",
    )
    if response.status_code != 200:
        return []
    body = response.json()
    items = body.get("invitations", body.get("items", [])) if isinstance(body, dict) else body
    return list(items or [])


async def grant(
    clients: ServiceClients, session: WebSession, practice_id: str, who: str
) -> Outcome:
    """Give management rights to a user named by e-mail address or name."""
    who = who.strip()
    if not who:
        return _refused(practice_id, "beheerder", N_("Geef een e-mailadres of een naam."))
    response = await _fiches(
        clients, session, "POST", f"/{practice_id}/managers", json=manager_body(who)
    )
    if response.status_code in (404, 409, 422):
        return _refused(
            practice_id,
            "beheerder",
            N_(
                "We vinden niemand met dit e-mailadres of deze naam die zich al "
                "aanmeldde. Vraag de persoon eerst in te loggen, en probeer dan opnieuw."
            ),
        )
    expect(response, 200, 201)
    return Outcome(practice_id, done=[who])


def manager_body(who: str) -> dict[str, str]:
    """How fiches is told whom to grant rights: by e-mail address or by name."""
    return {"email": who} if "@" in who else {"name": who}


async def withdraw(
    clients: ServiceClients, session: WebSession, practice_id: str, manager: str
) -> Outcome:
    """Withdraw a manager's rights (the manager as the edit view lists them)."""
    response = await _fiches(clients, session, "DELETE", f"/{practice_id}/managers/{manager}")
    if response.status_code == 409:
        return _refused(
            practice_id,
            "intrekken",
            N_(
                "De laatste beheerder kan je niet verwijderen. Geef eerst iemand "
                "anders beheerrechten."
            ),
        )
    expect(response, 200, 204)
    return Outcome(practice_id, done=[manager])


async def public_practice(clients: ServiceClients, practice_id: str) -> dict[str, Any] | None:
    """The published practice fiche (anyone may read it), or None when there is none."""
    return _found(await clients.call("fiches", "GET", f"{FICHES}/{practice_id}"), missing=404)


async def propose(
    clients: ServiceClients,
    session: WebSession,
    practice_id: str,
    form: PracticeForm,
    current: dict[str, Any],
) -> Outcome:
    """ "Wijziging voorstellen": the changed fields go to the managers or the team."""
    changes = changed_data(form.data, current)
    if not changes:
        return _refused(practice_id, "algemeen", N_("Je hebt nog niets gewijzigd."))
    response = await _fiches(
        clients, session, "POST", f"/{practice_id}/proposals", json={"changes": changes}
    )
    return _form_refused(response, form, practice_id) or _requested(response, practice_id)


async def ask_rights(
    clients: ServiceClients, session: WebSession, practice_id: str, motivation: str
) -> Outcome:
    """ "Beheerrechten aanvragen": the team decides."""
    asked = {"motivation": motivation.strip() or None}
    response = await _fiches(
        clients, session, "POST", f"/{practice_id}/rights-requests", json=asked
    )
    if response.status_code == 422:
        return _refused(practice_id, "motivatie", N_("Je toelichting telt hoogstens 2000 tekens."))
    return _requested(response, practice_id)


async def ask_link(
    clients: ServiceClients, session: WebSession, practice_id: str, professions: list[str]
) -> Outcome:
    """ "Aanbod koppelen": the managers or the team approve the link."""
    if not professions:
        return _refused(practice_id, "aanbod", N_("Vink minstens één aanbod aan."))
    response = await _fiches(
        clients, session, "POST", f"/{practice_id}/link-requests", json={"professions": professions}
    )
    return _requested(response, practice_id)
