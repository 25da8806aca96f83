"""Monolithic mode: six components, one process, one HTTP port, one embedded broker.

The components keep their own databases and consumer groups and talk only over the
broker, exactly as in microservices mode; only the process boundary is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from servicekit.component import ServiceComponent
from servicekit.embedded_broker import EmbeddedBroker, start_embedded_broker
from servicekit.http import metrics_router
from servicekit.messaging.kafka_clients import ensure_topics
from servicekit.settings import Environment, KafkaSettings, PlatformSettings

log = logging.getLogger(__name__)

RUNTIME_FILE = "runtime.json"


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
    # The embedded broker refuses the idempotent producer (InitProducerId).
    settings = kafka.model_copy(
        update={"bootstrap_servers": embedded.bootstrap_servers, "enable_idempotence": False}
    )
    return BrokerChoice(settings, embedded)


def monolith_app(components: Sequence[ServiceComponent], *, on_started: object = None) -> FastAPI:
    """One FastAPI app serving every component's routes under its prefix."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        started: list[ServiceComponent] = []
        try:
            for component in components:
                await component.runtime.start()
                started.append(component)
            if callable(on_started):
                await on_started()
            yield
        finally:
            for component in reversed(started):
                with contextlib.suppress(Exception):
                    await component.runtime.stop()

    app = FastAPI(
        title="Sociale Kaart fiches platform",
        description="Monolithic mode: every service's API under its own prefix.",
        lifespan=lifespan,
    )
    for component in components:
        for router in component.api_routers():
            app.include_router(router)

    @app.get("/healthz", tags=["operations"], summary="Liveness of the process")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="Readiness of every component")
    async def readyz() -> JSONResponse:
        checks = {c.name: await c.runtime.readiness() for c in components}
        ready = all(v == "ok" for c in checks.values() for v in c.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "components": checks},
            status_code=200 if ready else 503,
        )

    app.include_router(metrics_router())
    return app


def write_runtime_file(platform: PlatformSettings, kafka: KafkaSettings) -> Path:
    """Tell other `skaart` commands on this machine where the running platform is."""
    path = platform.data_dir / RUNTIME_FILE
    path.write_text(
        json.dumps(
            {
                "pid": os.getpid(),
                "bootstrap_servers": kafka.bootstrap_servers,
                "http": f"http://{platform.http_host}:{platform.http_port}",
            }
        )
    )
    return path


def read_running_platform(platform: PlatformSettings) -> dict[str, object] | None:
    """The runtime file of a platform that is still running here, if any."""
    path = platform.data_dir / RUNTIME_FILE
    try:
        info = json.loads(path.read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return dict(info)


async def prepare_broker_topics(kafka: KafkaSettings) -> None:
    """Create the contracts' topics (retrying while a fresh broker settles)."""
    for attempt in range(10):
        try:
            await ensure_topics(kafka)
            return
        except Exception:
            if attempt == 9:
                raise
            await asyncio.sleep(0.5)
