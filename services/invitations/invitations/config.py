"""invitations settings (prefix `INVITATIONS_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings of invitations."""

    model_config = SettingsConfigDict(env_prefix="INVITATIONS_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="Database URL; default: an SQLite file in the data folder."
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="Base URL of links in e-mails."
    )
    token_ttl_days: int = Field(default=14, description="Invitation link validity.")
    redis_url: str | None = Field(default=None, description="Redis for rate limits.")
