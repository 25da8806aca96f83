"""notifications settings (prefix `NOTIFICATIONS_`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.sealing import DEVELOPMENT_PRIVATE_KEY, KeyRing, is_development_key
from servicekit.settings import Environment, PlatformSettings


class Settings(BaseSettings):
    """Settings of notifications."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="Database URL; default: an SQLite file in the data folder."
    )
    smtp_host: str | None = Field(
        default=None,
        description="SMTP relay host. Unset in development: the embedded local SMTP server "
        "(the development mailbox) receives every message.",
    )
    smtp_port: int = Field(default=587, description="SMTP relay port.")
    smtp_tls: Literal["none", "starttls", "tls"] = Field(
        default="starttls",
        description="`starttls` (upgrade after connecting, usually port 587), `tls` (TLS "
        "from the first byte, usually port 465) or `none` (only for a relay on the same "
        "host or the development mailbox).",
    )
    smtp_username: str | None = Field(default=None, description="SMTP user.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_timeout_s: float = Field(
        default=20.0, description="Time allowed for one SMTP attempt (connect to accepted)."
    )
    mail_from: str = Field(
        default="Sociale Kaart <no-reply@socialekaart.invalid>", description="From header."
    )
    send_attempts: int = Field(
        default=6, ge=1, description="SMTP attempts per message before it is marked failed."
    )
    send_backoff_s: float = Field(
        default=30.0,
        gt=0,
        description="Delay before the second attempt; doubles after every further attempt.",
    )
    send_backoff_max_s: float = Field(
        default=1800.0, gt=0, description="Longest delay between two attempts."
    )
    address_wait_s: float = Field(
        default=7 * 24 * 3600.0,
        gt=0,
        description="How long a message for a user id with no known address waits for the "
        "user's activation before it is marked failed.",
    )
    sender_poll_s: float = Field(
        default=1.0,
        gt=0,
        description="How often the sender looks for due messages when nothing woke it.",
    )
    mail_private_keys: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_PRIVATE_KEY),
        description="notifications' private mail keys (X25519, base64url), comma-separated, "
        "the current one first: identity and invitations seal addresses and links to its "
        "public key, and only notifications can open them. Keep a previous key listed "
        "after a rotation until what was sealed to it is sent (docs/security.md). Make "
        "one with `skaart mail-key new`. Required outside development.",
    )
    embedded_smtp: bool | None = Field(
        default=None,
        description="Run the local development SMTP server and send to it. Default: on in "
        "development when no SMTP host is set; never in production.",
    )

    def key_ring(self) -> KeyRing:
        """The private mail keys, the current one first."""
        return KeyRing.from_text(self.mail_private_keys.get_secret_value())

    def problems(self, platform: PlatformSettings) -> list[str]:
        """Settings that must not reach production, as messages; empty when fine."""
        if platform.environment is Environment.DEVELOPMENT:
            return []
        if is_development_key(self.mail_private_keys.get_secret_value()):
            return [
                "NOTIFICATIONS_MAIL_PRIVATE_KEYS holds the development key, whose private "
                "half is public: make a key with `skaart mail-key new`"
            ]
        return []

    def uses_embedded_smtp(self, platform: PlatformSettings) -> bool:
        """Whether this process runs the development mailbox and sends there."""
        if platform.environment is not Environment.DEVELOPMENT:
            return False
        if self.embedded_smtp is not None:
            return self.embedded_smtp
        return self.smtp_host is None
