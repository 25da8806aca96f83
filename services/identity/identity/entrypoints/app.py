"""Composition root of identity."""

from __future__ import annotations

import asyncio
import logging
import os

import httpx
from fastapi import FastAPI

from identity.adapters.kv import KeyValueStore, RedisOrMemoryStore, open_store
from identity.adapters.oidc import OidcClient
from identity.adapters.signing_keys import SigningKeys
from identity.adapters.tables import TABLES
from identity.config import Settings
from identity.domain.nrn import NrnHasher
from identity.entrypoints.http import identity_router
from identity.entrypoints.provider_check import ProviderCheck
from identity.handlers.accounts import Accounts
from identity.handlers.registry_events import subscriptions
from servicekit.auth import AuthSettings, redis_readiness
from servicekit.client_address import ProxySettings
from servicekit.component import ServiceComponent, standalone_app
from servicekit.runtime import ServiceRuntime
from servicekit.settings import Environment, KafkaSettings, PlatformSettings, service_database_url

SERVICE = "identity"
log = logging.getLogger(__name__)


class IdentityComponent(ServiceComponent):
    """identity as a component, with its use cases at hand (for commands and tests)."""

    accounts: Accounts


def open_configured_store(settings: Settings, platform: PlatformSettings) -> KeyValueStore:
    """IDENTITY_REDIS_URL, else AUTH_REDIS_URL; in development an unset one falls back to
    the in-process stand-in when Redis does not answer."""
    if settings.redis_url:
        return open_store(settings.redis_url, settings.key_prefix(platform))
    url = AuthSettings().redis_url
    if platform.environment is Environment.DEVELOPMENT and "AUTH_REDIS_URL" not in os.environ:
        return RedisOrMemoryStore(url, settings.key_prefix(platform))
    return open_store(url, settings.key_prefix(platform))


def build_accounts(
    runtime: ServiceRuntime,
    settings: Settings,
    platform: PlatformSettings,
    *,
    store: KeyValueStore | None = None,
    oidc_transport: httpx.AsyncBaseTransport | None = None,
) -> Accounts:
    """identity's use cases over a runtime."""
    return Accounts(
        settings=settings,
        sessions=runtime.sessions,
        outbox=runtime.outbox,
        store=store or open_configured_store(settings, platform),
        oidc=OidcClient(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret.get_secret_value(),
            scopes=settings.oidc_scopes,
            redirect_uri=settings.redirect_uri,
            leeway_s=settings.oidc_clock_leeway_s,
            transport=oidc_transport,
        ),
        keys=SigningKeys(
            runtime.outbox,
            settings.signing_key_secret.get_secret_value(),
            settings.access_token_ttl_s,
        ),
        hasher=NrnHasher(settings.nrn_hmac_key.get_secret_value()),
    )


def build_component(
    platform: PlatformSettings | None = None,
    kafka: KafkaSettings | None = None,
    settings: Settings | None = None,
    *,
    store: KeyValueStore | None = None,
    oidc_transport: httpx.AsyncBaseTransport | None = None,
    proxies: ProxySettings | None = None,
) -> IdentityComponent:
    """identity: logins, first-login activation, sessions and access tokens.

    `oidc_transport` replaces the network towards the OpenID provider (tests, and
    monolithic mode reaching its own development provider in-process).
    """
    platform = platform or PlatformSettings()
    settings = (settings or Settings()).resolved(platform)
    problems = settings.problems(platform)
    if problems:
        raise RuntimeError("identity refuses to start: " + "; ".join(problems))
    runtime = ServiceRuntime(
        name=SERVICE,
        database_url=service_database_url(SERVICE, settings.database_url, platform),
        kafka=kafka or KafkaSettings(),
        tables=TABLES,
        migrations_package="identity.migrations",
    )
    routers = []
    development = platform.environment is Environment.DEVELOPMENT
    if development and settings.dev_idp_enabled:
        from identity.devidp.provider import development_provider_router

        routers.append(
            development_provider_router(
                platform,
                issuer=settings.oidc_issuer,
                client_id=settings.oidc_client_id,
                client_secret=settings.oidc_client_secret.get_secret_value(),
                redirect_uris=[settings.redirect_uri],
            )
        )
    accounts = build_accounts(
        runtime, settings, platform, store=store, oidc_transport=oidc_transport
    )
    for subscription in subscriptions(accounts.rights.after_registry_batch):
        runtime.subscribe(subscription)
    routers.insert(
        0,
        identity_router(
            accounts,
            cookie_secure=settings.cookie_secure(platform),
            client_address=(proxies or ProxySettings()).resolver(),
        ),
    )
    # The component owns its store (given or configured): its connections close on stop.
    runtime.close_on_stop("session-store", accounts.store.close)

    async def keep_a_signing_key() -> None:
        # A first key on a fresh database; afterwards only `skaart identity rotate-key`
        # adds keys. Checked now and then so a wiped key table heals itself.
        try:
            async with runtime.sessions.begin() as session:
                announced = await accounts.keys.announce_again(session)
            if announced:
                runtime.outbox.notify_committed()
                log.info("signing keys announced again", extra={"kids": announced})
        except Exception:
            log.exception("could not announce the signing keys again")
        while True:
            try:
                async with runtime.sessions.begin() as session:
                    created = await accounts.keys.ensure(session)
                if created:
                    runtime.outbox.notify_committed()
                    log.info("signing key created", extra={"kid": created})
            except Exception:
                log.exception("could not check the signing keys")
            await asyncio.sleep(60)

    runtime.run_in_background("signing-keys", keep_a_signing_key)
    provider = ProviderCheck(accounts.oidc)
    runtime.run_in_background("identity-provider-check", provider.check_at_start)
    runtime.add_readiness_check("identity_provider", provider.readiness)

    async def announce_missing_profiles() -> None:
        # Users activated before profiles were announced, or whose announcement a failed
        # transaction lost: announced now and then until none is left.
        while True:
            try:
                while await accounts.profiles.announce_missing(runtime.sessions):
                    pass
            except Exception:
                log.exception("could not announce user profiles")
            await asyncio.sleep(60)

    runtime.run_in_background("user-profiles", announce_missing_profiles)
    redis_url = settings.redis_url or AuthSettings().redis_url
    if not development and redis_url != "memory://":
        # Sessions, revocations and rate limits live in Redis.
        runtime.add_readiness_check("redis", redis_readiness(redis_url))
    component = IdentityComponent(name=SERVICE, runtime=runtime, routers=routers)
    component.accounts = accounts
    return component


def create_app() -> FastAPI:
    """ASGI factory for microservices mode."""
    return standalone_app(build_component())
