"""What a service hands to the process that runs it: its runtime and its HTTP routes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI

from servicekit.http import api_app, health_router, metrics_router
from servicekit.runtime import ServiceRuntime


@dataclass
class ServiceComponent:
    """One service as a component: monolithic mode runs five, microservices mode one."""

    name: str
    runtime: ServiceRuntime
    routers: Sequence[APIRouter] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        """Path prefix of the service's API, the same in both modes."""
        return f"/api/{self.name}"

    def api_routers(self) -> list[APIRouter]:
        """The service's routes plus its own health endpoints under its prefix."""
        return [*self.routers, health_router(self.runtime.readiness, prefix=self.prefix)]


def standalone_app(component: ServiceComponent, *, migrate: bool = True) -> FastAPI:
    """A FastAPI app running one service (microservices mode)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await component.runtime.start(migrate=migrate)
        try:
            yield
        finally:
            await component.runtime.stop()

    app = api_app(f"Sociale Kaart {component.name}", lifespan=lifespan)
    for router in component.api_routers():
        app.include_router(router)
    app.include_router(health_router(component.runtime.readiness))
    app.include_router(metrics_router())
    return app
