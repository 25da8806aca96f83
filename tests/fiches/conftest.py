"""fiches in-process: its HTTP API over ASGI, its database migrated, no broker.

Registry events are applied through fiches' own handlers (as its consumer would), and
what fiches publishes is read from its outbox table: the rows the relay would send.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from contracts.events.identity import Role, UserProfilePublished
from contracts.events.registry import (
    ProfessionalRegistered,
    ProfessionalStatusChanged,
    ProfessionRecord,
    RegistrationStatus,
    StatusChangeReason,
)
from fiches.adapters.known_users import remember
from fiches.adapters.tables import outbox
from fiches.config import FichesSettings
from fiches.entrypoints.app import build_component
from fiches.handlers.registry_events import RegistryEventHandlers
from servicekit.auth import AuthSettings
from servicekit.component import ServiceComponent
from servicekit.email_lookup import DEVELOPMENT_EMAIL_LOOKUP_KEY, email_lookup
from servicekit.http import api_app
from servicekit.settings import KafkaSettings, PlatformSettings
from tests.support.auth import TokenSigner

SOURCE_VERSION = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)

#: Profession records as the registry announces them.
RIZIV = {"physician": "11234508003", "nurse": "41234535401", "physiotherapist": "51234512345"}


def profession(code: str, visa: RegistrationStatus = RegistrationStatus.ACTIVE) -> ProfessionRecord:
    return ProfessionRecord(
        profession=code,
        visa_status=visa,
        riziv_number=RIZIV.get(code),
        riziv_status=RegistrationStatus.ACTIVE if code in RIZIV else None,
    )


@dataclass
class User:
    """Someone with an access token."""

    name: str
    user_id: str
    roles: tuple[Role, ...]
    professional_id: str | None = None
    professions: tuple[str, ...] = ()
    fiche_id: str | None = None
    display_name: str = ""

    @property
    def email(self) -> str:
        """The address the user activated their profile with."""
        return f"{self.name}@example.be"


@dataclass
class FichesUnderTest:
    component: ServiceComponent
    http: httpx.AsyncClient
    signer: TokenSigner
    users: dict[str, User] = field(default_factory=dict)
    _version: datetime = SOURCE_VERSION
    #: Users identity has not announced to fiches yet (see `request`).
    _unannounced: list[User] = field(default_factory=list)

    async def announce(self, user: User, *, display_name: str | None = None) -> None:
        """identity's profile announcement of an activated user, applied by fiches."""
        event = UserProfilePublished(
            user_id=user.user_id,
            display_name=display_name or user.display_name or user.name.title(),
            email_lookup=email_lookup(user.email, DEVELOPMENT_EMAIL_LOOKUP_KEY),
            professional_id=user.professional_id,
            occurred_at=datetime.now(UTC),
        )
        async with self.component.runtime.sessions() as session, session.begin():
            await remember(session, event)

    def headers(self, who: User | str | None) -> dict[str, str]:
        if who is None:
            return {}
        user = self.users[who] if isinstance(who, str) else who
        return self.signer.headers(
            user.user_id,
            roles=user.roles,
            professional_id=user.professional_id,
            professions=user.professions,
        )

    async def request(
        self, method: str, url: str, who: User | str | None = None, **kwargs: Any
    ) -> httpx.Response:
        # Every user a test makes is an activated user of the platform: identity has
        # announced their profile before they call fiches.
        while self._unannounced:
            await self.announce(self._unannounced.pop(0))
        return await self.http.request(method, url, headers=self.headers(who), **kwargs)

    def _next_version(self) -> datetime:
        self._version += timedelta(minutes=1)
        return self._version

    async def _apply(self, apply: Callable[[RegistryEventHandlers, Any], Any]) -> None:
        handlers = RegistryEventHandlers(self.component.runtime.outbox)
        async with self.component.runtime.sessions() as session, session.begin():
            await apply(handlers, session)
            await handlers.after_batch(session, [])

    async def professional(
        self, name: str, professions: tuple[str, ...], *, first: str = "", last: str = ""
    ) -> User:
        """A professional registered by the source (published fiche) with a token."""
        professional_id = str(uuid.uuid4())
        event = ProfessionalRegistered(
            professional_id=professional_id,
            last_name=last or name.title(),
            first_name=first or name.title(),
            language="nl",
            practice_ban=False,
            deceased=False,
            professions=tuple(profession(p) for p in professions),
            may_practise=True,
            source_version=self._next_version(),
            occurred_at=datetime.now(UTC),
        )
        await self._apply(lambda h, s: h.professional_registered(s, event))
        fiche = await self.http.get(
            "/api/fiches/providers", params={"professional_id": professional_id}
        )
        user = User(
            name=name,
            user_id=str(uuid.uuid4()),
            roles=(Role.PROFESSIONAL,),
            professional_id=professional_id,
            professions=professions,
            fiche_id=fiche.json()["items"][0]["fiche_id"],
            display_name=f"{event.first_name} {event.last_name}",
        )
        self.users[name] = user
        self._unannounced.append(user)
        return user

    def citizen(self, name: str) -> User:
        user = User(name=name, user_id=str(uuid.uuid4()), roles=(Role.CITIZEN,))
        self.users[name] = user
        self._unannounced.append(user)
        return user

    def team(self, name: str = "team") -> User:
        user = User(name=name, user_id=str(uuid.uuid4()), roles=(Role.TEAM,))
        self.users[name] = user
        self._unannounced.append(user)
        return user

    async def visa_ends(self, user: User) -> None:
        """The source says the visa is no longer active: the fiche is depublished."""
        assert user.professional_id is not None
        event = ProfessionalStatusChanged(
            professional_id=user.professional_id,
            reason=StatusChangeReason.VISA_INACTIVE,
            professions=user.professions,
            active_professions=(),
            may_practise=False,
            source_version=self._next_version(),
            occurred_at=datetime.now(UTC),
        )
        await self._apply(lambda h, s: h.professional_status_changed(s, event))

    async def reactivated(self, user: User) -> None:
        assert user.professional_id is not None
        event = ProfessionalStatusChanged(
            professional_id=user.professional_id,
            reason=StatusChangeReason.REACTIVATED,
            professions=user.professions,
            active_professions=user.professions,
            may_practise=True,
            source_version=self._next_version(),
            occurred_at=datetime.now(UTC),
        )
        await self._apply(lambda h, s: h.professional_status_changed(s, event))

    async def events(self, topic: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        """(CloudEvents type without prefix, payload) of every event in the outbox, in order."""
        async with self.component.runtime.sessions() as session:
            rows = await session.execute(sa.select(outbox).order_by(outbox.c.id))
            found = []
            for row in rows:
                if topic is not None and row.topic != topic:
                    continue
                headers = (
                    dict(row.headers)
                    if isinstance(row.headers, dict)
                    else dict((key, value) for key, value in row.headers)
                )
                event_type = str(headers.get("ce_type", "")).rsplit(".", 1)[-1]
                found.append((event_type, json.loads(bytes(row.payload))))
            return found

    async def event_types(self, topic: str | None = None) -> list[str]:
        return [event_type for event_type, _ in await self.events(topic)]

    async def count(self, table: sa.Table) -> int:
        async with self.component.runtime.sessions() as session:
            return int(await session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


@pytest.fixture
async def fiches(database_url_factory: Any, tmp_path: Path) -> AsyncIterator[FichesUnderTest]:
    """fiches on a fresh database (SQLite and PostgreSQL), trusting a test signer."""
    async for instance in _fiches(await database_url_factory("fiches"), tmp_path):
        yield instance


@pytest.fixture
async def fiches_sqlite(tmp_path: Path) -> AsyncIterator[FichesUnderTest]:
    """fiches on a fresh SQLite database (for tests that build many worlds)."""
    async for instance in _fiches(f"sqlite+aiosqlite:///{tmp_path / 'fiches.db'}", tmp_path):
        yield instance


async def _fiches(url: str, tmp_path: Path) -> AsyncIterator[FichesUnderTest]:
    signer = TokenSigner()
    component = build_component(
        PlatformSettings(data_dir=tmp_path / "data"),
        KafkaSettings(),
        FichesSettings(database_url=url, check_revoked_sessions=False),
        AuthSettings(trusted_jwks=signer.jwks()),
    )
    await component.runtime.migrate()
    app = api_app()
    for router in component.api_routers():
        app.include_router(router)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    try:
        yield FichesUnderTest(component, client, signer)
    finally:
        await client.aclose()
        await component.runtime.engine.dispose()
