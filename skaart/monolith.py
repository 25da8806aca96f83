"""Monolithic mode: six components, one process, one HTTP port, one embedded broker.

The components keep their own databases and consumer groups and talk only over the
broker, exactly as in microservices mode; only the process boundary is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send
from tenacity import AsyncRetrying, stop_after_attempt, wait_fixed

from contracts.events.registry import PROFESSIONALS_TOPIC
from servicekit.component import ServiceComponent
from servicekit.embedded_broker import CONSUMER_TIMING, EmbeddedBroker, start_embedded_broker
from servicekit.http import api_app, metrics_router
from servicekit.messaging.kafka_clients import ensure_topics
from servicekit.problems import Problem
from servicekit.settings import Environment, KafkaSettings, PlatformSettings

log = logging.getLogger(__name__)


@dataclass
class BrokerChoice:
    """The broker the platform uses, and the embedded process if one was started."""

    kafka: KafkaSettings
    embedded: EmbeddedBroker | None


async def choose_broker(platform: PlatformSettings, kafka: KafkaSettings) -> BrokerChoice:
    """KAFKA_BOOTSTRAP_SERVERS when set; otherwise start the embedded broker (development only)."""
    if kafka.bootstrap_servers:
        return BrokerChoice(kafka, None)
    if platform.environment is not Environment.DEVELOPMENT:
        raise RuntimeError(
            "KAFKA_BOOTSTRAP_SERVERS is not set and the embedded broker runs only in "
            "development (SKAART_ENVIRONMENT=development)"
        )
    platform.data_dir.mkdir(parents=True, exist_ok=True)
    embedded = await start_embedded_broker(log_path=platform.data_dir / "broker.log")
    # The embedded broker refuses the idempotent producer (InitProducerId). Its consumer
    # groups form faster with a shorter session, unless the environment set one.
    timing = {k: v for k, v in CONSUMER_TIMING.items() if k not in kafka.model_fields_set}
    settings = kafka.model_copy(
        update={
            "bootstrap_servers": embedded.bootstrap_servers,
            "enable_idempotence": False,
            **timing,
        }
    )
    return BrokerChoice(settings, embedded)


class ComponentsDidNotStart(RuntimeError):
    """One or more components failed to start; the others were stopped again."""

    def __init__(self, failures: Sequence[tuple[str, BaseException]]) -> None:
        self.failures = list(failures)
        super().__init__(
            "the platform did not start: "
            + "; ".join(f"{name}: {type(error).__name__}: {error}" for name, error in failures)
            + " (the log holds each traceback; the other components were stopped again)"
        )


async def start_components(components: Sequence[ServiceComponent]) -> None:
    """Start every component at once; if any fails, stop them all and say which failed.

    Migrations run first, one component after the other: Alembic keeps its running
    context in module globals, so two migrations must not interleave. Starting (producer,
    consumer-group joins, background loops) is what takes seconds, and runs concurrently.
    """
    failures: list[tuple[str, BaseException]] = []
    for component in components:
        try:
            await component.runtime.migrate()
        except Exception as error:
            failures.append((component.name, error))
    if not failures:
        results = await asyncio.gather(
            *(component.runtime.start(migrate=False) for component in components),
            return_exceptions=True,
        )
        failures = [
            (component.name, result)
            for component, result in zip(components, results, strict=True)
            if isinstance(result, BaseException)
        ]
    if failures:
        for name, failure in failures:
            log.error("component did not start", exc_info=failure, extra={"component": name})
        await stop_components(components)
        raise ComponentsDidNotStart(failures)


async def stop_components(components: Sequence[ServiceComponent]) -> None:
    """Stop every component at once (each stop is bounded and logs its own failures)."""
    results = await asyncio.gather(
        *(component.runtime.stop() for component in components), return_exceptions=True
    )
    for component, result in zip(components, results, strict=True):
        if isinstance(result, Exception):
            log.warning(
                "component did not stop cleanly",
                exc_info=result,
                extra={"component": component.name},
            )


def monolith_app(
    components: Sequence[ServiceComponent],
    *,
    on_started: object = None,
    front_end: Any = None,
    mounts: dict[str, Any] | None = None,
) -> FastAPI:
    """One FastAPI app serving every component's routes under its prefix, and the front
    end (the portal, a `PortalComponent`) at `/`, calling the services in-process.

    The components start together and stop together; the broker they use is stopped
    only after them (`skaart.up`), so stopping logs no connection errors. The front end
    starts after the services it calls and stops before them.
    """
    app = api_app(
        "Sociale Kaart fiches platform",
        description="Monolithic mode: every service's API under its own prefix.",
        lifespan=_lifespan(components, front_end, on_started),
    )
    routers = [router for component in components for router in component.api_routers()]
    for router in routers:
        app.include_router(router)
    _add_health_routes(app, components, front_end)
    app.include_router(metrics_router())
    for path, mounted in (mounts or {}).items():
        app.mount(path, mounted)
    if front_end is not None:
        # Last, so that every API, /docs and the health endpoints are matched first.
        api_routes = [*app.routes, *(route for router in routers for route in router.routes)]
        app.mount("/", ApiPathsKeptFromThePortal(front_end.app, api_routes))
        front_end.bind_in_process(app)
    return app


def api_sections(routes: Iterable[BaseRoute]) -> frozenset[str]:
    """The first path segments the APIs have endpoints below (`api`, `fhir`, `hsds`, ...)."""
    sections = set()
    for route in routes:
        parts = str(getattr(route, "path", "")).strip("/").split("/")
        if len(parts) > 1 and parts[0]:
            sections.add(parts[0])
    return frozenset(sections)


class ApiPathsKeptFromThePortal:
    """The front end at `/`, except below the APIs' sections: there a request no API
    route took is answered as the APIs answer (a 404 or 405 problem, JSON), not with the
    portal's Dutch HTML page, as in microservices mode where the gateway sends those
    paths to the services. An agency's misspelt `/hsds/servics` gets JSON it can read.

    `routes` are the APIs' routes (the included routers' own: FastAPI keeps them apart
    from the app's), asked only on this error path which methods the path takes."""

    def __init__(self, front_end: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.front_end = front_end
        self.routes = routes
        self.sections = api_sections(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.lstrip("/").split("/", 1)[0] not in self.sections:
            await self.front_end(scope, receive, send)
            return
        method = str(scope.get("method", "GET"))
        allowed = sorted(
            {
                allowed_method
                for route in self.routes
                if route.matches(scope)[0] is Match.PARTIAL
                for allowed_method in getattr(route, "methods", None) or ()
            }
        )
        if allowed:
            problem = Problem(
                405,
                "method_not_allowed",
                f"{path} does not take {method}; it takes {', '.join(allowed)}.",
                headers={"Allow": ", ".join(allowed)},
            )
        else:
            problem = Problem(
                404,
                "not_found",
                f"There is no {method} endpoint at {path}.",
                what_to_do="Check the address; the API's endpoints are listed at /docs.",
            )
        await problem.response()(scope, receive, send)


def _lifespan(
    components: Sequence[ServiceComponent], front_end: Any, on_started: object
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start the components, then the front end, then `on_started`; stop in reverse."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await start_components(components)
        try:
            if front_end is not None:
                await front_end.runtime.start()
            if callable(on_started):
                await on_started()
            yield
        finally:
            if front_end is not None:
                with contextlib.suppress(Exception):
                    await front_end.runtime.stop()
            await stop_components(components)

    return lifespan


def _add_health_routes(
    app: FastAPI, components: Sequence[ServiceComponent], front_end: Any
) -> None:
    """`/healthz` (the process answers) and `/readyz` (every component, by name)."""

    @app.get("/healthz", tags=["operations"], summary="Liveness of the process")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="Readiness of every component")
    async def readyz() -> JSONResponse:
        checks = {c.name: await c.runtime.readiness() for c in components}
        if front_end is not None:
            checks[front_end.name] = await front_end.runtime.readiness()
        ready = all(v == "ok" for c in checks.values() for v in c.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "components": checks},
            status_code=200 if ready else 503,
        )


async def prepare_broker_topics(kafka: KafkaSettings) -> list[str]:
    """Create the contracts' topics (retrying while a fresh broker settles); returns the
    names of the topics that had to be created."""
    retrying = AsyncRetrying(stop=stop_after_attempt(10), wait=wait_fixed(0.5), reraise=True)
    return await retrying(ensure_topics, kafka)


def broker_lost_its_topics(created: list[str]) -> bool:
    """Whether the broker had to be given the registry's topics: a fresh broker.

    The embedded broker keeps nothing across a restart, and a rebuilt Kafka cluster starts
    empty; either way, events published before and not yet consumed are gone. A first
    start of the platform looks the same, and re-announcing an empty store costs nothing.
    """
    return PROFESSIONALS_TOPIC in created
