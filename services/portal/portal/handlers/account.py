"""The user's identity session, kept server-side: login hand-over, profile, access tokens.

The browser holds only the portal's cookie. The identity session (identity's
`skaart_session`) and the short-lived access tokens stay in the portal's session store.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from portal.adapters.services import ServiceClients, ServiceUnavailable
from portal.domain.languages import supported
from portal.domain.problems import Problem, read_problem
from portal.domain.session import LoginRequired, WebSession

#: Renew an access token this long before it expires (calls take a moment).
TOKEN_MARGIN_S = 30


class ServiceRefused(Exception):
    """A service refused what the user asked; the page shows why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def refused(response: Any) -> ServiceRefused:
    try:
        body = response.json()
    except ValueError:
        body = None
    return ServiceRefused(read_problem(response.status_code, body))


async def complete_login(clients: ServiceClients, session: WebSession, code: str) -> None:
    """Exchange identity's one-time code for the session and remember who logged in."""
    taken = await clients.call(
        "identity", "POST", "/api/identity/session/handoff", json={"code": code}
    )
    if taken.status_code != 200:
        raise refused(taken)
    chosen_language = session.get("lang") if session.get("lang_chosen") else None
    session.renew()
    session.set("identity", taken.json()["session"])
    me = await refresh_profile(clients, session)
    # The login's preferred language, unless the visitor picked one on this visit.
    session.set("lang", chosen_language or supported(me.get("language")) or "nl")


async def refresh_profile(clients: ServiceClients, session: WebSession) -> dict[str, Any]:
    """identity's view of the user (status, address, roles), kept in the session."""
    response = await identity_call(clients, session, "GET", "/api/identity/me")
    me: dict[str, Any] = response.json()
    session.set(
        "user",
        {
            "name": f"{me.get('given_name', '')} {me.get('surname', '')}".strip(),
            "status": me.get("status"),
            "email": me.get("email"),
            "roles": me.get("roles", []),
            "professional_id": me.get("professional_id"),
            "professions": me.get("professions", []),
            "language": me.get("language"),
        },
    )
    return me


async def identity_call(
    clients: ServiceClients, session: WebSession, method: str, path: str, **kwargs: Any
) -> Any:
    """A call to identity with the user's session; an ended session means: log in again."""
    identity_session = session.get("identity")
    if not identity_session:
        raise LoginRequired()
    response = await clients.call(
        "identity", method, path, identity_session=identity_session, **kwargs
    )
    if response.status_code == 401:
        session.renew()
        raise LoginRequired()
    return response


async def access_token(clients: ServiceClients, session: WebSession) -> str:
    """A valid access token for the user (cached in the session until shortly before expiry)."""
    cached = session.get("token")
    if isinstance(cached, dict) and cached.get("until", 0) > time.time():
        return str(cached["value"])
    response = await identity_call(clients, session, "POST", "/api/identity/token")
    if response.status_code != 200:
        raise refused(response)
    issued = response.json()
    session.set(
        "token",
        {
            "value": issued["access_token"],
            "until": time.time() + int(issued["expires_in"]) - TOKEN_MARGIN_S,
        },
    )
    return str(issued["access_token"])


async def logout(clients: ServiceClients, session: WebSession) -> None:
    """End identity's session (its tokens are refused from now on) and the portal's."""
    identity_session = session.get("identity")
    if identity_session:
        # The portal's session ends anyway; identity's expires on its own.
        with contextlib.suppress(ServiceUnavailable):
            await clients.call(
                "identity", "POST", "/api/identity/logout", identity_session=identity_session
            )
    session.renew()
