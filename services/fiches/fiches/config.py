"""fiches settings (prefix `FICHES_`)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.email_lookup import DEVELOPMENT_EMAIL_LOOKUP_KEY
from servicekit.settings import PlatformSettings, service_public_base_url


class FichesSettings(BaseSettings):
    """Where fiches keeps its data, and how it checks callers."""

    model_config = SettingsConfigDict(env_prefix="FICHES_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="Database URL; default: an SQLite file in the data folder."
    )
    public_page_size_max: int = Field(default=200, description="Largest page of a public list.")
    check_revoked_sessions: bool = Field(
        default=True,
        description="Refuse access tokens of logged-out sessions (reads identity's revoked "
        "sessions in Redis at AUTH_REDIS_URL). Off only where no Redis is shared with identity.",
    )
    work_queue_page_size_max: int = Field(
        default=200, description="Largest page of the team's work queue."
    )
    email_lookup_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_EMAIL_LOOKUP_KEY),
        description="Keys the hash that finds a user by the e-mail address a manager "
        "grants rights to; the same secret as IDENTITY_EMAIL_LOOKUP_KEY (required outside "
        "development).",
    )

    def production_problems(self) -> list[str]:
        """Why these settings must not run in production; empty when they may."""
        if self.email_lookup_key.get_secret_value() == DEVELOPMENT_EMAIL_LOOKUP_KEY:
            return ["FICHES_EMAIL_LOOKUP_KEY is the development key; set identity's secret"]
        return []


# Only ever used in development: production refuses to start with it.
DEVELOPMENT_EXPORT_SIGNING_KEY = "development-only-fiches-export-key-do-not-use"


class ExportSettings(BaseSettings):
    """Exports of a user's fiches (prefix `FICHES_EXPORT_`)."""

    model_config = SettingsConfigDict(env_prefix="FICHES_EXPORT_", extra="ignore")

    signing_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_EXPORT_SIGNING_KEY),
        description="Key that signs download links (HMAC-SHA256). At least 32 characters; "
        "must be set outside development. Changing it invalidates links already sent.",
    )
    link_ttl_s: int = Field(
        default=72 * 3600, ge=60, description="Seconds a download link stays valid."
    )
    public_base_url: str = Field(
        default="",
        description="Base URL of the platform as users reach it (the gateway); download "
        "links are built from it, never from a request's Host header. Unset: "
        "SKAART_PUBLIC_BASE_URL.",
    )
    poll_interval_s: float = Field(
        default=5.0, gt=0, description="How often the worker looks for pending exports."
    )
    batch_size: int = Field(default=20, ge=1, description="Exports produced per round.")
    max_per_user_per_day: int = Field(
        default=10,
        ge=1,
        description="Exports one user may ask for in any 24 hours; more is refused with 429 "
        "and the time the next one is allowed (each export reads every fiche the user "
        "manages, so this bounds the work one account can cause).",
    )

    def resolved(self, platform: PlatformSettings) -> ExportSettings:
        """These settings with the public base URL filled in from the platform's."""
        return self.model_copy(
            update={"public_base_url": service_public_base_url(self.public_base_url, platform)}
        )

    def production_problems(self) -> list[str]:
        """Why these settings must not run in production; empty when they may."""
        key = self.signing_key.get_secret_value()
        problems = []
        if key == DEVELOPMENT_EXPORT_SIGNING_KEY:
            problems.append("FICHES_EXPORT_SIGNING_KEY is the development default; set a secret")
        elif len(key) < 32:
            problems.append("FICHES_EXPORT_SIGNING_KEY must be at least 32 characters")
        if not self.public_base_url.startswith("https://"):
            problems.append(
                "FICHES_EXPORT_PUBLIC_BASE_URL (or SKAART_PUBLIC_BASE_URL) must be an "
                "https:// address"
            )
        return problems
