"""identity running in-process for tests: its API, the development provider, a login."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from contracts.events.identity import USERS_TOPIC
from identity.adapters.kv import RedisStore
from identity.adapters.signing_keys import NoSigningKey
from identity.config import Settings
from identity.devidp.people import DemoPerson
from identity.devidp.provider import development_provider_router
from identity.entrypoints.app import IdentityComponent, build_component
from servicekit.client_address import ProxySettings
from servicekit.http import api_app
from servicekit.settings import KafkaSettings, PlatformSettings
from tests.support.kafka_reading import read_topic
from tests.support.sealed_mail import opened

BASE = "http://127.0.0.1:8000"
ISSUER = BASE + "/dev/idp"
REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class RunningIdentity:
    """identity with an HTTP client (a cookie jar: one browser) on its routes."""

    component: IdentityComponent
    app: FastAPI
    settings: Settings
    kafka: KafkaSettings

    def browser(self, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
        """A new browser (its own cookies; the peer address is 127.0.0.1)."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=BASE, headers=headers
        )

    async def activation_links(self) -> list[str]:
        """Every activation URL published on identity.users.v1 so far."""
        import json

        await self.outbox_drained()
        links: list[str] = []
        for record in await read_topic(self.kafka, USERS_TOPIC):
            body = json.loads(record.value)
            if "sealed_activation_url" not in body:
                continue
            link = opened(body)["activation_url"]  # as notifications opens it to send
            if link not in links:
                links.append(link)
        return links

    async def outbox_drained(self, timeout_s: float = 60) -> None:
        """Until the running relay has published every pending event."""
        import asyncio

        runtime = self.component.runtime
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            async with runtime.sessions() as session:
                pending = await session.scalar(
                    sa.select(sa.func.count()).select_from(runtime.tables.outbox)
                )
            if not pending:
                return
            assert loop.time() < deadline, f"{pending} events still in the outbox"
            await asyncio.sleep(0.05)

    async def dump_tables(self) -> str:
        """Every row of every table of identity's database, as text."""
        out = []
        async with self.component.runtime.engine.connect() as connection:
            names = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
            for name in names:
                rows = (await connection.execute(sa.text(f'SELECT * FROM "{name}"'))).all()
                out.append(f"{name}: {rows!r}")
        return "\n".join(out)


@asynccontextmanager
async def running_identity(
    kafka: KafkaSettings,
    tmp_path: Path,
    *,
    database_url: str | None = None,
    people: Sequence[DemoPerson] | None = None,
    consume: bool = False,
    oidc_transport: httpx.AsyncBaseTransport | None = None,
    trusted_proxies: str = "",
    **overrides: Any,
) -> AsyncIterator[RunningIdentity]:
    """Start identity (and its development provider) in-process.

    `consume=False` leaves out the registry consumer groups (a group join takes seconds on
    the embedded broker): feed the eligibility view through its handlers instead.
    """
    platform = PlatformSettings(data_dir=tmp_path / "identity-data")
    settings = Settings(
        database_url=database_url or f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}",
        public_base_url=BASE,
        oidc_issuer=ISSUER,
        redis_url=REDIS_URL,
        redis_key_prefix=f"test:{uuid.uuid4().hex}:",
        dev_idp_enabled=False,  # mounted below, with the test's people
        **overrides,
    )
    app = api_app()
    component = build_component(
        platform,
        kafka,
        settings,
        oidc_transport=oidc_transport or httpx.ASGITransport(app=app),
        proxies=ProxySettings(trusted_proxies=trusted_proxies),
    )
    if not consume:
        component.runtime.subscriptions.clear()
    app.include_router(
        development_provider_router(
            platform,
            issuer=ISSUER,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret.get_secret_value(),
            redirect_uris=[settings.redirect_uri],
            people=people,
        )
    )
    for router in component.api_routers():
        app.include_router(router)
    await component.runtime.start()
    try:
        await wait_for_signing_key(component)
        yield RunningIdentity(component, app, settings, kafka)
    finally:
        await component.runtime.stop()
        store = component.use_cases.store
        if isinstance(store, RedisStore):
            await store.close()


async def wait_for_signing_key(component: IdentityComponent, timeout_s: float = 60) -> None:
    """Until the first key is announced (published) and usable."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        async with component.runtime.sessions() as session:
            try:
                await component.use_cases.keys.current(session)
                return
            except NoSigningKey:
                if loop.time() > deadline:
                    raise
        await asyncio.sleep(0.05)


_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


async def login(
    browser: httpx.AsyncClient,
    person: str,
    login_as: str = "professional",
    return_to: str | None = None,
) -> httpx.Response:
    """The whole redirect dance: identity → provider page → pick `person` → callback."""
    params = {"as": login_as} | ({"return_to": return_to} if return_to else {})
    start = await browser.get("/api/identity/login", params=params)
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    assert authorize.startswith(ISSUER + "/authorize?")
    page = await browser.get(authorize)
    assert page.status_code == 200, page.text
    form = dict(_HIDDEN.findall(page.text))
    chosen = await browser.post(ISSUER + "/authorize", data={**form, "person": person})
    assert chosen.status_code == 303, chosen.text
    return await browser.get(chosen.headers["location"])


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def activate(identity: RunningIdentity, browser: httpx.AsyncClient, email: str) -> None:
    """A logged-in browser gives its address and follows the activation link."""
    before = set(await identity.activation_links())
    given = await browser.put("/api/identity/me/email", json={"email": email})
    assert given.status_code == 202, given.text
    (link,) = [link for link in await identity.activation_links() if link not in before]
    activated = await browser.post(
        "/api/identity/activate", data={"token": query_of(link)["token"]}
    )
    assert activated.status_code == 200, activated.text


async def access_token(browser: httpx.AsyncClient) -> str:
    """A fresh access token for the browser's session."""
    issued = await browser.post("/api/identity/token")
    assert issued.status_code == 200, issued.text
    return str(issued.json()["access_token"])
