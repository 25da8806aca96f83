"""The FastAPI app every service runs in, its health endpoints and the Prometheus
scrape endpoint."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.input_guard import InputGuard
from servicekit.logging import correlation_scope, current_correlation_id
from servicekit.problems import install_problem_handlers

ReadinessCheck = Callable[[], Awaitable[dict[str, str]]]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]

CORRELATION_HEADER = "X-Correlation-Id"


class CorrelationIds:
    """ASGI middleware: each HTTP request is handled in a correlation scope of its own.

    Its log lines and every event it causes (`ce_correlationid`) carry one fresh id, and
    the response names it in `X-Correlation-Id`, so a caller can quote it. An id a caller
    sends is not taken over: the id is the platform's, never text from outside. A call
    made in-process while handling a request (the portal calling a service in monolithic
    mode) keeps the id of the request it serves.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with correlation_scope(current_correlation_id()) as correlation_id:
            header = (CORRELATION_HEADER.lower().encode(), correlation_id.encode())

            async def send_with_id(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", ()), header]
                await send(message)

            await self.app(scope, receive, send_with_id)


def api_app(
    title: str = "Sociale Kaart", *, description: str = "", lifespan: Lifespan | None = None
) -> FastAPI:
    """A FastAPI app with the platform's HTTP conventions, for both running modes (and the
    tests): problem details for every error (servicekit.problems), text no service can
    store refused up front (servicekit.input_guard), a correlation id per request
    (`CorrelationIds`), and API docs at /docs whose Swagger UI and ReDoc files are served
    by the app itself (machines without internet access cannot load them from a CDN)."""
    app = FastAPIOffline(
        title=title,
        description=description,
        lifespan=lifespan,
        static_url="/docs-static",
        # Keep the token given at "Authorize" across reloads of the docs page.
        swagger_ui_parameters={"persistAuthorization": True},
    )
    install_problem_handlers(app)
    app.add_middleware(InputGuard)
    # Outermost: the guard's refusals name their correlation id too.
    app.add_middleware(CorrelationIds)
    return app


def health_router(readiness: ReadinessCheck, *, prefix: str = "") -> APIRouter:
    """`/healthz` (the process answers) and `/readyz` (its broker and database answer)."""
    router = APIRouter(prefix=prefix, tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: broker and database reachable")
    async def readyz() -> JSONResponse:
        checks = await readiness()
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    return router


def metrics_router() -> APIRouter:
    """`/metrics` in the Prometheus text format."""
    router = APIRouter(tags=["operations"])

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
