"""Stopping at a practice (guide point 4): in the provider fiche's edit version the provider
selects their offer at a practice, deletes it, confirms, and saves (and publishes).

A confirmed deletion waits in the browser session until "Opslaan" or "Opslaan en
publiceren", as the guide shows; only then is fiches asked to remove the offer.
"""

from __future__ import annotations

from typing import Any

from portal.adapters.services import ServiceClients
from portal.domain.session import WebSession
from portal.handlers.calls import as_user, expect

PENDING = "stop_at"


def pending(session: WebSession, fiche_id: str) -> list[tuple[str, str]]:
    """The confirmed deletions (practice, profession) not saved yet for this fiche."""
    stored = session.get(PENDING) or {}
    return [(str(p), str(q)) for p, q in stored.get(fiche_id, [])]


def mark(session: WebSession, fiche_id: str, practice_id: str, profession: str) -> None:
    stored = dict(session.get(PENDING) or {})
    entries = [list(e) for e in stored.get(fiche_id, [])]
    if [practice_id, profession] not in entries:
        entries.append([practice_id, profession])
    stored[fiche_id] = entries
    session.set(PENDING, stored)


def forget(session: WebSession, fiche_id: str) -> None:
    stored = dict(session.get(PENDING) or {})
    stored.pop(fiche_id, None)
    session.set(PENDING, stored)


async def offers_by_practice(
    clients: ServiceClients, session: WebSession, fiche_id: str
) -> list[dict[str, Any]]:
    """The provider's offers in the edit version, with each practice's public name."""
    response = await as_user(
        clients, session, "fiches", "GET", f"/api/fiches/providers/{fiche_id}/edit"
    )
    view = expect(response, 200).json()
    names: dict[str, str] = {}
    offers = []
    waiting = set(pending(session, fiche_id))
    for offer in view.get("offers", []):
        if not offer.get("in_edit_version"):
            continue
        practice_id = str(offer["practice_id"])
        if practice_id not in names:
            names[practice_id] = await _practice_name(clients, practice_id)
        offers.append(
            {
                "practice_id": practice_id,
                "practice_name": names[practice_id],
                "profession": str(offer["profession"]),
                "to_delete": (practice_id, str(offer["profession"])) in waiting,
            }
        )
    return offers


async def _practice_name(clients: ServiceClients, practice_id: str) -> str:
    response = await clients.call("fiches", "GET", f"/api/fiches/practices/{practice_id}")
    if response.status_code == 200:
        return str(response.json().get("name") or "")
    return ""


async def save(clients: ServiceClients, session: WebSession, fiche_id: str, publish: bool) -> int:
    """Remove every confirmed offer (and publish the removal); how many were removed."""
    removed = 0
    for practice_id, profession in pending(session, fiche_id):
        response = await as_user(
            clients,
            session,
            "fiches",
            "DELETE",
            f"/api/fiches/providers/{fiche_id}/offers/{practice_id}/{profession}",
            params={"confirm": "true", "publish": str(publish).lower()},
        )
        # Already gone (another tab, or the practice's manager removed it): nothing to do.
        if response.status_code != 404:
            expect(response, 204)
            removed += 1
    forget(session, fiche_id)
    return removed
