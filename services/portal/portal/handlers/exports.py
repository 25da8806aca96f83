"""Exports of the fiches a user manages: ask for one, follow its state, download it.

The list comes from fiches (`GET /api/fiches/exports`: the user's own, newest first), so
it is the same in every browser. The download needs no login: the signed link from the e-mail is the
permission; the portal passes it on to fiches unchanged and never logs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from portal.adapters.services import ServiceClients
from portal.domain.messages import N_
from portal.domain.session import WebSession
from portal.handlers.calls import as_user, expect

API = "/api/fiches/exports"
FORMATS = ("csv", "json")


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
    return Asked(export_id=str(expect(response, 202).json()["export_id"]))


async def states(clients: ServiceClients, session: WebSession) -> list[dict[str, Any]]:
    """The state of the user's exports, newest first."""
    response = await as_user(clients, session, "fiches", "GET", API)
    return list(expect(response, 200).json()["exports"])


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
