"""A service the portal calls is down: a clear page and readiness say so, and the portal
recovers by itself once the service answers again (no restart, no stuck state)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
from fastapi.testclient import TestClient

from portal.config import PortalSettings
from portal.entrypoints.app import PortalComponent, build_component
from servicekit.settings import PlatformSettings


def _readiness(portal: PortalComponent) -> dict[str, str]:
    # In a thread of its own: Playwright's sync API keeps a loop running in this one.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, portal.runtime.readiness()).result()


def test_search_while_the_directory_is_down_then_back() -> None:
    directory_up = False

    def directory(request: httpx.Request) -> httpx.Response:
        if not directory_up:
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path == "/api/directory/readyz":
            return httpx.Response(200, json={"status": "ready"})
        return httpx.Response(200, json={"items": [], "has_more": False, "next_offset": None})

    def others(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": "ready"})

    portal = build_component(PlatformSettings(), None, PortalSettings(redis_url="memory://"))
    portal.runtime.clients.bind("directory", httpx.MockTransport(directory))
    for service in ("identity", "fiches", "invitations"):
        portal.runtime.clients.bind(service, httpx.MockTransport(others))
    browser = TestClient(portal.app)

    down = browser.get("/zoeken", params={"beroep": "huisarts"})
    assert down.status_code == 503
    assert down.headers["content-type"].startswith("text/html")
    assert "even niet beschikbaar" in down.text and "Probeer het over een minuutje" in down.text
    assert "Traceback" not in down.text and "{" not in down.text.split("<body")[1][:200]

    readiness = _readiness(portal)
    assert readiness["directory"] == "not ready" and readiness["identity"] == "ok"

    directory_up = True
    back = browser.get("/zoeken", params={"beroep": "huisarts"})
    assert back.status_code == 200 and "Geen fiches gevonden" in back.text
    assert _readiness(portal)["directory"] == "ok"
