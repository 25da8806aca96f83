"""The portal as a component: its web app, the clients of the services it calls, readiness."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from portal.adapters.services import ServiceClients
from portal.adapters.session_store import SessionStore, open_store
from portal.config import CALLED_SERVICES, PortalSettings
from portal.entrypoints import (
    pages_account,
    pages_exports,
    pages_fiches,
    pages_invitations,
    pages_practice,
    pages_provider_offers,
    pages_public,
    pages_requests,
    pages_team,
)
from portal.entrypoints.errors import install_error_pages
from portal.entrypoints.web import SessionMiddleware, Site
from servicekit.auth import AuthSettings
from servicekit.http import CorrelationIds, health_router, metrics_router
from servicekit.settings import Environment, KafkaSettings, PlatformSettings

SERVICE = "portal"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


@dataclass
class PortalRuntime:
    """What monolithic mode and `skaart serve` start and stop: no database, no broker."""

    store: SessionStore
    clients: ServiceClients
    _checks: dict[str, Any] = field(default_factory=dict)

    async def start(self, migrate: bool = True) -> None:
        return None

    async def stop(self) -> None:
        await self.clients.close()
        await self.store.close()

    async def readiness(self) -> dict[str, str]:
        """The session store and every service the portal calls."""
        checks: dict[str, str] = {}
        try:
            await self.store.ping()
            checks["sessions"] = "ok"
        except Exception as error:
            checks["sessions"] = f"failed: {type(error).__name__}"
        for service in CALLED_SERVICES:
            checks[service] = "ok" if await self.clients.ready(service) else "not ready"
        return checks


@dataclass
class PortalComponent:
    """The portal: a web app mounted at `/`, next to the services' APIs under /api/..."""

    name: str
    runtime: PortalRuntime
    app: FastAPI

    def bind_in_process(self, platform_app: Any) -> None:
        """Monolithic mode: call the services through the platform's own app."""
        self.runtime.clients.bind_in_process(platform_app)


def session_store(settings: PortalSettings, platform: PlatformSettings) -> SessionStore:
    development = platform.environment is Environment.DEVELOPMENT
    if settings.redis_url:
        return open_store(settings.redis_url, settings.redis_key_prefix, development_fallback=False)
    fallback = development and "AUTH_REDIS_URL" not in os.environ
    return open_store(
        AuthSettings().redis_url, settings.redis_key_prefix, development_fallback=fallback
    )


def build_component(
    platform: PlatformSettings | None = None,
    kafka: KafkaSettings | None = None,
    settings: PortalSettings | None = None,
) -> PortalComponent:
    """The portal; `kafka` is accepted like every service's, and unused (no broker)."""
    platform = platform or PlatformSettings()
    settings = settings or PortalSettings()
    problems = settings.problems(platform)
    if problems:
        raise RuntimeError("portal refuses to start: " + "; ".join(problems))
    store = session_store(settings, platform)
    clients = ServiceClients(settings)
    runtime = PortalRuntime(store, clients)
    return PortalComponent(SERVICE, runtime, create_web_app(settings, platform, store, clients))


def create_web_app(
    settings: PortalSettings,
    platform: PlatformSettings,
    store: SessionStore,
    clients: ServiceClients,
) -> FastAPI:
    app = FastAPI(title="Sociale Kaart portal", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.site = Site(help_email=settings.help_email, help_url=settings.help_url)
    app.add_middleware(
        SessionMiddleware, store=store, settings=settings, secure=settings.secure_cookies(platform)
    )
    install_error_pages(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # The pages' routes take the clients from here (`web.Clients`).
    app.state.clients = clients
    # The practice pages first: /praktijken/nieuw before the public /praktijken/{id}.
    for pages in (
        pages_practice,
        pages_public,
        pages_account,
        pages_provider_offers,
        pages_invitations,
        pages_requests,
        pages_team,
        pages_exports,
        pages_fiches,
    ):
        app.include_router(pages.router)
    return app


def standalone_app(component: PortalComponent) -> FastAPI:
    """Microservices mode: the pages at `/`, with the process's health and metrics."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await component.runtime.start()
        try:
            yield
        finally:
            await component.runtime.stop()

    app = FastAPI(title="Sociale Kaart portal", lifespan=lifespan, docs_url=None, redoc_url=None)
    # Each page request gets its id, as every request does in monolithic mode (the
    # monolith's app is built by servicekit.http.api_app): on its log lines, in the
    # X-Correlation-Id header and on an error page, for a visitor to quote.
    app.add_middleware(CorrelationIds)
    app.include_router(health_router(component.runtime.readiness))
    app.include_router(metrics_router())
    app.mount("/", component.app)
    return app


def create_app() -> FastAPI:
    """ASGI factory for microservices mode (`skaart serve portal`)."""
    return standalone_app(build_component())
