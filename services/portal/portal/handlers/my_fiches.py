""" "Mijn fiches": the provider fiche and, per practice, the guide's three situations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portal.adapters.services import ServiceClients
from portal.domain.messages import N_
from portal.domain.session import WebSession
from portal.handlers import account

#: Why a provider fiche is offline, in the portal's words (translated on the page).
OFFLINE_REASONS = {
    "riziv_stopped": N_("Je RIZIV-nummer werd stopgezet in de authentieke bron."),
    "visa_inactive": N_("Je visum is niet meer actief in de authentieke bron."),
    "practice_ban": N_("Er werd een praktijkverbod uitgesproken."),
    "deceased": N_("De authentieke bron meldt een overlijden."),
}

#: The guide's three situations, as the page labels them.
SITUATIONS = {
    "ready": N_("KLAAR"),
    "almost_ready": N_("BIJNA KLAAR"),
    "create": N_("PRAKTIJKFICHE AANMAKEN"),
}


@dataclass
class MyFiches:
    provider: dict[str, Any] | None = None
    practices: list[dict[str, Any]] = field(default_factory=list)
    to_create: list[dict[str, Any]] = field(default_factory=list)
    managed: list[dict[str, Any]] = field(default_factory=list)
    waiting: dict[str, int] = field(default_factory=dict)
    """Per managed practice, how many requests wait for its managers' decision."""


async def my_fiches(
    clients: ServiceClients, session: WebSession, practice_names: list[str]
) -> MyFiches:
    """A professional's map status (with the practices they named) and what they manage."""
    token = await account.access_token(clients, session)
    user = session.user or {}
    found = MyFiches()
    if user.get("professional_id"):
        status = await clients.call(
            "fiches",
            "GET",
            "/api/fiches/me/map-status",
            access_token=token,
            params={"practice": [n for n in practice_names if n.strip()]},
        )
        if status.status_code != 200:
            raise account.refused(status)
        body = status.json()
        found.provider = body.get("provider_fiche")
        found.practices = list(body.get("practices", []))
        found.to_create = list(body.get("to_create", []))
        for missing in found.to_create:
            missing["suggestions"] = await similar_practices(clients, missing["practice_name"])
    managed = await clients.call(
        "fiches", "GET", "/api/fiches/me/managed-practices", access_token=token
    )
    if managed.status_code != 200:
        raise account.refused(managed)
    shown = {p["practice_id"] for p in found.practices}
    everything = managed.json()["practices"]
    found.managed = [p for p in everything if p["practice_id"] not in shown]
    found.waiting = {p["practice_id"]: int(p.get("open_requests") or 0) for p in everything}
    return found


SUGGESTIONS = 5


async def similar_practices(clients: ServiceClients, typed: str) -> list[dict[str, Any]]:
    """Practices on the map whose name holds the words typed ("De Linde": Huisartsenpraktijk
    De Linde), for a name no practice has exactly: the provider picks theirs instead of
    creating it a second time. None when the search cannot answer."""
    response = await clients.call(
        "directory",
        "GET",
        "/api/directory/search",
        params={"q": typed, "type": "practice", "limit": SUGGESTIONS},
    )
    if response.status_code != 200:
        return []
    suggestions = []
    for hit in response.json().get("items", []):
        addresses = hit.get("addresses") or []
        address = next((a for a in addresses if a.get("preferred")), None) or next(
            iter(addresses), None
        )
        suggestions.append({"name": hit.get("name", ""), "address": address})
    return suggestions


async def ask_link(
    clients: ServiceClients, session: WebSession, practice_id: str, professions: list[str]
) -> None:
    """ "Aanbod koppelen": ask the practice's managers (or the team) to link the offer."""
    token = await account.access_token(clients, session)
    response = await clients.call(
        "fiches",
        "POST",
        f"/api/fiches/practices/{practice_id}/link-requests",
        access_token=token,
        json={"professions": professions},
    )
    if response.status_code != 201:
        raise account.refused(response)
