"""Practice fiches for the people who keep them: create, edit, publish, offers, managers,
invitations; and for those without rights: propose a change, ask for rights, ask to link.

Each function calls fiches (or invitations) with the user's access token and returns what
the page needs; a refusal the user cannot fix on the form becomes ServiceRefused (the
problem page), one they can fix comes back as errors per field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portal.adapters.services import ServiceClients
from portal.domain.messages import N_
from portal.domain.practice_form import PracticeForm, changed_data, field_errors
from portal.entrypoints.web import WebSession
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


async def create(
    clients: ServiceClients, session: WebSession, form: PracticeForm, publish: bool
) -> Outcome:
    """A new practice fiche; the user manages it from now on."""
    response = await as_user(
        clients,
        session,
        "fiches",
        "POST",
        FICHES,
        params={"publish": str(publish).lower()},
        json={**form.data, "offers": form.offers},
    )
    if response.status_code == 422:
        return Outcome(errors=_refused_fields(response, form))
    expect(response, 201)
    return Outcome(practice_id=str(response.json()["practice_id"]))


async def edit_view(
    clients: ServiceClients, session: WebSession, practice_id: str
) -> dict[str, Any] | None:
    """The edit version, or None when the user does not manage the practice."""
    response = await as_user(clients, session, "fiches", "GET", f"{FICHES}/{practice_id}/edit")
    if response.status_code == 403:
        return None
    expect(response, 200)
    view: dict[str, Any] = response.json()
    return view


async def save(
    clients: ServiceClients,
    session: WebSession,
    practice_id: str,
    form: PracticeForm,
    publish: bool,
) -> Outcome:
    """Save the edit version ("Opslaan"), and publish it ("Opslaan en publiceren")."""
    response = await as_user(
        clients,
        session,
        "fiches",
        "PUT",
        f"{FICHES}/{practice_id}/edit",
        params={"publish": str(publish).lower()},
        json=form.data,
    )
    if response.status_code == 422:
        return Outcome(practice_id, errors=_refused_fields(response, form))
    expect(response, 200)
    return Outcome(practice_id, done=list(response.json().get("changed_fields", [])))


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
    linked = {
        str(o["profession"])
        for o in view.get("offers", [])
        if o.get("professional_id") == mine and o.get("in_edit_version")
    }
    to_link = [p for p in own if p in wanted and p not in linked]
    to_unlink = [p for p in own if p not in wanted and p in linked]
    if to_link:
        response = await as_user(
            clients,
            session,
            "fiches",
            "POST",
            f"{FICHES}/{practice_id}/offers",
            json={"professions": to_link},
        )
        expect(response, 200)
    for profession in to_unlink:
        response = await as_user(
            clients,
            session,
            "fiches",
            "DELETE",
            f"{FICHES}/{practice_id}/offers/{mine}/{profession}",
        )
        expect(response, 204)
    return Outcome(practice_id, done=to_link + to_unlink)


async def publish(clients: ServiceClients, session: WebSession, practice_id: str) -> None:
    response = await as_user(clients, session, "fiches", "POST", f"{FICHES}/{practice_id}/publish")
    expect(response, 200)


def addresses_typed(text: str) -> list[str]:
    """E-mail addresses typed one per line, or separated by commas or spaces."""
    return [part for part in text.replace(",", " ").replace(";", " ").split() if part]


async def invite(
    clients: ServiceClients, session: WebSession, practice_id: str, text: str, language: str
) -> Outcome:
    """ "Uitnodigen": one invitation per address; errors name the address's position."""
    emails = addresses_typed(text)
    if not emails:
        return Outcome(practice_id, errors={"uitnodigen": N_("Geef minstens één e-mailadres.")})
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
        return Outcome(practice_id, errors={"beheerder": N_("Geef een e-mailadres of een naam.")})
    response = await as_user(
        clients,
        session,
        "fiches",
        "POST",
        f"{FICHES}/{practice_id}/managers",
        json=manager_body(who),
    )
    if response.status_code in (404, 409, 422):
        return Outcome(
            practice_id,
            errors={
                "beheerder": N_(
                    "We vinden niemand met dit e-mailadres of deze naam die zich al "
                    "aanmeldde. Vraag de persoon eerst in te loggen, en probeer dan opnieuw."
                )
            },
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
    response = await as_user(
        clients, session, "fiches", "DELETE", f"{FICHES}/{practice_id}/managers/{manager}"
    )
    if response.status_code == 409:
        return Outcome(
            practice_id,
            errors={
                "intrekken": N_(
                    "De laatste beheerder kan je niet verwijderen. Geef eerst iemand "
                    "anders beheerrechten."
                )
            },
        )
    expect(response, 200, 204)
    return Outcome(practice_id, done=[manager])


async def public_practice(clients: ServiceClients, practice_id: str) -> dict[str, Any] | None:
    response = await clients.call("fiches", "GET", f"{FICHES}/{practice_id}")
    if response.status_code == 404:
        return None
    expect(response, 200)
    practice: dict[str, Any] = response.json()
    return practice


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
        return Outcome(practice_id, errors={"algemeen": N_("Je hebt nog niets gewijzigd.")})
    response = await as_user(
        clients,
        session,
        "fiches",
        "POST",
        f"{FICHES}/{practice_id}/proposals",
        json={"changes": changes},
    )
    if response.status_code == 422:
        return Outcome(practice_id, errors=_refused_fields(response, form))
    expect(response, 201)
    return Outcome(practice_id, done=[str(response.json()["request_id"])])


async def ask_rights(
    clients: ServiceClients, session: WebSession, practice_id: str, motivation: str
) -> Outcome:
    """ "Beheerrechten aanvragen": the team decides."""
    response = await as_user(
        clients,
        session,
        "fiches",
        "POST",
        f"{FICHES}/{practice_id}/rights-requests",
        json={"motivation": motivation.strip() or None},
    )
    if response.status_code == 422:
        return Outcome(
            practice_id, errors={"motivatie": N_("Je toelichting telt hoogstens 2000 tekens.")}
        )
    expect(response, 201)
    return Outcome(practice_id, done=[str(response.json()["request_id"])])


async def ask_link(
    clients: ServiceClients, session: WebSession, practice_id: str, professions: list[str]
) -> Outcome:
    """ "Aanbod koppelen": the managers or the team approve the link."""
    if not professions:
        return Outcome(practice_id, errors={"aanbod": N_("Vink minstens één aanbod aan.")})
    response = await as_user(
        clients,
        session,
        "fiches",
        "POST",
        f"{FICHES}/{practice_id}/link-requests",
        json={"professions": professions},
    )
    expect(response, 201)
    return Outcome(practice_id, done=[str(response.json()["request_id"])])
