"""invitations settings (prefix `INVITATIONS_`)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.sealing import SealingKey, development_public_key
from servicekit.settings import PlatformSettings, service_public_base_url

# Only ever used in development: production refuses to start with it (see entrypoints/app.py).
DEVELOPMENT_ADDRESS_SECRET = "development-only-invitations-address-secret-do-not-use"  # noqa: S105


class Settings(BaseSettings):
    """Settings of invitations."""

    model_config = SettingsConfigDict(env_prefix="INVITATIONS_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="Database URL; default: an SQLite file in the data folder."
    )
    public_base_url: str = Field(
        default="",
        description="Base URL of the platform as the public reaches it (the gateway). "
        "Invitation links are built from it, never from a request's Host header. Unset: "
        "SKAART_PUBLIC_BASE_URL.",
    )
    mail_public_key: str = Field(
        default_factory=development_public_key,
        description="notifications' public mail key (base64url): the invitee's address "
        "and the link in a mail request are sealed to it, so that only notifications can "
        "read them (`skaart mail-key new`). Required outside development.",
    )
    token_ttl_days: float = Field(
        default=14, gt=0, description="Days an invitation link stays valid."
    )
    address_secret: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_ADDRESS_SECRET),
        description="Secret from which the keys of the invitee-address hash and of the "
        "address encryption are derived. At least 32 characters; must be set outside "
        "development. Changing it makes stored addresses unreadable (no resend) and "
        "forgets which addresses were invited.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for the rate limits. Unset: an in-process counter (development "
        "only; each replica would count alone).",
    )
    redis_key_prefix: str = Field(
        default="skaart:invitations:",
        description="Prefix of every Redis key this service writes.",
    )
    manager_limit: int = Field(
        default=30, ge=1, description="Invitation e-mails one manager may send per window."
    )
    manager_window_s: int = Field(
        default=3600, ge=1, description="Window of the per-manager limit, in seconds."
    )
    practice_limit: int = Field(
        default=100, ge=1, description="Invitation e-mails one practice may send per window."
    )
    practice_window_s: int = Field(
        default=86400, ge=1, description="Window of the per-practice limit, in seconds."
    )
    max_open_per_practice: int = Field(
        default=50, ge=1, description="Open invitations a practice may have at once."
    )
    max_addresses_per_request: int = Field(
        default=20, ge=1, description="Addresses one invitation request may name."
    )
    expiry_sweep_interval_s: float = Field(
        default=60.0, gt=0, description="Seconds between two sweeps for lapsed invitations."
    )
    expiry_sweep_batch: int = Field(
        default=500, ge=1, description="Invitations expired per sweep transaction."
    )

    def resolved(self, platform: PlatformSettings) -> Settings:
        """These settings with the public base URL filled in from the platform's."""
        return self.model_copy(
            update={"public_base_url": service_public_base_url(self.public_base_url, platform)}
        )

    def mail_sealing_key(self) -> SealingKey:
        """notifications' public key, to which addresses and links are sealed."""
        return SealingKey.from_text(self.mail_public_key)
