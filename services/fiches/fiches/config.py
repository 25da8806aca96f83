"""fiches settings (prefix `FICHES_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
