"""Sealed values: only the private key opens them, only for their purpose, across rotations."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from servicekit.sealing import (
    DEVELOPMENT_PRIVATE_KEY,
    KeyRing,
    OpeningKey,
    SealingError,
    SealingKey,
    development_public_key,
    is_development_key,
    is_sealed,
)
from skaart.mail_key_commands import mail_key_app

LINK = "https://socialekaart.example/api/invitations/link?token=6V3VhmeM8NQGayWMEuEdVm"


def test_a_sealed_value_opens_with_the_private_key_for_its_purpose_only() -> None:
    private = OpeningKey.generate()
    ring = KeyRing([private])
    sealed = SealingKey.from_text(private.sealing_key.text()).seal(LINK, "accept_url:inv-1")
    assert is_sealed(sealed) and "token" not in sealed and "socialekaart" not in sealed
    assert sealed.startswith(f"sealed1.{private.sealing_key.key_id}.")
    assert ring.open(sealed, "accept_url:inv-1") == LINK
    with pytest.raises(SealingError, match="sealed for another purpose"):
        ring.open(sealed, "accept_url:inv-2")
    # Each seal is fresh: the same value twice gives two different texts.
    assert private.sealing_key.seal(LINK, "p") != private.sealing_key.seal(LINK, "p")


def test_an_altered_value_or_another_key_does_not_open() -> None:
    private, stranger = OpeningKey.generate(), OpeningKey.generate()
    sealed = private.sealing_key.seal(LINK, "p")
    body = sealed.rsplit(".", 1)[1]
    flipped = sealed[: -len(body)] + ("A" if body[0] != "A" else "B") + body[1:]
    with pytest.raises(SealingError):
        KeyRing([private]).open(flipped, "p")
    with pytest.raises(SealingError, match="which notifications does not hold"):
        KeyRing([stranger]).open(sealed, "p")
    with pytest.raises(SealingError, match="not sealed"):
        KeyRing([private]).open(LINK, "p")


def test_after_a_rotation_both_keys_open_and_reseal_moves_to_the_current_one() -> None:
    old, new = OpeningKey.generate(), OpeningKey.generate()
    sealed_to_old = old.sealing_key.seal("ann@example.org", "email:u1")
    ring = KeyRing.from_text(f"{new.text()}, {old.text()}")
    assert ring.current.key_id == new.sealing_key.key_id
    assert ring.open(sealed_to_old, "email:u1") == "ann@example.org"
    resealed = ring.reseal(sealed_to_old, "email:u1")
    assert ring.sealed_to_current(resealed) and not ring.sealed_to_current(sealed_to_old)
    assert KeyRing([new]).open(resealed, "email:u1") == "ann@example.org"
    # The keyed address digest: the same for any spelling, one per held key.
    assert ring.address_digest("Ann@Example.org ") == ring.address_digest("ann@example.org")
    assert ring.address_digests("ann@example.org")[0] == ring.address_digest("ann@example.org")
    assert KeyRing([old]).address_digest("ann@example.org") in ring.address_digests(
        "ann@example.org"
    )


def test_bad_key_settings_say_what_to_do() -> None:
    with pytest.raises(SealingError, match="skaart mail-key public"):
        SealingKey.from_text("too-short")
    with pytest.raises(SealingError, match="skaart mail-key new"):
        OpeningKey.from_text("too-short")
    assert is_development_key(DEVELOPMENT_PRIVATE_KEY)
    assert is_development_key(development_public_key())
    assert not is_development_key(OpeningKey.generate().text())


def test_the_operator_command_makes_a_key_pair_and_shows_its_public_half() -> None:
    runner = CliRunner()
    made = runner.invoke(mail_key_app, ["new"])
    assert made.exit_code == 0, made.output
    private_text, public_text = made.stdout.split()
    ring = KeyRing.from_text(private_text)
    assert ring.current.text() == public_text
    shown = runner.invoke(mail_key_app, ["public"], input=private_text + "\n")
    assert shown.exit_code == 0 and shown.stdout.strip() == public_text
    refused = runner.invoke(mail_key_app, ["public"], input="nonsense\n")
    assert refused.exit_code == 2


def test_outside_development_every_service_refuses_the_development_mail_key(tmp_path: Path) -> None:
    from identity.config import Settings as IdentitySettings
    from invitations.config import Settings as InvitationsSettings
    from invitations.entrypoints.app import build_component as build_invitations
    from notifications.config import Settings as NotificationsSettings
    from notifications.entrypoints.app import build_component as build_notifications
    from servicekit.settings import Environment, KafkaSettings, PlatformSettings

    production = PlatformSettings(environment=Environment.PRODUCTION, data_dir=tmp_path)
    kafka = KafkaSettings(bootstrap_servers="127.0.0.1:1")
    with pytest.raises(RuntimeError, match="NOTIFICATIONS_MAIL_PRIVATE_KEYS"):
        build_notifications(production, kafka, NotificationsSettings())
    assert "IDENTITY_MAIL_PUBLIC_KEY is the development key" in IdentitySettings().problems(
        production
    )
    invitations = InvitationsSettings(address_secret="s" * 40, redis_url="redis://x")
    with pytest.raises(RuntimeError, match="INVITATIONS_MAIL_PUBLIC_KEY"):
        build_invitations(production, kafka, invitations)
