"""A support person given the id on a portal page finds what the services did with it.

In microservices mode a service handles the portal's call under an id of its own (it never
takes over one sent to it); the portal logs that id on a line of its own request's id."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from portal.config import PortalSettings
from portal.entrypoints.app import build_component, standalone_app
from servicekit.http import CORRELATION_HEADER
from servicekit.logging import JsonFormatter
from servicekit.settings import PlatformSettings

DIRECTORY_OWN_ID = "3f1c0e6a9b2d4c8e8f7a6b5c4d3e2f10"


@pytest.fixture
def portal_log() -> Iterator[io.StringIO]:
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())  # formats as it emits: the request's id is current
    logger = logging.getLogger("portal.adapters.services")
    logger.addHandler(handler)
    level, logger.level = logger.level, logging.INFO
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _search_answered_by(directory: httpx.MockTransport) -> TestClient:
    """The portal as `skaart serve portal` serves it, with the directory (the public
    search) answering through `directory`."""
    portal = build_component(PlatformSettings(), None, PortalSettings(redis_url="memory://"))
    portal.runtime.clients.bind("directory", directory)
    return TestClient(standalone_app(portal))


def test_a_service_call_is_logged_with_the_services_id_under_the_pages_id(
    portal_log: io.StringIO,
) -> None:
    def directory(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/directory/search"
        body = {"items": [], "has_more": False, "next_offset": None}
        return httpx.Response(200, json=body, headers={CORRELATION_HEADER: DIRECTORY_OWN_ID})

    page = _search_answered_by(httpx.MockTransport(directory)).get(
        "/zoeken", params={"beroep": "huisarts"}
    )

    assert page.status_code == 200
    lines = [orjson.loads(line) for line in portal_log.getvalue().splitlines()]
    calls = [line for line in lines if line.get("service_correlation_id") == DIRECTORY_OWN_ID]
    assert len(calls) == 1, lines
    assert calls[0]["correlation_id"] == page.headers[CORRELATION_HEADER]
    assert calls[0]["service"] == "directory" and calls[0]["status"] == 200
    assert "/api/" not in portal_log.getvalue(), "paths can carry tokens: never logged"


def test_a_call_under_the_pages_own_id_adds_no_line(portal_log: io.StringIO) -> None:
    def directory_in_process(request: httpx.Request) -> httpx.Response:
        # In monolithic mode the service answers in the portal's own scope: the same id.
        from servicekit.logging import current_correlation_id

        body = {"items": [], "has_more": False, "next_offset": None}
        same = current_correlation_id() or ""
        return httpx.Response(200, json=body, headers={CORRELATION_HEADER: same})

    page = _search_answered_by(httpx.MockTransport(directory_in_process)).get(
        "/zoeken", params={"beroep": "huisarts"}
    )

    assert page.status_code == 200
    assert "service_correlation_id" not in portal_log.getvalue()
