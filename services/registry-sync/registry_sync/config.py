"""registry-sync settings (prefix `REGISTRY_SYNC_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Only ever used in development mode: production refuses to start without a real key.
DEVELOPMENT_NRN_HMAC_KEY = "development-only-nrn-key-do-not-use-in-production"


class RegistrySyncSettings(BaseSettings):
    """How registry-sync stores state and pseudonymises national register numbers."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_SYNC_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="Database URL; default: an SQLite file in the data folder."
    )
    nrn_hmac_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_NRN_HMAC_KEY),
        description="Secret key of the keyed hash of national register numbers (shared "
        "with identity). Must be set outside development.",
    )
    import_chunk_size: int = Field(
        default=1000, description="Professionals applied per database transaction."
    )
    max_removal_share: float = Field(
        default=0.05,
        description="A snapshot that would remove or deactivate more than this share of the "
        "known professionals is refused unless forced.",
    )
    max_reported_errors: int = Field(
        default=20, description="How many invalid lines an import reports in detail."
    )
    feed_url: str | None = Field(
        default=None,
        description="Base URL of the source's delta feed (`GET {base}/changes`); unset: "
        "registry-sync does not poll.",
    )
    feed_poll_interval_s: float = Field(
        default=5.0, gt=0, description="Seconds between two polls of the delta feed."
    )
    feed_page_size: int = Field(
        default=500, ge=1, description="Changes asked for per delta-feed page (one transaction)."
    )
    feed_timeout_s: float = Field(
        default=10.0, gt=0, description="Seconds one delta-feed request may take."
    )
    feed_max_attempts: int = Field(
        default=5,
        ge=1,
        description="Attempts per delta-feed page on connection errors, timeouts and 5xx.",
    )
    feed_lenient: bool = Field(
        default=False,
        description="Skip (and report) invalid changes instead of refusing their page.",
    )
    watch_dir: Path | None = Field(
        default=None,
        description="Folder whose snapshot files (.jsonl, .csv, gzip too) are imported when "
        "dropped in; unset: no folder is watched.",
    )
    watch_interval_s: float = Field(
        default=5.0, gt=0, description="Seconds between two scans of the watched folder."
    )
