"""invitations on a real broker: the managers view from fiches' topic, identity's keys,
events on the right topics, and no secret on any topic but the restricted one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from contracts.events.fiches import PracticeManagersChanged
from contracts.topics import TOPICS
from invitations.adapters.tables import outbox, practice_managers, signing_keys
from servicekit.settings import KafkaSettings
from tests.invitations.harness import invitations_under_test, token_from_url
from tests.invitations.privacy import formatted, leaks, table_dump
from tests.support.infrastructure import wait_for
from tests.support.kafka_publishing import publish_events
from tests.support.kafka_reading import header, read_topic
from tests.support.sealed_mail import opened_all

pytestmark = pytest.mark.e2e

PRACTICE = "practice-klim"
MANAGER = "user-marc"
ADDRESSES = [
    "nele.vanschelvergem@example.be",
    "jan.peeters@example.be",
    "an.smets@example.be",
]
RESTRICTED = "invitations.deliveries.v1"
PUBLIC = "invitations.invitations.v1"


def _events(records: list[Any], name: str) -> list[dict[str, Any]]:
    return [
        {"_key": record.key.decode(), **orjson.loads(record.value)}
        for record in records
        if (header(record, "ce_type") or "").endswith("." + name)
    ]


async def test_managers_from_fiches_then_invite_and_accept_over_the_broker(
    kafka: KafkaSettings, tmp_path: Path, platform_logging: pytest.LogCaptureFixture
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'invitations.db'}"
    async with invitations_under_test(
        database, tmp_path, kafka=kafka, start=True, trust_signer=False
    ) as svc:
        await publish_events(
            kafka,
            svc.signer.announcement(),
            PracticeManagersChanged(
                practice_id=PRACTICE,
                practice_name="KLIM",
                manager_user_ids=(MANAGER,),
                linked_professional_ids=(),
                occurred_at=datetime.now(UTC),
            ),
        )

        async def view_and_key_arrived() -> bool:
            async with svc.sessions() as session:
                managers = await session.scalar(
                    sa.select(practice_managers.c.manager_user_ids).where(
                        practice_managers.c.practice_id == PRACTICE
                    )
                )
                key = await session.scalar(
                    sa.select(signing_keys.c.kid).where(signing_keys.c.kid == svc.signer.kid)
                )
            return managers == [MANAGER] and key is not None

        await wait_for(view_and_key_arrived, timeout_s=60)

        invited = await svc.invite(PRACTICE, MANAGER, ADDRESSES, profession="nurse")
        assert invited.status_code == 201, invited.text
        ids = [result["invitation_id"] for result in invited.json()["results"]]
        resent = await svc.http.post(
            f"/api/invitations/{ids[1]}/resend", headers=svc.manager(MANAGER)
        )
        assert resent.status_code == 200

        async def mails() -> list[dict[str, Any]]:
            return opened_all(_events(await read_topic(kafka, RESTRICTED), "InviteeMailRequested"))

        delivered = await wait_for(lambda: _at_least(mails, 4), timeout_s=60)
        tokens = [token_from_url(mail["accept_url"]) for mail in delivered]
        token_of_first = next(
            token_from_url(m["accept_url"]) for m in delivered if m["invitation_id"] == ids[0]
        )
        accepted = await svc.http.post(
            "/api/invitations/link/accept",
            json={"token": token_of_first, "professions": ["nurse"]},
            headers=svc.professional("prof-nele", ["nurse"]),
        )
        assert accepted.status_code == 200, accepted.text
        revoked = await svc.http.post(
            f"/api/invitations/{ids[1]}/revoke", headers=svc.manager(MANAGER)
        )
        assert revoked.status_code == 200

        # Nobody answers the third: the background sweep ends it once it lapsed.
        svc.clock.advance(days=15)

        async def expired() -> list[dict[str, Any]]:
            return _events(await read_topic(kafka, PUBLIC), "InvitationExpired")

        assert [e["invitation_id"] for e in await wait_for(expired, timeout_s=60)] == [ids[2]]

        async def outbox_empty() -> bool:
            async with svc.sessions() as session:
                return not await session.scalar(sa.select(sa.func.count()).select_from(outbox))

        await wait_for(outbox_empty, timeout_s=60)
        dump = await table_dump(svc.sessions)

    public = await read_topic(kafka, PUBLIC)
    restricted = await read_topic(kafka, RESTRICTED)
    (acceptance,) = _events(public, "InvitationAccepted")
    assert acceptance["_key"] == ids[0]
    assert (acceptance["practice_id"], acceptance["professional_id"]) == (PRACTICE, "prof-nele")
    assert acceptance["professions"] == ["nurse"]
    assert {e["invitation_id"] for e in _events(public, "InvitationIssued")} == set(ids)
    assert [e["invitation_id"] for e in _events(public, "InvitationRevoked")] == [ids[1]]
    told = {e["outcome"]: e for e in _events(restricted, "InviterNotificationRequested")}
    assert set(told) == {"accepted", "expired"}
    assert (told["accepted"]["inviter_user_id"], told["accepted"]["_key"]) == (MANAGER, ids[0])
    assert told["expired"]["_key"] == ids[2]
    sent_to = [m["email"] for m in opened_all(_events(restricted, "InviteeMailRequested"))]
    assert sorted(sent_to) == sorted([*ADDRESSES, ADDRESSES[1]])

    secrets = set(ADDRESSES) | set(tokens)
    for topic in TOPICS:
        if topic == RESTRICTED:
            continue
        for record in await read_topic(kafka, topic):
            text = repr((record.key, record.value, record.headers))
            assert leaks(text, secrets) == [], f"a secret on {topic}"
    for table, text in dump.items():
        assert leaks(text, secrets) == [], f"{table} holds a secret in clear"
    for line in formatted(platform_logging.records):
        assert leaks(line, secrets) == [], line


async def _at_least(read: Any, count: int) -> Any:
    found = await read()
    return found if len(found) >= count else None
