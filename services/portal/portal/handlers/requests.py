"""Requests: the user's own, those on a practice they manage, the team's work queue;
deciding one; asking for a fiche's removal; history versions and restoring one (team)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portal.adapters.services import ServiceClients
from portal.domain.messages import N_
from portal.domain.session import WebSession
from portal.handlers.calls import as_user, expect

API = "/api/fiches"
QUEUE_PAGE = 25


@dataclass
class Decided:
    errors: dict[str, str] = field(default_factory=dict)


async def mine(clients: ServiceClients, session: WebSession) -> list[dict[str, Any]]:
    response = await as_user(clients, session, "fiches", "GET", f"{API}/me/requests")
    items: list[dict[str, Any]] = expect(response, 200).json()
    return items


async def of_practice(
    clients: ServiceClients, session: WebSession, practice_id: str
) -> list[dict[str, Any]]:
    response = await as_user(
        clients, session, "fiches", "GET", f"{API}/practices/{practice_id}/requests"
    )
    items: list[dict[str, Any]] = expect(response, 200).json()
    return await with_names(clients, items)


async def waiting_on(clients: ServiceClients, session: WebSession, practice_id: str) -> int:
    """How many requests wait for the practice's managers (0 when it cannot be read: the
    edit version still opens)."""
    response = await as_user(
        clients, session, "fiches", "GET", f"{API}/practices/{practice_id}/requests"
    )
    return len(response.json()) if response.status_code == 200 else 0


async def with_names(clients: ServiceClients, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each request with its requester's name where fiches does not give it: a link request
    names the requester's provider fiche, whose public name is theirs; an error report in
    the authentic source comes from the provider of the fiche. Never an internal id."""
    names: dict[str, str | None] = {}
    for item in items:
        if item.get("requester_name"):
            continue
        if item.get("kind") == "source_error":
            item["requester_name"] = item.get("fiche_name")
            continue
        fiche_id = (item.get("payload") or {}).get("provider_fiche_id")
        if not fiche_id:
            continue
        if fiche_id not in names:
            names[fiche_id] = await _provider_name(clients, str(fiche_id))
        item["requester_name"] = names[fiche_id]
    return items


async def _provider_name(clients: ServiceClients, fiche_id: str) -> str | None:
    response = await clients.call("fiches", "GET", f"{API}/providers/{fiche_id}")
    if response.status_code != 200:
        return None
    fiche = response.json()
    official = f"{fiche.get('official_first_name', '')} {fiche.get('official_last_name', '')}"
    return str(fiche.get("preferred_name") or official.strip()) or None


async def work_queue(
    clients: ServiceClients, session: WebSession, kind: str, status: str, offset: int
) -> dict[str, Any]:
    params: dict[str, Any] = {"status": status, "limit": QUEUE_PAGE, "offset": offset}
    if kind:
        params["kind"] = kind
    response = await as_user(
        clients, session, "fiches", "GET", f"{API}/team/requests", params=params
    )
    page: dict[str, Any] = expect(response, 200).json()
    page["items"] = await with_names(clients, list(page.get("items") or []))
    return page


async def decide(
    clients: ServiceClients, session: WebSession, request_id: str, decision: str, comment: str
) -> Decided:
    """Approve or decline; declining needs a reason (the requester is told it)."""
    comment = comment.strip()
    if decision not in ("approved", "declined"):
        return Decided({"reden": N_("Kies goedkeuren of weigeren.")})
    if decision == "declined" and not comment:
        return Decided({"reden": N_("Geef een reden: de aanvrager krijgt ze te lezen.")})
    response = await as_user(
        clients,
        session,
        "fiches",
        "POST",
        f"{API}/requests/{request_id}/decision",
        json={"decision": decision, "comment": comment or None},
    )
    if response.status_code == 409:
        return Decided({"reden": N_("Over deze aanvraag werd intussen al beslist.")})
    if response.status_code == 422:
        return Decided({"reden": N_("De reden telt hoogstens 2000 tekens.")})
    expect(response, 200)
    return Decided()


async def ask_removal(
    clients: ServiceClients, session: WebSession, fiche_type: str, fiche_id: str, reason: str
) -> Decided:
    """ "Verwijderen aanvragen": the team decides."""
    reason = reason.strip()
    if not reason:
        return Decided({"reden": N_("Zeg waarom de fiche weg mag, zodat het team het kan nagaan.")})
    if len(reason) > 2000:
        return Decided({"reden": N_("De reden telt hoogstens 2000 tekens.")})
    response = await as_user(
        clients,
        session,
        "fiches",
        "POST",
        f"{API}/removal-requests",
        json={"fiche_type": fiche_type, "fiche_id": fiche_id, "reason": reason},
    )
    expect(response, 201)
    return Decided()


def _history_path(fiche_type: str, fiche_id: str) -> str:
    kind = "practices" if fiche_type == "practice" else "providers"
    return f"{API}/{kind}/{fiche_id}/history"


async def history(
    clients: ServiceClients, session: WebSession, fiche_type: str, fiche_id: str
) -> list[dict[str, Any]]:
    response = await as_user(clients, session, "fiches", "GET", _history_path(fiche_type, fiche_id))
    versions: list[dict[str, Any]] = expect(response, 200).json()
    return versions


async def restore(
    clients: ServiceClients, session: WebSession, fiche_type: str, fiche_id: str, version: int
) -> list[str]:
    response = await as_user(
        clients,
        session,
        "fiches",
        "POST",
        f"{_history_path(fiche_type, fiche_id)}/{version}/restore",
    )
    changed: list[str] = expect(response, 200).json().get("changed_fields", [])
    return changed
