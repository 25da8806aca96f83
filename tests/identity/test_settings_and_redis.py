"""Settings are read once, in the composition root, and identity's Redis is one client:
the session store's, which the readiness check pings and which closes when identity
stops."""

from __future__ import annotations

from pathlib import Path

from identity.adapters.kv import MemoryStore, RedisOrMemoryStore, RedisStore
from identity.config import Settings
from identity.entrypoints.app import build_component, open_configured_store
from servicekit.auth import AuthSettings
from servicekit.sealing import OpeningKey
from servicekit.settings import Environment, PlatformSettings

REDIS_URL = "redis://127.0.0.1:6379/0"
NOWHERE = "redis://127.0.0.1:1/0"


def _production_settings() -> Settings:
    return Settings(
        database_url="sqlite+aiosqlite://",
        public_base_url="https://socialekaart.example",
        oidc_issuer="https://idp.iamfas.belgium.be/fas/oauth2",
        oidc_client_secret="s" * 32,
        nrn_hmac_key="k" * 32,
        signing_key_secret="z" * 32,
        email_lookup_key="e" * 32,
        redis_url=REDIS_URL,
        mail_public_key=OpeningKey.generate().sealing_key.text(),
    )


async def test_the_session_stores_client_is_the_one_readiness_pings_and_it_closes_on_stop() -> None:
    production = PlatformSettings(environment=Environment.PRODUCTION)
    # IDENTITY_REDIS_URL wins over the verifiers' AUTH_REDIS_URL (which answers nothing here).
    component = build_component(
        production, settings=_production_settings(), auth=AuthSettings(redis_url=NOWHERE)
    )
    store = component.use_cases.store
    assert isinstance(store, RedisStore)
    assert store.client.connection_pool.connection_kwargs["port"] == 6379

    pinged: list[bool] = []
    original_ping = store.client.ping

    async def ping() -> bool:
        pinged.append(True)
        return bool(await original_ping())

    closed: list[bool] = []
    original_close = store.client.aclose

    async def aclose(close_connection_pool: bool | None = None) -> None:
        closed.append(True)
        await original_close(close_connection_pool)

    store.client.ping = ping  # type: ignore[method-assign,assignment]
    store.client.aclose = aclose  # type: ignore[method-assign]
    assert (await component.runtime.readiness())["redis"] == "ok"
    assert pinged == [True]
    await component.runtime.stop()
    assert closed == [True]


async def test_the_redis_url_comes_from_the_settings_the_composition_root_passes(
    tmp_path: Path,
) -> None:
    development = PlatformSettings(data_dir=tmp_path)
    unset = Settings()
    # Neither URL given: Redis while it answers, else the process (development only).
    fallback = open_configured_store(unset, development, AuthSettings.model_construct())
    assert isinstance(fallback, RedisOrMemoryStore)
    await fallback.close()
    # AUTH_REDIS_URL given (here as the composition root passes it, not from the
    # environment): that Redis, no fallback.
    given = open_configured_store(unset, development, AuthSettings(redis_url=NOWHERE))
    assert isinstance(given, RedisStore)
    assert given.client.connection_pool.connection_kwargs["port"] == 1
    await given.close()
    in_process = open_configured_store(unset, development, AuthSettings(redis_url="memory://"))
    assert isinstance(in_process, MemoryStore)
