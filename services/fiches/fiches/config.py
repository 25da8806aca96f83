"""fiches settings (prefix `FICHES_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class FichesSettings(BaseSettings):
    """Where fiches keeps its data."""

    model_config = SettingsConfigDict(env_prefix="FICHES_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="Database URL; default: an SQLite file in the data folder."
    )
    public_page_size_max: int = Field(default=200, description="Largest page of a public list.")
