"""portal settings (prefix `PORTAL_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.settings import Environment, PlatformSettings

#: The services the portal calls, by name (their APIs live under /api/<name>).
CALLED_SERVICES = ("identity", "fiches", "invitations", "directory")


class PortalSettings(BaseSettings):
    """Settings of the portal."""

    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore")

    identity_url: str | None = Field(
        default=None,
        description="Base URL of identity (microservices mode, e.g. http://identity:8000); "
        "unset in monolithic mode, where the portal calls the services in-process.",
    )
    fiches_url: str | None = Field(default=None, description="Base URL of fiches.")
    invitations_url: str | None = Field(default=None, description="Base URL of invitations.")
    directory_url: str | None = Field(
        default=None, description="Base URL of directory (the public search)."
    )
    service_timeout_s: float = Field(
        default=10, gt=0, description="How long a call to a service may take."
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis holding the browser sessions; default: AUTH_REDIS_URL. In "
        "development with neither set, sessions stay in the process when Redis does not "
        "answer. `memory://` keeps them in the process (development only).",
    )
    redis_key_prefix: str = Field(
        default="skaart:portal:", description="Prefix of the portal's Redis keys."
    )
    session_ttl_hours: float = Field(
        default=8, gt=0, description="Lifetime of a browser session without activity."
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="Secure flag of the session cookie. Default: on outside development.",
    )
    help_email: str = Field(
        default="desocialekaart@vlaanderen.be",
        description="Contact address shown in every page's footer (Vragen?).",
    )
    help_url: str = Field(
        default="https://www.desocialekaart.be/",
        description="Help site linked in every page's footer.",
    )

    def service_url(self, service: str) -> str | None:
        """The configured base URL of a called service (None: in-process)."""
        value: str | None = getattr(self, f"{service}_url")
        return value.rstrip("/") if value else None

    def secure_cookies(self, platform: PlatformSettings) -> bool:
        """Whether the session cookie gets the Secure flag."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return platform.environment is not Environment.DEVELOPMENT

    def problems(self, platform: PlatformSettings) -> list[str]:
        """Settings that must not reach production, as messages; empty when fine."""
        if platform.environment is Environment.DEVELOPMENT:
            return []
        found = []
        if self.cookie_secure is False:
            found.append("PORTAL_COOKIE_SECURE=false is allowed in development only")
        if self.redis_url == "memory://":
            found.append("PORTAL_REDIS_URL=memory:// is allowed in development only")
        return found
