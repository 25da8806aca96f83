"""identity announces each activated user's profile: a name and a keyed address hash.

fiches finds the person a manager grants rights to from these announcements, and names
managers and requesters with them. The address itself never travels on the topic.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from contracts.events.identity import PROFILES_TOPIC
from fiches.config import FichesSettings
from fiches.entrypoints.app import build_component as build_fiches
from identity.adapters.tables import users
from identity.config import Settings
from identity.devidp.people import demo_people
from servicekit.email_lookup import DEVELOPMENT_EMAIL_LOOKUP_KEY, email_lookup
from servicekit.settings import Environment, KafkaSettings, PlatformSettings
from tests.identity.flows import RunningIdentity, activate, login, running_identity
from tests.support.kafka_reading import read_topic


async def _profiles(identity: RunningIdentity) -> list[dict[str, object]]:
    await identity.outbox_drained()
    return [json.loads(r.value) for r in await read_topic(identity.kafka, PROFILES_TOPIC)]


async def test_activation_announces_the_profile_without_the_address(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    citizen = next(p for p in demo_people() if p.key == "citizen")
    address = f"Lotte.{uuid.uuid4().hex[:8]}@Example.be"
    async with running_identity(kafka, tmp_path) as identity, identity.browser() as browser:
        assert (await login(browser, citizen.key, login_as="citizen")).status_code == 303
        await activate(identity, browser, address)
        user_id = (await browser.get("/api/identity/me")).json()["user_id"]

        (profile,) = [p for p in await _profiles(identity) if p["user_id"] == user_id]
        assert profile["display_name"] == f"{citizen.given_name} {citizen.surname}"
        assert profile["email_lookup"] == email_lookup(address, DEVELOPMENT_EMAIL_LOOKUP_KEY)
        assert profile["professional_id"] is None
        records = await read_topic(kafka, PROFILES_TOPIC)
        assert not any(b"example.be" in r.value.lower() for r in records)

        # A user without an announcement (activated before profiles existed) is announced
        # by the sweep, once.
        async with identity.component.runtime.sessions.begin() as session:
            await session.execute(sa.update(users).values(profile_announced_at=None))
        profiles = identity.component.use_cases.profiles
        assert await profiles.announce_missing(identity.component.runtime.sessions) == 1
        assert await profiles.announce_missing(identity.component.runtime.sessions) == 0
        announced = [p for p in await _profiles(identity) if p["user_id"] == user_id]
        assert len(announced) == 2


def test_production_refuses_the_development_lookup_key(tmp_path: Path) -> None:
    production = PlatformSettings(environment=Environment.PRODUCTION, data_dir=tmp_path)
    identity_problems = Settings().problems(production)
    assert "IDENTITY_EMAIL_LOOKUP_KEY is the development key" in identity_problems
    with pytest.raises(RuntimeError, match="FICHES_EMAIL_LOOKUP_KEY is the development key"):
        build_fiches(
            production,
            KafkaSettings(bootstrap_servers="127.0.0.1:1"),
            FichesSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'f.db'}"),
        )
