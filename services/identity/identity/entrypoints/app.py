"""Composition root of identity: settings read once, the use cases wired, the routes,
the subscriptions and the background loops handed to the runtime."""

from __future__ import annotations

import asyncio
import logging
from functools import partial

import httpx
from fastapi import FastAPI

from identity.adapters.kv import KeyValueStore, MemoryStore, RedisOrMemoryStore, RedisStore
from identity.adapters.oidc import OidcClient
from identity.adapters.signing_keys import SigningKeys
from identity.adapters.tables import TABLES
from identity.config import Settings
from identity.domain.nrn import NrnHasher
from identity.entrypoints.http import Cookies, identity_router
from identity.entrypoints.kafka import subscriptions
from identity.entrypoints.provider_check import ProviderCheck
from identity.handlers.activation import Activation
from identity.handlers.login import Login
from identity.handlers.profiles import Profiles
from identity.handlers.rate_limits import RateLimits
from identity.handlers.roles import TeamRole
from identity.handlers.session_rights import SessionRights
from identity.handlers.sessions import Sessions
from identity.handlers.tokens import AccessTokens
from identity.handlers.use_cases import IdentityUseCases
from servicekit.auth import AuthSettings
from servicekit.client_address import ProxySettings
from servicekit.component import ServiceComponent, standalone_app
from servicekit.redis_client import redis_client, redis_readiness
from servicekit.runtime import ServiceRuntime
from servicekit.settings import Environment, KafkaSettings, PlatformSettings, service_database_url

SERVICE = "identity"
log = logging.getLogger(__name__)


class IdentityComponent(ServiceComponent):
    """identity as a component, with its use cases at hand (for commands and tests)."""

    use_cases: IdentityUseCases


def open_configured_store(
    settings: Settings, platform: PlatformSettings, auth: AuthSettings
) -> KeyValueStore:
    """IDENTITY_REDIS_URL, else AUTH_REDIS_URL; in development, when neither is set, the
    in-process stand-in takes over if Redis does not answer. The store closes its client."""
    url = settings.redis_url or auth.redis_url
    if url == "memory://":
        return MemoryStore()
    prefix = settings.key_prefix(platform)
    client = redis_client(url)
    given = settings.redis_url is not None or "redis_url" in auth.model_fields_set
    if platform.environment is Environment.DEVELOPMENT and not given:
        return RedisOrMemoryStore(client, prefix)
    return RedisStore(client, prefix)


def oidc_client(settings: Settings, transport: httpx.AsyncBaseTransport | None) -> OidcClient:
    """The relying party towards the configured OpenID provider."""
    return OidcClient(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value(),
        scopes=settings.oidc_scopes,
        redirect_uri=settings.redirect_uri,
        leeway_s=settings.oidc_clock_leeway_s,
        transport=transport,
    )


def build_use_cases(
    runtime: ServiceRuntime,
    settings: Settings,
    store: KeyValueStore,
    oidc: OidcClient,
) -> IdentityUseCases:
    """identity's use cases over a runtime, a session store and an OpenID provider."""
    db, outbox = runtime.sessions, runtime.outbox
    keys = SigningKeys(
        outbox, settings.signing_key_secret.get_secret_value(), settings.access_token_ttl_s
    )
    profiles = Profiles(outbox, settings.email_lookup_key.get_secret_value())
    rights = SessionRights(store, settings.access_token_ttl_s)
    limits = RateLimits(store, settings)
    sessions = Sessions(db, store, rights, settings)
    hasher = NrnHasher(settings.nrn_hmac_key.get_secret_value())
    return IdentityUseCases(
        login=Login(db, oidc, hasher, sessions, profiles, settings.login_request_ttl_s),
        activation=Activation(db, outbox, sessions, limits, profiles, settings),
        sessions=sessions,
        tokens=AccessTokens(db, sessions, keys, settings.access_token_ttl_s),
        team=TeamRole(db),
        limits=limits,
        profiles=profiles,
        rights=rights,
        keys=keys,
        store=store,
        oidc=oidc,
    )


def build_component(
    platform: PlatformSettings | None = None,
    kafka: KafkaSettings | None = None,
    settings: Settings | None = None,
    *,
    auth: AuthSettings | None = None,
    store: KeyValueStore | None = None,
    oidc_transport: httpx.AsyncBaseTransport | None = None,
    proxies: ProxySettings | None = None,
) -> IdentityComponent:
    """identity: logins, first-login activation, sessions and access tokens.

    `store` replaces the configured session store; `oidc_transport` replaces the network
    towards the OpenID provider (tests, and monolithic mode reaching its own development
    provider in-process).
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
    store = store or open_configured_store(settings, platform, auth or AuthSettings())
    # The component owns its store (given or configured): its connections close on stop.
    runtime.close_on_stop("session-store", store.close)
    use_cases = build_use_cases(runtime, settings, store, oidc_client(settings, oidc_transport))
    for subscription in subscriptions(use_cases.rights, runtime.database_url):
        runtime.subscribe(subscription)
    _run_background_work(runtime, use_cases)
    development = platform.environment is Environment.DEVELOPMENT
    if not development and isinstance(store, RedisStore):
        # Sessions, revocations and rate limits live in Redis.
        runtime.add_readiness_check("redis", redis_readiness(store.client))
    cookies = Cookies(
        secure=settings.cookie_secure(platform),
        session_max_age_s=int(settings.session_ttl_hours * 3600),
        login_max_age_s=settings.login_request_ttl_s,
    )
    routers = [identity_router(use_cases, cookies, (proxies or ProxySettings()).resolver())]
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
    component = IdentityComponent(name=SERVICE, runtime=runtime, routers=routers)
    component.use_cases = use_cases
    return component


def _run_background_work(runtime: ServiceRuntime, use_cases: IdentityUseCases) -> None:
    """The signing keys kept, the provider watched, missing profiles announced."""
    runtime.run_in_background("signing-keys", partial(keep_a_signing_key, runtime, use_cases))
    provider = ProviderCheck(use_cases.oidc)
    runtime.run_in_background("identity-provider-check", provider.check_at_start)
    runtime.add_readiness_check("identity_provider", provider.readiness)
    runtime.run_in_background(
        "user-profiles", partial(announce_missing_profiles, runtime, use_cases)
    )


async def keep_a_signing_key(runtime: ServiceRuntime, use_cases: IdentityUseCases) -> None:
    """A first key on a fresh database; afterwards only `skaart identity rotate-key` adds
    keys. Checked now and then so a wiped key table heals itself."""
    keys = use_cases.keys
    try:
        async with runtime.sessions.begin() as session:
            announced = await keys.announce_again(session)
        if announced:
            runtime.outbox.notify_committed()
            log.info("signing keys announced again", extra={"kids": announced})
    except Exception:
        log.exception("could not announce the signing keys again")
    while True:
        try:
            async with runtime.sessions.begin() as session:
                created = await keys.ensure(session)
            if created:
                runtime.outbox.notify_committed()
                log.info("signing key created", extra={"kid": created})
        except Exception:
            log.exception("could not check the signing keys")
        await asyncio.sleep(60)


async def announce_missing_profiles(runtime: ServiceRuntime, use_cases: IdentityUseCases) -> None:
    """Users activated before profiles were announced, or whose announcement a failed
    transaction lost: announced now and then until none is left."""
    while True:
        try:
            while await use_cases.profiles.announce_missing(runtime.sessions):
                pass
        except Exception:
            log.exception("could not announce user profiles")
        await asyncio.sleep(60)


def create_app() -> FastAPI:
    """ASGI factory for microservices mode."""
    return standalone_app(build_component())
