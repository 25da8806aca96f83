"""An error page gives the visitor a code to quote, and the platform team finds the request
by it: the page's correlation id, also in microservices mode (`skaart serve portal`).

In a real browser: the standalone portal served by uvicorn, with the services' URLs at a
port nothing listens on, so a search (the directory's) shows the page for a service that
does not answer. The
page of an unexpected failure is rendered by the same app (it is handled inside the id's
scope, so it has the id too)."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from portal.config import PortalSettings
from portal.entrypoints.app import build_component, standalone_app
from servicekit.embedded_broker import free_loopback_port
from servicekit.settings import PlatformSettings
from tests.portal.pages import check_page


@pytest.fixture
def portal_without_directory() -> Iterator[str]:
    nothing_listens = f"http://127.0.0.1:{free_loopback_port()}"
    settings = PortalSettings(
        redis_url="memory://",
        fiches_url=nothing_listens,
        directory_url=nothing_listens,
        identity_url=nothing_listens,
        invitations_url=nothing_listens,
    )
    app = standalone_app(build_component(PlatformSettings(), None, settings))
    port = free_loopback_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    # Its own thread and loop: Playwright's sync API keeps a loop running in this one.
    serving = threading.Thread(target=asyncio.run, args=(server.serve(),), daemon=True)
    serving.start()
    try:
        for _ in range(600):
            if server.started:
                break
            threading.Event().wait(0.1)
        assert server.started, "the portal did not start within a minute"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        serving.join(timeout=30)


def test_the_service_down_page_shows_the_code_the_logs_know_the_request_by(
    browser: Browser, portal_without_directory: str
) -> None:
    page = browser.new_page()
    try:
        answered = page.goto(portal_without_directory + "/zoeken?beroep=huisarts")
        assert answered is not None and answered.status == 503
        request_id = answered.headers["x-correlation-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", request_id)
        reference = page.locator(".reference")
        assert reference.inner_text() == f"Vermeld deze code als je ons mailt: {request_id}"
        check_page(page, "service-down-with-reference")

        page.goto(portal_without_directory + "/zoeken?beroep=huisarts&lang=fr")
        assert "Indiquez ce code si vous nous écrivez" in page.locator(".reference").inner_text()
    finally:
        page.close()


def test_the_page_of_an_unexpected_failure_shows_its_code_too() -> None:
    def directory_fails(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("a defect, not a service that is down")

    portal = build_component(PlatformSettings(), None, PortalSettings(redis_url="memory://"))
    portal.runtime.clients.bind("directory", httpx.MockTransport(directory_fails))
    browser = TestClient(standalone_app(portal), raise_server_exceptions=False)

    failed = browser.get("/zoeken", params={"beroep": "huisarts"})

    assert failed.status_code == 500 and "Er ging iets mis aan onze kant" in failed.text
    request_id = failed.headers["x-correlation-id"]
    assert f"<code>{request_id}</code>" in failed.text
