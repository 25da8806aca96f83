"""Composition root of fiches."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from fiches.adapters.tables import TABLES, trusted_signing_keys
from fiches.config import ExportSettings, FichesSettings
from fiches.entrypoints.http import public_router
from fiches.entrypoints.http_exports import exports_router
from fiches.entrypoints.http_practices import my_practices_router, practices_router
from fiches.entrypoints.http_provider import provider_router
from fiches.entrypoints.http_requests import requests_router
from fiches.entrypoints.http_support import logged_in
from fiches.entrypoints.http_team import team_router
from fiches.entrypoints.kafka import SERVICE, subscriptions
from fiches.handlers.exports import ExportWorker
from fiches.handlers.managers import ManagerCommands
from fiches.handlers.practices import PracticeCommands
from fiches.handlers.providers import ProviderCommands
from fiches.handlers.requests import RequestCommands
from fiches.handlers.unit_of_work import UnitOfWork
from servicekit.auth import (
    AccessTokenVerifier,
    AuthSettings,
    redis_client,
    redis_revocation_check,
)
from servicekit.component import ServiceComponent, standalone_app
from servicekit.redis_client import redis_readiness
from servicekit.runtime import ServiceRuntime
from servicekit.settings import KafkaSettings, PlatformSettings, service_database_url


@dataclass
class FichesComponent(ServiceComponent):
    """fiches with its export worker (tests and benchmarks reach it here)."""

    exports: ExportWorker | None = None


def build_component(
    platform: PlatformSettings | None = None,
    kafka: KafkaSettings | None = None,
    settings: FichesSettings | None = None,
    auth: AuthSettings | None = None,
    export_settings: ExportSettings | None = None,
) -> FichesComponent:
    """fiches as a component: consumes registry, identity-key and invitation events,
    serves published fiches and the authenticated write API."""
    platform = platform or PlatformSettings()
    settings = settings or FichesSettings()
    auth = auth or AuthSettings()
    if not platform.is_development and settings.production_problems():
        raise RuntimeError("fiches refuses to start: " + "; ".join(settings.production_problems()))
    runtime = ServiceRuntime(
        name=SERVICE,
        database_url=service_database_url(SERVICE, settings.database_url, platform),
        kafka=kafka or KafkaSettings(),
        tables=TABLES,
        migrations_package="fiches.migrations",
    )
    for subscription in subscriptions(runtime.outbox, runtime.database_url):
        runtime.subscribe(subscription)
    exports = ExportWorker(
        runtime, (export_settings or ExportSettings()).resolved(platform), platform
    )
    runtime.run_in_background("exports", exports.run)
    caller = logged_in(_access_token_verifier(runtime, settings, auth, platform))
    uow = UnitOfWork(runtime.sessions, runtime.outbox)
    practices = PracticeCommands(uow)
    providers = ProviderCommands(uow, practices)
    requests = RequestCommands(uow)
    return FichesComponent(
        name=SERVICE,
        runtime=runtime,
        exports=exports,
        routers=[
            public_router(runtime, settings),
            provider_router(providers, caller),
            practices_router(
                practices,
                caller,
                ManagerCommands(uow, settings.email_lookup_key.get_secret_value()),
            ),
            my_practices_router(practices, caller),
            requests_router(requests, caller),
            team_router(requests, caller, settings),
            exports_router(exports, caller),
        ],
    )


def _access_token_verifier(
    runtime: ServiceRuntime,
    settings: FichesSettings,
    auth: AuthSettings,
    platform: PlatformSettings,
) -> AccessTokenVerifier:
    """Checks access tokens with the keys identity announced (and logged-out sessions in
    Redis, unless switched off)."""
    sessions_redis = redis_client(auth.redis_url) if settings.check_revoked_sessions else None
    verifier = AccessTokenVerifier(
        sessions=runtime.sessions,
        table=trusted_signing_keys,
        is_revoked=(
            redis_revocation_check(sessions_redis, development=platform.is_development)
            if sessions_redis is not None
            else None
        ),
        static_jwks=auth.trusted_jwks,
        leeway_s=auth.clock_leeway_s,
        max_lifetime_s=auth.access_token_max_lifetime_s,
    )
    if sessions_redis is not None:
        runtime.close_on_stop("redis", sessions_redis.aclose)
        if not platform.is_development:
            # Logged-out sessions live in Redis: without it no logged-in call can be checked.
            runtime.add_readiness_check("redis", redis_readiness(sessions_redis))
    return verifier


def create_app() -> FastAPI:
    """ASGI factory for microservices mode."""
    return standalone_app(build_component())
