"""Calls to fiches and invitations on behalf of the logged-in user (their access token)."""

from __future__ import annotations

from typing import Any

import httpx

from portal.adapters.services import ServiceClients
from portal.domain.session import LoginRequired, WebSession
from portal.handlers import account


async def as_user(
    clients: ServiceClients,
    session: WebSession,
    service: str,
    method: str,
    path: str,
    **kwargs: Any,
) -> httpx.Response:
    """One call with the user's access token; a refused token means: log in again."""
    token = await account.access_token(clients, session)
    response = await clients.call(service, method, path, access_token=token, **kwargs)
    if response.status_code == 401:
        # The identity session ended (logout elsewhere, expiry): start over at the login.
        session.renew()
        raise LoginRequired()
    return response


def body_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def expect(response: httpx.Response, *statuses: int) -> httpx.Response:
    """The response when its status is one of `statuses`, else the refusal page."""
    if response.status_code not in statuses:
        raise account.refused(response)
    return response
