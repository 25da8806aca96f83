"""Through the broker: registry-sync's import feeds identity's eligibility view, a
professional logs in and activates, and their national register number is nowhere.

Looked for in every log record (raw, before the JSON formatter's redaction), every topic
the contracts declare (keys, values, headers), every row of every table of identity's
database, and every HTTP answer of the run. Each haystack is first shown to hold what it
should, so the search cannot pass by looking at nothing.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from contracts.events.identity import SIGNING_KEYS_TOPIC, USERS_TOPIC
from contracts.topics import TOPICS
from identity.devidp.people import DEMO_SEED, demo_people
from identity.domain.nrn import NrnHasher
from identity.handlers.registry_events import facts_for
from registry_sync.config import RegistrySyncSettings
from registry_sync.entrypoints.app import build_component as build_registry_sync
from registry_sync.entrypoints.app import nrn_hasher
from registry_sync.handlers.import_snapshot import import_snapshot
from registry_sync.simulator.demo_data import generate_professionals, write_snapshot
from servicekit.settings import KafkaSettings, PlatformSettings
from tests.identity.flows import login, query_of, running_identity
from tests.support.infrastructure import wait_for
from tests.support.kafka_reading import read_topic

pytestmark = pytest.mark.e2e


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _message(record: Any) -> str:
    headers = " ".join(f"{name}={_text(value)}" for name, value in record.headers or ())
    return f"key={_text(record.key)} value={_text(record.value)} headers={headers}"


def _exchange(response: httpx.Response) -> str:
    return f"{response.status_code} {dict(response.headers)} {response.text}"


async def test_registry_import_to_login_and_activation_without_the_national_number_anywhere(
    kafka: KafkaSettings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    people = {person.key: person for person in demo_people()}
    professional = people["professional-3"]
    citizen = people["citizen"]
    records = list(generate_professionals(10, DEMO_SEED))
    assert records[3]["ssin"] == professional.nrn
    snapshot = tmp_path / "snapshot.jsonl"
    write_snapshot(snapshot, records)
    nrns = [record["ssin"] for record in records] + [citizen.nrn]

    platform = PlatformSettings(data_dir=tmp_path / "registry")
    registry_settings = RegistrySyncSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    )
    registry = build_registry_sync(platform, kafka, registry_settings)
    await registry.runtime.start()
    answers: list[str] = []
    try:
        summary = await import_snapshot(
            snapshot,
            sessions=registry.runtime.sessions,
            outbox=registry.runtime.outbox,
            hasher=nrn_hasher(registry_settings, platform),
        )
        assert summary.registered == 10
        async with running_identity(kafka, tmp_path, consume=True) as identity:
            component = identity.component
            hasher = NrnHasher(identity.settings.nrn_hmac_key.get_secret_value())

            async def known() -> bool:
                async with component.runtime.sessions() as session:
                    return await facts_for(session, hasher.hash(professional.nrn)) is not None

            await wait_for(known, timeout_s=60, interval_s=0.2)

            async with identity.browser() as browser:
                landed = await login(browser, professional.key)
                answers.append(_exchange(landed))
                assert landed.status_code == 303
                me = await browser.get("/api/identity/me")
                answers.append(_exchange(me))
                assert me.json()["professions"] == ["physiotherapist"]
                given = await browser.put(
                    "/api/identity/me/email", json={"email": "filip@example.be"}
                )
                answers.append(_exchange(given))
                (link,) = await identity.activation_links()
                for response in (
                    # identity's own page (the mailed link opens the portal's page)
                    await browser.get(
                        "/api/identity/activate", params={"token": query_of(link)["token"]}
                    ),
                    await browser.post(
                        "/api/identity/activate", data={"token": query_of(link)["token"]}
                    ),
                    await browser.post("/api/identity/token"),
                    await browser.get("/api/identity/me"),
                    await browser.get("/api/identity/jwks"),
                    await browser.post("/api/identity/logout"),
                ):
                    answers.append(_exchange(response))
                    assert response.status_code < 300, response.text
            async with identity.browser() as browser:
                refused = await login(browser, citizen.key)  # not a professional
                answers.append(_exchange(refused))
                assert refused.status_code == 403

            await identity.outbox_drained()
            async with component.runtime.engine.connect() as connection:
                names = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
            tables = await identity.dump_tables()
    finally:
        await registry.runtime.stop()

    messages = {name: [_message(r) for r in await read_topic(kafka, name)] for name in TOPICS}
    logged = "\n".join(
        f"{r.getMessage()} {r.__dict__} {logging.Formatter().format(r)}" for r in caplog.records
    )

    # The haystacks hold what they should.
    users = "\n".join(messages[USERS_TOPIC])
    # The address travels sealed for notifications: not in clear even on the restricted topic.
    assert "ProfileActivated" in users and "sealed_email" in users
    assert "filip@example.be" not in users
    assert messages[SIGNING_KEYS_TOPIC]
    assert len(messages["registry.identities.v1"]) == 10
    for table in (
        "users",
        "sessions",
        "email_verifications",
        "registry_identities",
        "inbox_messages",
    ):
        assert table in names
    assert hasher.hash(professional.nrn) in tables and professional.surname in tables
    assert "login" in logged and "profile activated" in logged
    answered = "\n".join(answers)
    assert "physiotherapist" in answered and "access_token" in answered

    # And the national register numbers are in none of them.
    for topic, texts in messages.items():
        assert not [n for n in nrns if n in "\n".join(texts)], f"national number on {topic}"
    assert not [n for n in nrns if n in tables], "national number in identity's tables"
    assert not [n for n in nrns if n in logged], "national number in a log record"
    assert not [n for n in nrns if n in answered], "national number in an HTTP answer"
    assert json.dumps(nrns)  # (the list itself is what was searched for)
