"""Composition root of directory: the public read side of the map."""

from __future__ import annotations

from fastapi import FastAPI

from directory.adapters.reference_geocoder import ReferenceGeocoder
from directory.adapters.tables import TABLES
from directory.config import DirectorySettings
from directory.domain.geo import Geocoder
from directory.entrypoints.http_fhir import fhir_router
from directory.entrypoints.http_hsds import hsds_router
from directory.entrypoints.http_search import search_router
from directory.entrypoints.kafka import projection_subscription
from directory.handlers.projection import DirectoryProjection
from servicekit.component import ServiceComponent, standalone_app
from servicekit.runtime import ServiceRuntime
from servicekit.settings import KafkaSettings, PlatformSettings, service_database_url

SERVICE = "directory"

OLD_SEARCH_PREFIX = "/api/fiches"
"""Where the search lived inside fiches; still served, so existing clients keep working."""


def build_component(
    platform: PlatformSettings | None = None,
    kafka: KafkaSettings | None = None,
    settings: DirectorySettings | None = None,
    geocoder: Geocoder | None = None,
) -> ServiceComponent:
    """directory as a component: consumes the three public topics, serves the search,
    FHIR and HSDS."""
    platform = platform or PlatformSettings()
    settings = settings or DirectorySettings()
    geocoder = geocoder or ReferenceGeocoder()
    runtime = ServiceRuntime(
        name=SERVICE,
        database_url=service_database_url(SERVICE, settings.database_url, platform),
        kafka=kafka or KafkaSettings(),
        tables=TABLES,
        migrations_package="directory.migrations",
    )
    runtime.subscribe(projection_subscription(DirectoryProjection(geocoder)))
    return ServiceComponent(
        name=SERVICE,
        runtime=runtime,
        routers=[
            search_router(runtime, settings, geocoder, prefix=f"/api/{SERVICE}"),
            search_router(runtime, settings, geocoder, prefix=OLD_SEARCH_PREFIX),
            fhir_router(runtime, settings),
            hsds_router(runtime, settings),
        ],
    )


def create_app() -> FastAPI:
    """ASGI factory for microservices mode."""
    return standalone_app(build_component())
