"""Composition root of directory: the public read side of the map."""

from __future__ import annotations

from fastapi import FastAPI

from directory.adapters.geocoders import geocoder_named
from directory.adapters.read_engine import read_connections
from directory.adapters.response_cache import ResponseCache
from directory.adapters.tables import TABLES
from directory.config import DirectorySettings
from directory.domain.geo import Geocoder
from directory.entrypoints.cached_route import cached_route_class
from directory.entrypoints.http_fhir import fhir_router
from directory.entrypoints.http_hsds import hsds_router
from directory.entrypoints.http_hsds_taxonomy import hsds_taxonomy_router
from directory.entrypoints.http_search import search_router
from directory.entrypoints.kafka import DEFER_FROM, REBUILD_CHUNK, REBUILD_SECONDS, subscriptions
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
    geocoder = geocoder or geocoder_named(settings.geocoder)
    runtime = ServiceRuntime(
        name=SERVICE,
        database_url=service_database_url(SERVICE, settings.database_url, platform),
        kafka=kafka or KafkaSettings(),
        tables=TABLES,
        migrations_package="directory.migrations",
        # It reads the public topics and publishes nothing (dead letters go straight to
        # the producer): an outbox relay would only poll its empty outbox.
        publishes=False,
    )
    projection = DirectoryProjection(
        geocoder,
        defer_from=DEFER_FROM,
        rebuild_chunk=REBUILD_CHUNK,
        rebuild_seconds=REBUILD_SECONDS,
        index_builders=settings.first_build_index_builders,
    )
    for subscription in subscriptions(projection, runtime.database_url):
        runtime.subscribe(subscription)
    runtime.run_in_background(
        "projection-pending", lambda: projection.flush_when_idle(runtime.sessions)
    )
    reads = read_connections(runtime)
    cache = (
        ResponseCache(
            reads,
            entries=settings.response_cache_entries,
            max_bytes=settings.response_cache_max_mb << 20,
            poll_s=settings.response_cache_poll_s,
            max_stale_s=settings.response_cache_max_stale_s,
        )
        if settings.response_cache_entries
        else None
    )
    route = cached_route_class(cache)
    return ServiceComponent(
        name=SERVICE,
        runtime=runtime,
        routers=[
            search_router(reads, settings, geocoder, prefix=f"/api/{SERVICE}", route_class=route),
            search_router(reads, settings, geocoder, prefix=OLD_SEARCH_PREFIX, route_class=route),
            fhir_router(reads, settings, route, public_base_url=platform.public_base_url),
            hsds_router(reads, settings, geocoder, route, public_base_url=platform.public_base_url),
            hsds_taxonomy_router(settings, route),
        ],
    )


def create_app() -> FastAPI:
    """ASGI factory for microservices mode."""
    return standalone_app(build_component())
