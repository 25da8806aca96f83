"""Composition root of invitations: settings in, a runnable component out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from fastapi import FastAPI

from invitations.adapters.rate_limits import InProcessRateLimiter, RateLimiter, RedisRateLimiter
from invitations.adapters.tables import TABLES, signing_keys
from invitations.config import DEVELOPMENT_ADDRESS_SECRET, Settings
from invitations.domain.addresses import AddressProtector
from invitations.entrypoints.http import invitations_router
from invitations.entrypoints.kafka import subscriptions
from invitations.handlers.context import InvitationsContext
from invitations.handlers.expiry import sweep_forever
from servicekit.auth import (
    AccessTokenVerifier,
    AuthSettings,
    bearer_caller,
    redis_client,
    redis_revocation_check,
)
from servicekit.component import ServiceComponent, standalone_app
from servicekit.redis_client import redis_readiness
from servicekit.runtime import ServiceRuntime
from servicekit.sealing import is_development_key
from servicekit.settings import Environment, KafkaSettings, PlatformSettings, service_database_url

SERVICE = "invitations"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _checked_for_environment(settings: Settings, platform: PlatformSettings) -> None:
    """Refuse development stand-ins outside development, at start-up rather than later."""
    if platform.environment is Environment.DEVELOPMENT:
        return
    if settings.address_secret.get_secret_value() == DEVELOPMENT_ADDRESS_SECRET:
        raise RuntimeError(
            "INVITATIONS_ADDRESS_SECRET is not set: outside development a secret of at least "
            "32 characters is required"
        )
    if is_development_key(settings.mail_public_key):
        raise RuntimeError(
            "INVITATIONS_MAIL_PUBLIC_KEY is not set: outside development give notifications' "
            "public mail key (`skaart mail-key new`)"
        )
    if settings.redis_url is None:
        raise RuntimeError(
            "INVITATIONS_REDIS_URL is not set: outside development the rate limits must be "
            "shared by every replica (Redis)"
        )


def _rate_limiter(settings: Settings) -> RateLimiter:
    if settings.redis_url is None:
        return InProcessRateLimiter()
    return RedisRateLimiter.from_url(settings.redis_url, settings.redis_key_prefix)


def build_component(
    platform: PlatformSettings | None = None,
    kafka: KafkaSettings | None = None,
    settings: Settings | None = None,
    auth: AuthSettings | None = None,
    *,
    clock: Callable[[], datetime] = _utc_now,
) -> ServiceComponent:
    """invitations as a component: its HTTP API, the managers view, the expiry sweep."""
    platform = platform or PlatformSettings()
    settings = (settings or Settings()).resolved(platform)
    auth = auth or AuthSettings()
    _checked_for_environment(settings, platform)
    runtime = ServiceRuntime(
        name=SERVICE,
        database_url=service_database_url(SERVICE, settings.database_url, platform),
        kafka=kafka or KafkaSettings(),
        tables=TABLES,
        migrations_package="invitations.migrations",
    )
    for subscription in subscriptions(SERVICE):
        runtime.subscribe(subscription)
    sessions_redis = redis_client(auth.redis_url)
    runtime.close_on_stop("redis", sessions_redis.aclose)
    verifier = AccessTokenVerifier(
        sessions=runtime.sessions,
        table=signing_keys,
        is_revoked=redis_revocation_check(sessions_redis, development=platform.is_development),
        static_jwks=auth.trusted_jwks,
        leeway_s=auth.clock_leeway_s,
        max_lifetime_s=auth.access_token_max_lifetime_s,
    )
    limiter = _rate_limiter(settings)
    if not platform.is_development:
        # Rate limits and logged-out sessions live in Redis (development has stand-ins).
        runtime.add_readiness_check("redis", redis_readiness(sessions_redis))
        if isinstance(limiter, RedisRateLimiter) and settings.redis_url != auth.redis_url:
            runtime.add_readiness_check("redis-rate-limits", redis_readiness(limiter.client))
    context = InvitationsContext(
        sessions=runtime.sessions,
        outbox=runtime.outbox,
        addresses=AddressProtector(settings.address_secret.get_secret_value()),
        limiter=limiter,
        settings=settings,
        clock=clock,
    )
    runtime.run_in_background("expiry-sweep", partial(sweep_forever, context))
    runtime.close_on_stop("rate-limiter", limiter.close)
    return ServiceComponent(
        name=SERVICE,
        runtime=runtime,
        routers=[invitations_router(context, bearer_caller(verifier))],
    )


def create_app() -> FastAPI:
    """ASGI factory for microservices mode."""
    return standalone_app(build_component())
