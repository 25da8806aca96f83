"""Composition root of registry-sync: settings in, a runnable component out."""

from __future__ import annotations

from fastapi import FastAPI

from registry_sync.adapters.tables import TABLES
from registry_sync.config import DEVELOPMENT_NRN_HMAC_KEY, RegistrySyncSettings
from registry_sync.domain.pseudonyms import NrnHasher
from registry_sync.entrypoints.http import runs_router
from servicekit.component import ServiceComponent, standalone_app
from servicekit.runtime import ServiceRuntime
from servicekit.settings import Environment, KafkaSettings, PlatformSettings, service_database_url

SERVICE = "registry-sync"


def nrn_hasher(settings: RegistrySyncSettings, platform: PlatformSettings) -> NrnHasher:
    """The keyed hasher; outside development the development key is refused."""
    key = settings.nrn_hmac_key.get_secret_value()
    if platform.environment is not Environment.DEVELOPMENT and key == DEVELOPMENT_NRN_HMAC_KEY:
        raise RuntimeError(
            "REGISTRY_SYNC_NRN_HMAC_KEY is not set: outside development a secret key of "
            "at least 16 characters is required (the same as identity's)"
        )
    return NrnHasher(key)


def build_component(
    platform: PlatformSettings | None = None,
    kafka: KafkaSettings | None = None,
    settings: RegistrySyncSettings | None = None,
) -> ServiceComponent:
    """registry-sync as a component (it only produces: no subscriptions yet)."""
    platform = platform or PlatformSettings()
    settings = settings or RegistrySyncSettings()
    runtime = ServiceRuntime(
        name=SERVICE,
        database_url=service_database_url(SERVICE, settings.database_url, platform),
        kafka=kafka or KafkaSettings(),
        tables=TABLES,
        migrations_package="registry_sync.migrations",
    )
    nrn_hasher(settings, platform)  # fail at start-up, not at the first import
    return ServiceComponent(name=SERVICE, runtime=runtime, routers=[runs_router(runtime)])


def create_app() -> FastAPI:
    """ASGI factory for microservices mode (`skaart serve registry-sync` uses it too)."""
    return standalone_app(build_component())
