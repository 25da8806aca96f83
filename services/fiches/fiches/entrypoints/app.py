"""Composition root of fiches."""

from __future__ import annotations

from fastapi import FastAPI

from fiches.adapters.tables import TABLES
from fiches.config import FichesSettings
from fiches.entrypoints.http import public_router
from fiches.handlers.registry_events import RegistryEventHandlers
from servicekit.component import ServiceComponent, standalone_app
from servicekit.runtime import ServiceRuntime
from servicekit.settings import KafkaSettings, PlatformSettings, service_database_url

SERVICE = "fiches"


def build_component(
    platform: PlatformSettings | None = None,
    kafka: KafkaSettings | None = None,
    settings: FichesSettings | None = None,
) -> ServiceComponent:
    """fiches as a component: consumes registry events, serves published fiches."""
    platform = platform or PlatformSettings()
    settings = settings or FichesSettings()
    runtime = ServiceRuntime(
        name=SERVICE,
        database_url=service_database_url(SERVICE, settings.database_url, platform),
        kafka=kafka or KafkaSettings(),
        tables=TABLES,
        migrations_package="fiches.migrations",
    )
    runtime.subscribe(RegistryEventHandlers(runtime.outbox).subscription())
    return ServiceComponent(
        name=SERVICE, runtime=runtime, routers=[public_router(runtime, settings)]
    )


def create_app() -> FastAPI:
    """ASGI factory for microservices mode."""
    return standalone_app(build_component())
