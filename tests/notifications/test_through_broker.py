"""notifications on a real broker, sending through a real local SMTP server.

Two tests only (each joins a consumer group, ~5 s on the embedded broker); each covers a
whole path: event on the topic → inbox → delivery record → sender → SMTP → outcome event.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contracts.events.identity import USERS_TOPIC
from contracts.events.invitations import InvitationMailRequested
from contracts.events.notifications import DELIVERIES_TOPIC
from notifications.adapters.dev_mailbox import LocalSmtpServer, read_mailbox
from notifications.config import Settings
from notifications.entrypoints.app import build_component
from servicekit import metrics
from servicekit.embedded_broker import free_loopback_port
from servicekit.logging import JsonFormatter
from servicekit.settings import KafkaSettings, PlatformSettings
from servicekit.waiting import within
from tests.notifications.conftest import SOON, verification
from tests.support.infrastructure import wait_for
from tests.support.kafka_publishing import publish_events
from tests.support.kafka_reading import header, read_topic

pytestmark = pytest.mark.e2e

SUBJECTS = {
    "nl": "Bevestig je e-mailadres voor de Sociale Kaart",
    "fr": "Confirmez votre adresse e-mail pour la Carte sociale",
    "en": "Confirm your e-mail address for the Sociale Kaart",
}


async def _async(value: Any) -> Any:
    return value


def _outcomes(records: list[Any], suffix: str) -> list[Any]:
    return [r for r in records if (header(r, "ce_type") or "").endswith(suffix)]


async def test_an_activation_request_arrives_as_mail_in_its_language_once_and_logs_stay_clean(
    kafka: KafkaSettings, tmp_path: Path, database_url_factory: Any, caplog: Any
) -> None:
    # As the platform logs (INFO), with notifications' own loggers and both SMTP libraries
    # at DEBUG. (The Kafka client logs whole payloads at DEBUG, including this test's own
    # producer standing in for identity; the platform keeps it at WARNING.)
    caplog.set_level(logging.INFO)
    for name in ("notifications", "servicekit", "aiosmtplib", "mail.log"):
        caplog.set_level(logging.DEBUG, logger=name)
    component = build_component(
        PlatformSettings(data_dir=tmp_path / "data"),
        kafka,
        Settings(database_url=await database_url_factory("notifications"), sender_poll_s=0.1),
    )
    mailbox = component.mailbox
    assert mailbox is not None, "development mode with no SMTP host runs the local mailbox"
    events = {lang: verification(language=lang) for lang in ("nl", "fr", "en")}
    duplicates = metrics.MESSAGES_DUPLICATE.labels("notifications", "mail-requests", USERS_TOPIC)
    await component.runtime.start()
    try:
        await within(mailbox.ready.wait(), 60)
        (first_id,) = await publish_events(kafka, events["nl"])
        await publish_events(kafka, events["fr"])
        await publish_events(kafka, events["en"])
        await wait_for(lambda: _async(len(mailbox.messages()) == 3), timeout_s=60)

        before = duplicates._value.get()
        await publish_events(kafka, events["nl"], event_id=first_id)  # redelivered
        await wait_for(lambda: _async(duplicates._value.get() > before), timeout_s=60)

        async def succeeded() -> list[Any]:
            records = _outcomes(await read_topic(kafka, DELIVERIES_TOPIC), "DeliverySucceeded")
            return records if len(records) == 3 else []

        outcomes = await wait_for(succeeded, timeout_s=60)
        await asyncio.sleep(0.5)  # a second mail, if any, would arrive now
        received = component.mailbox.stored() if component.mailbox else []
    finally:
        await component.runtime.stop()

    assert len(received) == 3
    by_recipient = {stored.to: stored for stored in received}
    for language, event in events.items():
        mail = by_recipient[event.email]
        assert mail.subject == SUBJECTS[language]
        assert mail.message.get_content_type() == "multipart/alternative"
        assert event.activation_url in mail.part("plain")
        assert f'href="{event.activation_url}"' in mail.part("html")
        assert mail.message["Content-Language"] == language
    assert {stored.path.parent for stored in received} == {tmp_path / "data" / "mailbox"}

    secrets = [e.email for e in events.values()] + [
        e.activation_url.split("token=")[1] for e in events.values()
    ]
    for record in outcomes:
        text = record.value.decode() + str(record.headers)
        assert not [s for s in secrets if s in text], "an outcome event names an address/link"
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert any("delivery sent" in line for line in lines)
    leaked = [line for line in lines for s in secrets if s in line]
    assert leaked == []


async def test_smtp_down_for_good_fails_the_delivery_and_the_next_event_is_still_sent(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    port = free_loopback_port()
    component = build_component(
        PlatformSettings(data_dir=tmp_path / "data"),
        kafka,
        Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'notifications.db'}",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_tls="none",
            send_attempts=3,
            send_backoff_s=0.05,
            sender_poll_s=0.05,
        ),
    )
    assert component.mailbox is None

    def invitation(email: str) -> InvitationMailRequested:
        return InvitationMailRequested(
            invitation_id=str(uuid.uuid4()),
            email=email,
            language="nl",
            practice_name="Praktijk Zuid",
            inviter_name="Dr. Peeters",
            accept_url=f"https://skaart.test/invitations/accept?token={uuid.uuid4().hex}",
            expires_at=SOON,
            occurred_at=datetime.now(UTC),
        )

    lost, delivered = invitation("lost@example.org"), invitation("second@example.org")
    server = LocalSmtpServer(tmp_path / "relay", port=port)
    await component.runtime.start()
    try:
        await publish_events(kafka, lost)

        async def failed() -> list[Any]:
            return _outcomes(await read_topic(kafka, DELIVERIES_TOPIC), "DeliveryFailed")

        (failure,) = await wait_for(failed, timeout_s=60)
        await server.start()
        await publish_events(kafka, delivered)
        await wait_for(lambda: _async(read_mailbox(server.folder)), timeout_s=60)
    finally:
        await component.runtime.stop()
        await server.stop()

    payload = failure.value.decode()
    assert '"attempts":3' in payload and '"template":"invitation"' in payload
    assert lost.invitation_id in payload  # traceable: source_id
    assert "lost@example.org" not in payload and lost.accept_url not in payload
    assert "token" not in payload
    (mail,) = read_mailbox(server.folder)
    assert mail.to == "second@example.org"
    assert delivered.accept_url in mail.part("plain")
