"""directory settings (prefix `DIRECTORY_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DirectorySettings(BaseSettings):
    """Where the directory keeps its read model, and how large its pages may be."""

    model_config = SettingsConfigDict(env_prefix="DIRECTORY_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="Database URL; default: an SQLite file in the data folder."
    )
    public_page_size_max: int = Field(
        default=200, description="Largest page of a public search, FHIR Bundle or HSDS list."
    )
    near_radius_km_max: float = Field(
        default=100.0, gt=0, description="Largest `radius_km` of a search near a place."
    )
