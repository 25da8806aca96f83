"""Addresses and links arrive sealed, are stored sealed, and are opened only to send."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from notifications.adapters.deliveries import seal_at_rest
from notifications.adapters.tables import address_book
from notifications.domain.deliveries import DeliveryStatus
from servicekit.sealing import DEVELOPMENT_PRIVATE_KEY, KeyRing, OpeningKey, purpose
from tests.notifications.conftest import (
    NotificationsUnderTest,
    activated,
    activation_mail,
    invitee_mail,
    profile_activated,
    verification,
)


async def test_a_sealed_activation_mail_is_stored_sealed_and_sent_opened(
    notifications: NotificationsUnderTest,
) -> None:
    token = uuid.uuid4().hex
    event = activation_mail(email="ann@example.org", token=token, language="fr")
    await notifications.consume(event)
    (row,) = await notifications.delivery_rows()
    assert row.status == DeliveryStatus.PENDING
    stored = f"{row.recipient_email} {row.context}"
    assert "ann@example.org" not in stored and token not in stored

    await notifications.smtp.start()
    await notifications.send_until(lambda: len(notifications.mail()) == 1)
    (mail,) = notifications.mail()
    assert mail.to == "ann@example.org"
    assert f"https://skaart.test/activate?token={token}" in mail.part("plain")
    assert mail.subject.startswith("Confirmez")


async def test_clear_events_from_before_the_upgrade_are_sealed_before_they_are_stored(
    notifications: NotificationsUnderTest,
) -> None:
    event = verification()
    await notifications.consume(event, activated(str(uuid.uuid4()), email="old@example.org"))
    async with notifications.component.runtime.sessions() as session:
        book = (await session.execute(sa.select(address_book))).all()
    (row,) = await notifications.delivery_rows()
    stored = f"{row.recipient_email} {row.context} {[tuple(r) for r in book]}"
    for secret in (event.email, event.activation_url, "old@example.org"):
        assert secret not in stored


async def test_a_value_sealed_for_another_purpose_does_not_open_and_the_mail_fails(
    notifications: NotificationsUnderTest,
) -> None:
    swapped = invitee_mail(email="nele@example.org", token="t")
    other = invitee_mail(email="eve@example.org", token="t2")
    # The address of another invitation, moved into this one: it does not open.
    forged = swapped.model_copy(update={"sealed_email": other.sealed_email})
    await notifications.consume(forged)
    await notifications.smtp.start()
    assert await notifications.send_round() == 1
    (row,) = await notifications.delivery_rows()
    assert row.status == DeliveryStatus.FAILED
    assert "does not open" in row.last_error
    assert notifications.mail() == []


async def test_a_rotated_key_still_opens_and_the_start_seals_anew_to_the_new_key(
    notifications: NotificationsUnderTest,
) -> None:
    user_id = str(uuid.uuid4())
    await notifications.consume(profile_activated(user_id, email="bart@example.org"))
    new_key = OpeningKey.generate()
    rotated = KeyRing([new_key, OpeningKey.from_text(DEVELOPMENT_PRIVATE_KEY)])
    async with notifications.component.runtime.sessions() as session, session.begin():
        assert await seal_at_rest(session, rotated) == 1
    async with notifications.component.runtime.sessions() as session:
        (row,) = (await session.execute(sa.select(address_book))).all()
    assert row.email.startswith(f"sealed1.{new_key.sealing_key.key_id}.")
    only_new = KeyRing([new_key])
    assert only_new.open(row.email, purpose("email", user_id)) == "bart@example.org"
    assert row.email_digest == only_new.address_digest("bart@example.org")


async def test_an_invitation_goes_out_in_the_invitees_own_language_unless_one_was_chosen(
    notifications: NotificationsUnderTest,
) -> None:
    await notifications.smtp.start()
    # Nele is a known user who reads French; the manager writes Dutch.
    await notifications.consume(
        profile_activated(str(uuid.uuid4()), email="Nele@Example.org", language="fr")
    )
    await notifications.consume(invitee_mail(email="nele@example.org", token="a", language="nl"))
    await notifications.send_until(lambda: len(notifications.mail()) == 1)
    assert notifications.mail()[0].subject.endswith("sur la Carte sociale")

    # The manager chose Dutch: Dutch it is.
    chosen = invitee_mail(email="nele@example.org", token="b", language="nl", language_chosen=True)
    await notifications.consume(chosen)
    # Someone notifications does not know: the manager's language.
    await notifications.consume(invitee_mail(email="jan@example.org", token="c", language="en"))
    await notifications.send_until(lambda: len(notifications.mail()) == 3)
    subjects = {m.to: m.subject for m in notifications.mail()[1:]}
    assert subjects["nele@example.org"].endswith("op de Sociale Kaart")
    assert subjects["jan@example.org"].endswith("on the Sociale Kaart")
