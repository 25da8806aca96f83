"""Deliveries against a real local SMTP server and the service's database (no broker).

The broker path (consumer group, inbox, outbox relay) is covered in test_through_broker.py;
here the handlers and the sender run directly, so each case is fast and exact.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from contracts.events.fiches import ExportReady, RequestKind
from contracts.events.invitations import (
    InvitationMailRequested,
    InvitationOutcome,
    InviterNotificationRequested,
)
from notifications.adapters.dev_mailbox import LocalSmtpServer
from notifications.adapters.tables import address_book
from notifications.domain.deliveries import DeliveryStatus, recipient_digest
from notifications.handlers import sender as sender_module
from servicekit.http import api_app
from servicekit.sealing import OpeningKey, development_key_ring
from servicekit.settings import Environment, KafkaSettings, PlatformSettings
from tests.notifications.conftest import (
    SOON,
    NotificationsUnderTest,
    activated,
    decided,
    verification,
)
from tests.support.problems import error_locs

FAILED = "be.socialekaart.notifications.DeliveryFailed"
SUCCEEDED = "be.socialekaart.notifications.DeliverySucceeded"


async def test_an_activation_mail_is_sent_once_and_its_address_and_link_are_then_erased(
    notifications: NotificationsUnderTest,
) -> None:
    await notifications.smtp.start()
    event = verification(language="fr")
    await notifications.consume(event)
    # The same request again (a copy with another event id): still one message.
    await notifications.consume(event)
    await notifications.send_until(lambda: len(notifications.mail()) >= 1)
    await notifications.send_round()
    await asyncio.sleep(0.1)

    (mail,) = notifications.mail()
    assert mail.to == event.email
    assert mail.subject.startswith("Confirmez votre adresse")
    assert event.activation_url in mail.part("plain")
    assert event.activation_url in mail.part("html")
    (row,) = await notifications.delivery_rows()
    assert row.status == DeliveryStatus.SENT
    assert row.attempts == 1
    assert row.recipient_email is None and row.context is None
    assert row.recipient_digest == recipient_digest(event.email)
    assert row.source_id == event.verification_id and row.template == "email_verification"
    ((kind, payload),) = await notifications.outbox_events()
    assert kind == SUCCEEDED
    assert payload["delivery_id"] == row.delivery_id and payload["attempts"] == 1
    assert event.email not in str(payload) and "token" not in str(payload)


async def test_smtp_down_then_up_the_message_arrives_after_a_retry(
    notifications: NotificationsUnderTest,
) -> None:
    event = verification()
    await notifications.consume(event)
    assert await notifications.send_round() == 1  # refused: nothing listens
    (row,) = await notifications.delivery_rows()
    assert row.status == DeliveryStatus.PENDING and row.attempts == 1
    assert "ConnectError" in row.last_error or "Connect" in row.last_error
    assert event.email not in row.last_error

    await notifications.smtp.start()
    await notifications.send_until(lambda: len(notifications.mail()) == 1)
    (row,) = await notifications.delivery_rows()
    assert row.status == DeliveryStatus.SENT and row.attempts == 2
    assert event.activation_url in notifications.mail()[0].part("plain")


async def test_after_the_last_attempt_the_delivery_fails_and_the_next_one_is_still_sent(
    notifications: NotificationsUnderTest,
) -> None:
    first = verification()
    await notifications.consume(first)
    for _ in range(3):  # send_attempts=3, nothing listens; backoff at most 0.2 s
        assert await notifications.send_round() == 1
        await asyncio.sleep(0.25)
    (row,) = await notifications.delivery_rows()
    assert row.status == DeliveryStatus.FAILED and row.attempts == 3
    assert row.recipient_email is None and row.context is None
    ((kind, payload),) = await notifications.outbox_events()
    assert kind == FAILED and payload["attempts"] == 3 and payload["error"]
    assert first.email not in str(payload) and first.activation_url not in str(payload)

    await notifications.smtp.start()
    second = verification()
    await notifications.consume(second)
    await notifications.send_until(lambda: len(notifications.mail()) == 1)
    assert notifications.mail()[0].to == second.email


async def test_a_recipient_refused_for_good_fails_at_once(
    notifications: NotificationsUnderTest, tmp_path
) -> None:
    event = verification()
    refusing = LocalSmtpServer(
        tmp_path / "refusing",
        port=notifications.smtp._requested_port,
        refuse_recipients=frozenset({event.email}),
    )
    await refusing.start()
    try:
        await notifications.consume(event)
        await notifications.send_round()
    finally:
        await refusing.stop()
    (row,) = await notifications.delivery_rows()
    assert row.status == DeliveryStatus.FAILED and row.attempts == 1
    assert "550" in row.last_error and event.email not in row.last_error


async def test_a_message_for_a_user_not_yet_activated_waits_for_the_address(
    notifications: NotificationsUnderTest,
) -> None:
    await notifications.smtp.start()
    user_id = str(uuid.uuid4())
    event = decided(user_id, kind=RequestKind.RIGHTS)
    await notifications.consume(event)
    assert await notifications.send_round() == 0
    (row,) = await notifications.delivery_rows()
    assert row.status == DeliveryStatus.WAITING_ADDRESS and row.recipient_email is None

    await notifications.consume(activated(user_id, email="bart@example.org", language="en"))
    await notifications.send_until(lambda: len(notifications.mail()) == 1)
    (mail,) = notifications.mail()
    assert mail.to == "bart@example.org"
    assert mail.subject == "Your request about “Praktijk Zuid” was approved"
    assert "Hello Bart" in mail.part("plain")
    assert "management rights" in mail.part("plain")


async def test_a_wait_for_an_address_ends_in_failure_after_the_configured_time(
    notifications: NotificationsUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = notifications.component.sender
    assert sender is not None
    monkeypatch.setattr(sender._settings, "address_wait_s", 0.05)
    await notifications.consume(decided(str(uuid.uuid4())))
    await asyncio.sleep(0.1)
    assert await notifications.send_round() == 1
    (row,) = await notifications.delivery_rows()
    assert row.status == DeliveryStatus.FAILED and row.attempts == 0
    assert row.last_error == sender_module.NO_ADDRESS_ERROR
    ((kind, payload),) = await notifications.outbox_events()
    assert kind == FAILED and payload["template"] == "request_decided"


async def test_exports_invitations_and_outcomes_reach_the_right_people(
    notifications: NotificationsUnderTest,
) -> None:
    await notifications.smtp.start()
    manager = str(uuid.uuid4())
    now = datetime.now(UTC)
    await notifications.consume(activated(manager, email="manager@example.org", language="fr"))
    export = ExportReady(
        export_id=str(uuid.uuid4()),
        user_id=manager,
        formats=("csv",),
        download_url="https://skaart.test/exports/e1?sig=s3cr3t",
        expires_at=SOON,
        occurred_at=now,
    )
    invitation = InvitationMailRequested(
        invitation_id=str(uuid.uuid4()),
        email="colleague@example.org",
        language="en",
        practice_name="Praktijk <Zuid>",
        inviter_name="Dr. Peeters",
        profession="dietitian",
        accept_url="https://skaart.test/invitations/accept?token=inv-tok",
        expires_at=SOON,
        occurred_at=now,
    )
    outcome = InviterNotificationRequested(
        invitation_id=invitation.invitation_id,
        inviter_user_id=manager,
        practice_name="Praktijk Zuid",
        outcome=InvitationOutcome.DECLINED,
        occurred_at=now,
    )
    await notifications.consume(export, invitation, outcome)
    await notifications.send_until(lambda: len(notifications.mail()) == 3)
    by_subject = {m.subject: m for m in notifications.mail()}
    export_mail = by_subject["Votre export de la Carte sociale est prêt"]
    assert export_mail.to == "manager@example.org"
    assert export.download_url in export_mail.part("plain")
    invite = by_subject["“Dr. Peeters” invites you to join “Praktijk <Zuid>” on the Sociale Kaart"]
    assert invite.to == "colleague@example.org"
    assert invitation.accept_url in invite.links()
    assert "Praktijk &lt;Zuid&gt;" in invite.part("html")
    assert by_subject["Votre invitation pour “Praktijk Zuid” : refusée"].to == "manager@example.org"


async def test_a_crash_between_smtp_and_the_database_sends_again_rather_than_never(
    notifications: NotificationsUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    await notifications.smtp.start()
    sender = notifications.component.sender
    assert sender is not None
    original = sender._finish
    crashed = []

    async def crash_once(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not crashed:
            crashed.append(True)
            raise RuntimeError("process died after SMTP accepted the message")
        return await original(*args, **kwargs)

    monkeypatch.setattr(sender, "_finish", crash_once)
    # Long enough to outlast one SMTP attempt and the checks below on a loaded machine
    # (1 s did not, once, in a CI run of 2026-11-30 on a slow machine: the lease had
    # expired before the second round, which then sent the message again).
    lease = timedelta(seconds=5)
    monkeypatch.setattr(sender, "_lease", lease)
    event = verification()
    await notifications.consume(event)
    with pytest.raises(RuntimeError):
        await notifications.send_round()
    assert len(notifications.mail()) == 1
    assert await notifications.send_round() == 0, "held by the lease of the crashed attempt"
    await asyncio.sleep(lease.total_seconds() + 0.1)
    await notifications.send_until(lambda: len(notifications.mail()) == 2)
    first, second = notifications.mail()
    assert first.message["Message-ID"] == second.message["Message-ID"]
    (row,) = await notifications.delivery_rows()
    assert row.status == DeliveryStatus.SENT


async def test_the_address_book_keeps_the_latest_activation(
    notifications: NotificationsUnderTest,
) -> None:
    user_id = str(uuid.uuid4())
    await notifications.consume(activated(user_id, email="old@example.org"))
    await notifications.consume(activated(user_id, email="new@example.org", language="FR"))
    async with notifications.component.runtime.sessions() as session:
        rows = (await session.execute(sa.select(address_book))).all()
    # Kept sealed: only notifications' key opens it.
    keys = development_key_ring()
    opened = [(keys.open(r.email, f"email:{user_id}"), r.language) for r in rows]
    assert opened == [("new@example.org", "fr")]
    assert "example.org" not in rows[0].email


async def test_the_development_mailbox_view_lists_and_shows_messages_with_links(
    notifications: NotificationsUnderTest, tmp_path
) -> None:
    from notifications.adapters.dev_mailbox import DevMailbox
    from notifications.entrypoints.http import dev_mailbox_router

    await notifications.smtp.start()
    event = verification(language="en")
    await notifications.consume(event)
    await notifications.send_until(lambda: len(notifications.mail()) == 1)
    mailbox = DevMailbox(notifications.smtp.folder)

    async def client_for(environment: Environment) -> httpx.AsyncClient:
        app = api_app()
        app.include_router(dev_mailbox_router(mailbox, PlatformSettings(environment=environment)))
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")

    async with await client_for(Environment.DEVELOPMENT) as client:
        listing = (await client.get("/api/notifications/dev/mailbox/messages")).json()
        assert [m["subject"] for m in listing] == [notifications.mail()[0].subject]
        message_id = listing[0]["id"]
        shown = (await client.get(f"/api/notifications/dev/mailbox/messages/{message_id}")).json()
        assert shown["links"] == [event.activation_url]
        page = await client.get(f"/api/notifications/dev/mailbox/{message_id}")
        assert f'<a href="{event.activation_url}">' in page.text
        index = await client.get("/api/notifications/dev/mailbox")
        assert f"/api/notifications/dev/mailbox/{message_id}" in index.text
        missing = await client.get("/api/notifications/dev/mailbox/messages/nope")
        assert missing.status_code == 404
        assert error_locs(missing) == [["path", "message_id"]]
        traversal = await client.get("/api/notifications/dev/mailbox/messages/..%2Fsecret")
        assert traversal.status_code == 404
    async with await client_for(Environment.PRODUCTION) as client:
        refused = await client.get("/api/notifications/dev/mailbox/messages")
        assert refused.status_code == 404


def test_the_development_mailbox_is_not_mounted_in_production(tmp_path) -> None:
    from notifications.config import Settings
    from notifications.entrypoints.app import build_component

    production = build_component(
        PlatformSettings(environment=Environment.PRODUCTION, data_dir=tmp_path),
        KafkaSettings(bootstrap_servers="127.0.0.1:1"),
        Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'n.db'}",
            embedded_smtp=True,
            mail_private_keys=OpeningKey.generate().text(),
        ),
    )
    assert production.mailbox is None and production.routers == []
    development = build_component(
        PlatformSettings(environment=Environment.DEVELOPMENT, data_dir=tmp_path),
        KafkaSettings(bootstrap_servers="127.0.0.1:1"),
        Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'n.db'}"),
    )
    assert development.mailbox is not None
    assert development.mailbox.folder == tmp_path / "mailbox"
    relay = build_component(
        PlatformSettings(environment=Environment.DEVELOPMENT, data_dir=tmp_path),
        KafkaSettings(bootstrap_servers="127.0.0.1:1"),
        Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'n.db'}", smtp_host="relay"),
    )
    assert relay.mailbox is None


async def test_the_colleague_accepted_mail_names_the_colleague(
    notifications: NotificationsUnderTest,
) -> None:
    await notifications.smtp.start()
    manager = str(uuid.uuid4())
    await notifications.consume(activated(manager, email="marc@example.org", language="nl"))
    accepted = InviterNotificationRequested(
        invitation_id=str(uuid.uuid4()),
        inviter_user_id=manager,
        practice_name="Het Warmste Team",
        outcome=InvitationOutcome.ACCEPTED,
        colleague_name="Nele Van Schelvergem",
        occurred_at=datetime.now(UTC),
    )
    await notifications.consume(accepted)
    await notifications.send_until(lambda: len(notifications.mail()) == 1)
    (mail,) = notifications.mail()
    assert "Je collega Nele Van Schelvergem aanvaardde" in mail.part("plain")
    assert "Nele Van Schelvergem" in mail.part("html")
