"""identity settings (prefix `IDENTITY_`)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings of identity."""

    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="Database URL; default: an SQLite file in the data folder."
    )
    oidc_issuer: str = Field(
        default="http://127.0.0.1:8000/dev-idp",
        description="OpenID provider (the federal FAS in production).",
    )
    oidc_client_id: str = Field(default="skaart-dev", description="OIDC client id.")
    oidc_client_secret: SecretStr = Field(
        default=SecretStr("development-only"), description="OIDC client secret."
    )
    oidc_scopes: str = Field(default="openid profile egovnrn", description="Requested scopes.")
    nrn_hmac_key: SecretStr = Field(
        default=SecretStr("development-only-nrn-key-do-not-use-in-production"),
        description="Same secret as REGISTRY_SYNC_NRN_HMAC_KEY.",
    )
    activation_link_ttl_hours: int = Field(default=48, description="E-mail activation validity.")
    redis_url: str | None = Field(default=None, description="Redis for sessions and rate limits.")
