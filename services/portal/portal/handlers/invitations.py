"""The invitation a mailed link opens: show it, accept it with the chosen offer, decline it.

The link's token travels only between the browser, the portal and invitations: in the
page's address and its forms, never in a log line or another service's call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal.adapters.services import ServiceClients
from portal.domain.session import WebSession
from portal.handlers.calls import as_user, body_of, expect

LINK = "/api/invitations/link"
#: Why a link no longer works, as invitations says it (404 or 410).
ENDED = {"link_not_valid", "already_used", "declined", "revoked", "expired"}
#: Refusals of an acceptance that leave the invitation open for the right person.
WRONG_PERSON = {"not_a_professional", "profession_not_held", "profession_not_invited"}


@dataclass(frozen=True)
class Answer:
    """What invitations said: the invitation (or acceptance), or why not."""

    found: dict[str, Any] | None = None
    reason: str | None = None


def reason_of(response: Any) -> str:
    body = body_of(response) or {}
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, dict) and detail.get("reason"):
        return str(detail["reason"])
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        return str(detail[0].get("type") or "invalid")
    if isinstance(body, dict) and body.get("code"):
        return str(body["code"])
    return "link_not_valid" if response.status_code == 404 else "unknown"


async def show(clients: ServiceClients, token: str) -> Answer:
    response = await clients.call("invitations", "GET", LINK, params={"token": token})
    if response.status_code in (404, 410, 422):
        return Answer(
            reason=reason_of(response) if response.status_code != 422 else "link_not_valid"
        )
    found: dict[str, Any] = expect(response, 200).json()
    return Answer(found=found)


async def accept(
    clients: ServiceClients, session: WebSession, token: str, professions: list[str]
) -> Answer:
    response = await as_user(
        clients,
        session,
        "invitations",
        "POST",
        f"{LINK}/accept",
        json={"token": token, "professions": professions},
    )
    if response.status_code in (403, 404, 410, 422):
        return Answer(reason=reason_of(response))
    found: dict[str, Any] = expect(response, 200).json()
    return Answer(found=found)


async def decline(clients: ServiceClients, token: str) -> Answer:
    response = await clients.call("invitations", "POST", f"{LINK}/decline", json={"token": token})
    if response.status_code in (404, 410, 422):
        return Answer(reason=reason_of(response))
    found: dict[str, Any] = expect(response, 200).json()
    return Answer(found=found)
