"""Rate limits count people, not whatever address a request claims.

- Without trusted proxies (the default) X-Forwarded-For is not believed, even from
  127.0.0.1: rotating it does not get past the login limit.
- Behind the trusted gateway each client has its own address: 40 people behind one proxy
  all log in, and a client rotating the part it writes itself is still counted as itself.
- Activation mails are limited per session and per address, not per client address.
- In development each platform instance counts under its own Redis key prefix.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import redis.asyncio as redis
import uvicorn

from identity.config import Settings
from identity.entrypoints.app import build_component, open_configured_store
from servicekit.auth import AuthSettings
from servicekit.client_address import uvicorn_config
from servicekit.embedded_broker import free_loopback_port
from servicekit.http import api_app
from servicekit.rate_limits import Allowance
from servicekit.settings import Environment, KafkaSettings, PlatformSettings
from tests.identity.flows import REDIS_URL, login, running_identity
from tests.support.infrastructure import wait_for


async def test_a_rotated_forwarded_for_does_not_bypass_the_login_limit(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    """Served the way `skaart serve` and `skaart up` serve it (a real port, from
    127.0.0.1), with no trusted proxy configured."""
    port = free_loopback_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}",
        public_base_url=base,
        oidc_issuer=base + "/dev/idp",
        redis_url=REDIS_URL,
        redis_key_prefix=f"test:{uuid.uuid4().hex}:",
        login_attempts_per_ip=3,
    )
    component = build_component(PlatformSettings(data_dir=tmp_path), kafka, settings)
    component.runtime.subscriptions.clear()
    app = api_app()
    for router in component.api_routers():
        app.include_router(router)
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port))
    await component.runtime.start()
    serving = asyncio.create_task(server.serve())
    try:
        await wait_for(lambda: _started(server), timeout_s=10)
        answers = []
        async with httpx.AsyncClient(base_url=base) as client:
            for attempt in range(5):
                answer = await client.get(
                    "/api/identity/login?as=citizen",
                    headers={"X-Forwarded-For": f"198.51.100.{attempt}"},
                )
                answers.append(answer.status_code)
        assert answers == [303, 303, 303, 429, 429]
    finally:
        server.should_exit = True
        await serving
        await component.runtime.stop()


async def _started(server: uvicorn.Server) -> bool:
    return bool(server.started)


async def test_behind_the_trusted_gateway_each_client_has_its_own_login_limit(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    async with running_identity(
        kafka, tmp_path, trusted_proxies="127.0.0.1", login_attempts_per_ip=30
    ) as identity:
        # 40 people behind the gateway (the test client's 127.0.0.1) log in: 2 attempts
        # each (start and callback), never more than the limit per person.
        for person in range(40):
            forwarded = {"X-Forwarded-For": f"203.0.113.{person}"}
            async with identity.browser(forwarded) as browser:
                answer = await login(browser, "citizen", login_as="citizen")
                assert answer.status_code == 303, (person, answer.text)

        # One client rotating what it writes itself is still one client: the gateway
        # appends the address it saw, and only that entry is believed.
        statuses = []
        for attempt in range(32):
            forwarded = {"X-Forwarded-For": f"6.6.{attempt}.6, 198.51.100.77"}
            async with identity.browser(forwarded) as browser:
                statuses.append((await browser.get("/api/identity/login?as=citizen")).status_code)
        assert statuses[:30] == [303] * 30
        assert statuses[30:] == [429, 429]


async def test_activation_mails_are_limited_per_session_and_address_not_per_client_address(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    async with (
        running_identity(
            kafka, tmp_path, email_requests_per_session=2, email_requests_per_address=5
        ) as identity,
        # Both people share the client address 127.0.0.1.
        identity.browser() as first,
        identity.browser() as second,
    ):
        assert (await login(first, "citizen", login_as="citizen")).status_code == 303
        assert (await login(second, "professional-3", login_as="citizen")).status_code == 303
        for number in range(2):
            sent = await first.put(
                "/api/identity/me/email", json={"email": f"first-{number}@example.be"}
            )
            assert sent.status_code == 202, sent.text
        limited = await first.put("/api/identity/me/email", json={"email": "x@example.be"})
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) > 0
        assert (await first.post("/api/identity/me/email/resend")).status_code == 429
        # The other person at the same address is not held back by the first.
        other = await second.put("/api/identity/me/email", json={"email": "s@example.be"})
        assert other.status_code == 202, other.text


async def test_each_development_instance_counts_under_its_own_key_prefix(
    tmp_path: Path,
) -> None:
    settings = Settings(redis_url=REDIS_URL)
    one = PlatformSettings(data_dir=tmp_path / "one")
    two = PlatformSettings(data_dir=tmp_path / "two")
    production = PlatformSettings(environment=Environment.PRODUCTION)
    assert settings.key_prefix(one) != settings.key_prefix(two)
    assert settings.key_prefix(one) == settings.key_prefix(PlatformSettings(data_dir=one.data_dir))
    assert settings.key_prefix(one).startswith("skaart:identity:")
    assert settings.key_prefix(production) == "skaart:identity:"
    assert Settings(redis_key_prefix="x:").key_prefix(one) == "x:"

    key = f"login:ip:{uuid.uuid4().hex}"
    twice = Allowance(key, limit=2, window_s=60)
    stores = [open_configured_store(settings, platform, AuthSettings()) for platform in (one, two)]
    try:
        assert await stores[0].consume([twice], 1) is None
        assert await stores[0].consume([twice], 1) is None
        assert await stores[0].consume([twice], 1) is not None
        assert await stores[1].consume([twice], 1) is None
    finally:
        for store in stores:
            await store.close()
        client = redis.Redis.from_url(REDIS_URL)
        for platform in (one, two):
            await client.delete(settings.key_prefix(platform) + key)
        await client.aclose()
