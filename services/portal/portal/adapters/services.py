"""HTTP calls to the services the portal uses: identity, fiches and invitations.

Monolithic mode calls them in-process (httpx over the monolith's own ASGI app: the same
requests, no port); microservices mode calls each by its configured base URL. Either way
the portal sends the user's identity session as identity's cookie and an access token as
a Bearer header, server-side only.

A service handles a call from across the network under a correlation id of its own (it
never takes over one sent to it: servicekit/http.py). The portal logs that id beside its
own request's, so the id a person quotes from a portal page leads to the service's log
lines and to the events the call caused (docs/operations.md, "Logs"). In-process calls keep
the portal's id, and log nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from portal.config import CALLED_SERVICES, PortalSettings
from servicekit.http import CORRELATION_HEADER
from servicekit.logging import current_correlation_id

log = logging.getLogger(__name__)

IDENTITY_COOKIE = "skaart_session"
IN_PROCESS_BASE = "http://monolith"


class ServiceUnavailable(Exception):
    """A service did not answer, or answered that it cannot serve now."""

    def __init__(self, service: str) -> None:
        super().__init__(f"{service} is not available")
        self.service = service


class ServiceClients:
    """One httpx client per called service."""

    def __init__(self, settings: PortalSettings) -> None:
        self._settings = settings
        self._clients: dict[str, httpx.AsyncClient] = {}
        for service in CALLED_SERVICES:
            url = settings.service_url(service)
            if url:
                self._clients[service] = self._client(url, None)

    def _client(
        self, base_url: str, transport: httpx.AsyncBaseTransport | None
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=base_url, transport=transport, timeout=self._settings.service_timeout_s
        )

    def bind_in_process(self, app: Any) -> None:
        """Monolithic mode: the services without a URL are called through `app`."""
        transport = httpx.ASGITransport(app=app)
        for service in CALLED_SERVICES:
            if service not in self._clients:
                self.bind(service, transport)

    def bind(self, service: str, transport: httpx.AsyncBaseTransport) -> None:
        """Call `service` through `transport` (in-process app, or a test's stand-in)."""
        self._clients[service] = self._client(IN_PROCESS_BASE, transport)

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        identity_session: str | None = None,
        access_token: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request; ServiceUnavailable when the service is down or overloaded."""
        client = self._clients.get(service)
        if client is None:
            raise ServiceUnavailable(service)
        headers = dict(kwargs.pop("headers", None) or {})
        if identity_session:
            headers["Cookie"] = f"{IDENTITY_COOKIE}={identity_session}"
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        try:
            response = await client.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise ServiceUnavailable(service) from error
        _log_the_services_correlation_id(service, method, response)
        if response.status_code in (502, 503, 504):
            raise ServiceUnavailable(service)
        return response

    async def ready(self, service: str) -> bool:
        """Whether the service says it is ready."""
        try:
            response = await self.call(service, "GET", f"/api/{service}/readyz")
        except ServiceUnavailable:
            return False
        return response.status_code == 200

    async def close(self) -> None:
        for client in {id(c): c for c in self._clients.values()}.values():
            await client.aclose()


def _log_the_services_correlation_id(service: str, method: str, response: httpx.Response) -> None:
    """One line naming the id `service` handled the call under, when it is not ours.

    The path is left out: some carry an invitation's or activation's token."""
    theirs = response.headers.get(CORRELATION_HEADER)
    if theirs is None or theirs == current_correlation_id():
        return
    log.info(
        "called %s",
        service,
        extra={
            "service": service,
            "method": method,
            "status": response.status_code,
            "service_correlation_id": theirs,
        },
    )
