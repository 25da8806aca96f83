"""directory settings (prefix `DIRECTORY_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from directory.adapters.first_build import INDEX_BUILDERS, SORT_MEMORY


class DirectorySettings(BaseSettings):
    """Where the directory keeps its read model, and how large its pages may be."""

    model_config = SettingsConfigDict(env_prefix="DIRECTORY_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="Database URL; default: an SQLite file in the data folder."
    )
    public_page_size_max: int = Field(
        default=200, description="Largest page of a public search, FHIR Bundle or HSDS list."
    )
    geocoder: str = Field(
        default="reference",
        description="What places the practices' addresses and the places people search "
        "near: `reference` (municipality centroids shipped with the code, offline) or a "
        "geocoder of your own as `package.module:factory` (see docs/directory.md, Places on "
        "the map).",
    )
    near_radius_km_max: float = Field(
        default=100.0,
        gt=0,
        description="Largest `radius_km` of a search near a place (and HSDS `proximity`).",
    )
    first_build_index_builders: int = Field(
        default=INDEX_BUILDERS,
        ge=1,
        description="Indexes a first build (a directory catching up from an empty map) builds "
        "at once at its end, each on a database connection and a core of its own, with up "
        f"to {SORT_MEMORY} of sort memory each.",
    )
    response_cache_entries: int = Field(
        default=4096,
        ge=0,
        description="Public read answers kept per replica (0: no response cache).",
    )
    response_cache_max_mb: int = Field(
        default=64, ge=1, description="Memory the cached answers may take, in MB."
    )
    response_cache_poll_s: float = Field(
        default=0.25,
        gt=0,
        description="How often a replica reads the projection's generation from the "
        "database (changes made by another replica's projection are seen within this).",
    )
    response_cache_max_stale_s: float = Field(
        default=0.5,
        ge=0,
        description="How old a superseded answer may be to still be served while the "
        "same request is being computed again.",
    )
