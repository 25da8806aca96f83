"""Exports of the fiches a user manages: ask for one, follow its state, download it.

fiches has no list of a user's exports, so the portal remembers the ids asked for in this
browser session. The download needs no login: the signed link from the e-mail is the
permission; the portal passes it on to fiches unchanged and never logs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from portal.adapters.services import ServiceClients
from portal.domain.messages import N_
from portal.entrypoints.web import WebSession
from portal.handlers.calls import as_user, expect

API = "/api/fiches/exports"
FORMATS = ("csv", "json")
SESSION_KEY = "exports"
#: The most exports a session remembers (fiches allows 10 a day).
REMEMBERED = 20


@dataclass
class Asked:
    export_id: str | None = None
    errors: dict[str, str] = field(default_factory=dict)


async def ask(clients: ServiceClients, session: WebSession, formats: list[str]) -> Asked:
    chosen = [f for f in FORMATS if f in formats]
    if not chosen:
        return Asked(errors={"formaat": N_("Kies minstens één formaat: CSV of JSON.")})
    response = await as_user(clients, session, "fiches", "POST", API, json={"formats": chosen})
    if response.status_code == 429:
        return Asked(
            errors={
                "formaat": N_(
                    "Je vroeg vandaag al het maximum aantal exports aan. Probeer het morgen "
                    "opnieuw."
                )
            }
        )
    export_id = str(expect(response, 202).json()["export_id"])
    remembered = [export_id, *[e for e in session.get(SESSION_KEY) or [] if e != export_id]]
    session.set(SESSION_KEY, remembered[:REMEMBERED])
    return Asked(export_id=export_id)


async def states(clients: ServiceClients, session: WebSession) -> list[dict[str, Any]]:
    """The state of every export asked for in this session, newest first."""
    found = []
    for export_id in session.get(SESSION_KEY) or []:
        response = await as_user(clients, session, "fiches", "GET", f"{API}/{export_id}")
        if response.status_code == 200:
            found.append(response.json())
    return found


async def download(
    clients: ServiceClients, export_id: str, expires: int, signature: str, fmt: str
) -> httpx.Response:
    """The file behind a signed link (or fiches' refusal: 403 changed, 410 expired)."""
    return await clients.call(
        "fiches",
        "GET",
        f"{API}/{export_id}/download",
        params={"expires": expires, "signature": signature, "format": fmt},
    )
