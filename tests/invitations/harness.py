"""invitations under test: its component on a fresh database, an HTTP client, a clock.

The component runs without a broker here (its outbox rows are read back from its
database); tests/invitations/test_broker_path.py runs it on a real broker.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import orjson
import redis.asyncio as redis
import sqlalchemy as sa

from contracts.events.fiches import PracticeManagersChanged
from contracts.events.identity import Role
from invitations.adapters.rate_limits import InProcessRateLimiter
from invitations.adapters.tables import outbox
from invitations.config import Settings
from invitations.domain.addresses import AddressProtector
from invitations.entrypoints.app import build_component
from invitations.handlers.context import InvitationsContext
from invitations.handlers.managers_view import practice_managers_changed
from servicekit.auth import AuthSettings
from servicekit.component import ServiceComponent
from servicekit.http import api_app
from servicekit.settings import KafkaSettings, PlatformSettings
from tests.support.auth import TokenSigner
from tests.support.sealed_mail import opened_all

REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class MovableClock:
    """The service's clock, moved by the test."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def invitation_settings(database_url: str, redis_prefix: str, **overrides: Any) -> Settings:
    """Settings of a test instance: its own database and Redis key prefix."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "public_base_url": "https://sociale-kaart.example",
        "redis_url": REDIS_URL,
        "redis_key_prefix": redis_prefix,
        "address_secret": "test-secret-" + uuid.uuid4().hex,
        "expiry_sweep_interval_s": 0.2,
    }
    values.update(overrides)
    return Settings(**values)


async def delete_prefixed_keys(prefix: str) -> None:
    """Remove the keys one test instance wrote (never anybody else's)."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        async for key in client.scan_iter(match=prefix + "*"):
            await client.delete(key)
    finally:
        await client.aclose()


@dataclass
class InvitationsUnderTest:
    """The component, an HTTP client on its routes, its clock and a token signer."""

    component: ServiceComponent
    http: httpx.AsyncClient
    clock: MovableClock
    signer: TokenSigner
    settings: Settings

    @property
    def sessions(self) -> Any:
        return self.component.runtime.sessions

    def context(self) -> InvitationsContext:
        """A handlers' context on the same database, outbox, settings and clock."""
        return InvitationsContext(
            sessions=self.sessions,
            outbox=self.component.runtime.outbox,
            addresses=AddressProtector(self.settings.address_secret.get_secret_value()),
            limiter=InProcessRateLimiter(),
            settings=self.settings,
            clock=self.clock,
        )

    async def practice(
        self,
        practice_id: str,
        managers: Sequence[str],
        *,
        name: str = "Het Warmste Team",
        linked: Sequence[str] = (),
        occurred_at: datetime | None = None,
    ) -> None:
        """Tell invitations who manages the practice, as fiches would."""
        event = PracticeManagersChanged(
            practice_id=practice_id,
            practice_name=name,
            manager_user_ids=tuple(managers),
            linked_professional_ids=tuple(linked),
            occurred_at=occurred_at or self.clock(),
        )
        async with self.sessions() as session, session.begin():
            await practice_managers_changed(session, event)

    def manager(self, user_id: str) -> dict[str, str]:
        return self.signer.headers(user_id, roles=(Role.CITIZEN,))

    def professional(
        self, professional_id: str, professions: Sequence[str], user_id: str | None = None
    ) -> dict[str, str]:
        return self.signer.headers(
            user_id or f"user-{professional_id}",
            roles=(Role.PROFESSIONAL,),
            professional_id=professional_id,
            professions=list(professions),
        )

    async def invite(
        self,
        practice_id: str,
        manager_id: str,
        emails: Sequence[str],
        profession: str | None = None,
    ) -> httpx.Response:
        body: dict[str, Any] = {"emails": list(emails)}
        if profession:
            body["profession"] = profession
        return await self.http.post(
            f"/api/invitations/practices/{practice_id}/invitations",
            json=body,
            headers=self.manager(manager_id),
        )

    async def outbox_events(self, event_name: str | None = None) -> list[dict[str, Any]]:
        """Queued events (topic, type and payload), oldest first."""
        async with self.sessions() as session:
            rows = (await session.execute(sa.select(outbox).order_by(outbox.c.id))).all()
        events = []
        for row in rows:
            headers = dict(row.headers)
            kind = str(headers["ce_type"]).rsplit(".", 1)[-1]
            if event_name is None or kind == event_name:
                events.append({"topic": row.topic, "type": kind, **orjson.loads(row.payload)})
        return events

    async def mail_requests(self) -> list[dict[str, Any]]:
        """Queued invitation mails with their sealed address and link opened."""
        return opened_all(await self.outbox_events("InviteeMailRequested"))

    async def token_of(self, invitation_id: str) -> str:
        """The token of the newest mail sent for an invitation (as the invitee receives it)."""
        mails = [
            event for event in await self.mail_requests() if event["invitation_id"] == invitation_id
        ]
        assert mails, f"no invitation mail for {invitation_id}"
        return token_from_url(mails[-1]["accept_url"])


def token_from_url(url: str) -> str:
    """The token in an invitation link."""
    return parse_qs(urlparse(url).query)["token"][0]


@asynccontextmanager
async def invitations_under_test(
    database_url: str,
    tmp_path: Path,
    *,
    kafka: KafkaSettings | None = None,
    start: bool = False,
    trust_signer: bool = True,
    extra_trusted_keys: Sequence[dict[str, Any]] = (),
    **setting_overrides: Any,
) -> AsyncIterator[InvitationsUnderTest]:
    """Migrate a fresh invitations database and serve its routes in-process.

    `start=True` also starts the runtime on `kafka` (relay, subscribers, the sweep).
    `extra_trusted_keys` are public JWKs trusted besides the test signer's (identity's).
    """
    prefix = f"test:invitations:{uuid.uuid4().hex}:"
    signer = TokenSigner()
    clock = MovableClock()
    settings = invitation_settings(database_url, prefix, **setting_overrides)
    component = build_component(
        PlatformSettings(data_dir=tmp_path / "data"),
        kafka or KafkaSettings(bootstrap_servers="127.0.0.1:1"),
        settings,
        AuthSettings(
            trusted_jwks=orjson.dumps(
                {"keys": [*([signer.public_jwk()] if trust_signer else []), *extra_trusted_keys]}
            ).decode()
            if trust_signer or extra_trusted_keys
            else None,
            redis_url=REDIS_URL,
        ),
        clock=clock,
    )
    if start:
        await component.runtime.start()
    else:
        await component.runtime.migrate()
    app = api_app()
    for router in component.api_routers():
        app.include_router(router)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    try:
        yield InvitationsUnderTest(component, client, clock, signer, settings)
    finally:
        await client.aclose()
        if start:
            await component.runtime.stop()
        else:
            await component.runtime.engine.dispose()
        await delete_prefixed_keys(prefix)
