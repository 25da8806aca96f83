"""The portal's pages against stand-in services: a logged-in browser session and canned
answers of fiches and invitations, recording every call the portal makes.

For the pages' own logic (which call a form makes, how a refusal is shown); the browser
stories run the real platform.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
from fastapi.testclient import TestClient

from portal.adapters.services import ServiceClients
from portal.config import PortalSettings
from portal.entrypoints.app import create_web_app
from portal.entrypoints.web import COOKIE
from servicekit.settings import PlatformSettings

CSRF = "test-csrf-token"
Answer = Callable[[dict[str, Any]], tuple[int, Any]]


@dataclass
class Call:
    service: str
    method: str
    path: str
    params: dict[str, Any]
    json: Any
    access_token: str | None


@dataclass
class FakeServices:
    """Answers by (method, path pattern); unknown calls answer 404. Records every call."""

    routes: list[tuple[str, re.Pattern[str], Answer]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    def on(self, method: str, pattern: str, status: int = 200, body: Any = None) -> None:
        self.answer(method, pattern, lambda _call: (status, body))

    def answer(self, method: str, pattern: str, answer: Answer) -> None:
        # Later routes win: a test overrides the defaults.
        self.routes.insert(0, (method, re.compile(pattern + "$"), answer))

    def made(self, method: str, pattern: str) -> list[Call]:
        matcher = re.compile(pattern + "$")
        return [c for c in self.calls if c.method == method and matcher.match(c.path)]

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
        call = Call(
            service,
            method,
            path,
            dict(kwargs.get("params") or {}),
            kwargs.get("json"),
            access_token,
        )
        self.calls.append(call)
        request = httpx.Request(method, f"http://{service}{path}")
        for route_method, pattern, answer in self.routes:
            if route_method == method and pattern.match(path):
                status, body = answer(vars(call))
                return httpx.Response(status, json=body, request=request)
        return httpx.Response(404, json={"detail": "not found"}, request=request)

    def bind_in_process(self, app: Any) -> None:
        return None

    async def ready(self, service: str) -> bool:
        return True

    async def close(self) -> None:
        return None


def professional(**extra: Any) -> dict[str, Any]:
    """The session's user: a nurse (Nele) with an active profile."""
    return {
        "name": "Nele Van Schelvergem",
        "status": "active",
        "email": "nele@example.be",
        "roles": ["professional"],
        "professional_id": "prof-nele",
        "professions": ["nurse"],
        "language": "nl",
        **extra,
    }


class Sessions:
    """The session store, in a dict that a test fills before the first page."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}

    async def load(self, session_id: str) -> dict[str, Any] | None:
        found = self.data.get(session_id)
        return copy.deepcopy(found) if found is not None else None

    async def save(self, session_id: str, data: dict[str, Any], ttl_s: int) -> None:
        self.data[session_id] = copy.deepcopy(data)

    async def delete(self, session_id: str) -> None:
        self.data.pop(session_id, None)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


@contextmanager
def portal_pages(
    services: FakeServices, user: dict[str, Any] | None = None, language: str = "nl"
) -> Iterator[TestClient]:
    """A browser on the portal; logged in as `user` (with an access token) when given.

    Synchronous (TestClient), like the browser tests in this folder: Playwright's sync API
    keeps an event loop running for the session, where an async test could not run.
    """
    store = Sessions()
    app = create_web_app(
        PortalSettings(), PlatformSettings(), store, cast(ServiceClients, services)
    )
    cookies = {}
    if user is not None:
        store.data["test-session"] = {
            "lang": language,
            "csrf": CSRF,
            "identity": "identity-session",
            "user": user,
            "token": {"value": "access-token", "until": time.time() + 3600},
        }
        cookies[COOKIE] = "test-session"
    with TestClient(
        app, base_url="http://portal.test", cookies=cookies, follow_redirects=False
    ) as browser:
        yield browser
