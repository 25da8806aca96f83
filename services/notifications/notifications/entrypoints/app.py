"""Composition root of notifications."""

from __future__ import annotations

from fastapi import FastAPI

from notifications.adapters.tables import TABLES
from notifications.config import Settings
from servicekit.component import ServiceComponent, standalone_app
from servicekit.runtime import ServiceRuntime
from servicekit.settings import KafkaSettings, PlatformSettings, service_database_url

SERVICE = "notifications"


def build_component(
    platform: PlatformSettings | None = None,
    kafka: KafkaSettings | None = None,
    settings: Settings | None = None,
) -> ServiceComponent:
    """notifications as a component (health and settings; its behaviour comes with its issue)."""
    platform = platform or PlatformSettings()
    settings = settings or Settings()
    runtime = ServiceRuntime(
        name=SERVICE,
        database_url=service_database_url(SERVICE, settings.database_url, platform),
        kafka=kafka or KafkaSettings(),
        tables=TABLES,
        migrations_package="notifications.migrations",
    )
    return ServiceComponent(name=SERVICE, runtime=runtime)


def create_app() -> FastAPI:
    """ASGI factory for microservices mode."""
    return standalone_app(build_component())
