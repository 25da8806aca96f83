"""identity settings (prefix `IDENTITY_`)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.settings import Environment, PlatformSettings

DEVELOPMENT_NRN_HMAC_KEY = "development-only-nrn-key-do-not-use-in-production"
DEVELOPMENT_CLIENT_SECRET = "development-only"  # noqa: S105  (the dev provider's, documented)
DEVELOPMENT_SIGNING_KEY_SECRET = "development-only-signing-key-secret"  # noqa: S105

#: Path of the login callback under the public base URL (register it at the provider).
CALLBACK_PATH = "/api/identity/login/callback"
#: Path of the activation API (the portal's page posts the link's token there).
ACTIVATION_PATH = "/api/identity/activate"
#: Path of the portal page that activation mails link to (people open pages, not APIs).
ACTIVATION_LINK_PATH = "/activeren"
#: A login whose `return_to` is this portal path hands its session to the portal
#: server-side (a one-time code in the redirect) instead of setting a browser cookie.
PORTAL_LOGIN_PATH = "/aanmelden/klaar"
#: How long the one-time hand-over code of a portal login works.
HANDOFF_TTL_S = 60


class Settings(BaseSettings):
    """Settings of identity."""

    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="Database URL; default: an SQLite file in the data folder."
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public address of the platform (scheme, host, port). Links in e-mails "
        "and the OIDC redirect URI are built from it, never from a request's Host header.",
    )
    oidc_issuer: str = Field(
        default="http://127.0.0.1:8000/dev/idp",
        description="OpenID provider (the federal FAS in production; the development "
        "provider of monolithic mode by default).",
    )
    oidc_client_id: str = Field(default="skaart-dev", description="OIDC client id.")
    oidc_client_secret: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_CLIENT_SECRET), description="OIDC client secret."
    )
    oidc_scopes: str = Field(default="openid profile egovnrn", description="Requested scopes.")
    oidc_clock_leeway_s: int = Field(
        default=30, description="Allowed clock skew when checking the provider's id token."
    )
    login_request_ttl_s: int = Field(
        default=600, description="How long a started login may take at the provider."
    )
    nrn_hmac_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_NRN_HMAC_KEY),
        description="Same secret as REGISTRY_SYNC_NRN_HMAC_KEY.",
    )
    activation_link_ttl_hours: float = Field(
        default=48, gt=0, description="How long an e-mail activation link works."
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for revoked sessions and rate limits; default: AUTH_REDIS_URL "
        "(the one the token verifiers read). `memory://` keeps them in the process "
        "(development only: other services then do not see logouts).",
    )
    redis_key_prefix: str = Field(
        default="skaart:identity:",
        description="Prefix of identity's own Redis keys (rate limits).",
    )
    access_token_ttl_s: int = Field(
        default=300, ge=30, le=3600, description="Lifetime of an access token."
    )
    session_ttl_hours: float = Field(default=8, gt=0, description="Lifetime of a login session.")
    session_cookie_secure: bool | None = Field(
        default=None,
        description="Secure flag of the session cookie. Default: on, except in development "
        "when public_base_url is plain http. Off is refused outside development.",
    )
    signing_key_secret: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SIGNING_KEY_SECRET),
        description="Encrypts the private signing keys in identity's database.",
    )
    signing_key_grace_s: int = Field(
        default=300,
        ge=0,
        description="After a rotation, how long a new key is announced before it is used.",
    )
    login_attempts_per_ip: int = Field(
        default=30, description="Logins (start and callback) per IP address per window."
    )
    email_requests_per_address: int = Field(
        default=3, description="Activation mails per e-mail address per window."
    )
    email_requests_per_ip: int = Field(
        default=20, description="Activation mail requests per IP address per window."
    )
    rate_limit_window_s: int = Field(default=3600, description="Window of the rate limits.")
    dev_idp_enabled: bool = Field(
        default=True,
        description="Serve the development OpenID provider under /dev/idp (development only).",
    )

    def problems(self, platform: PlatformSettings) -> list[str]:
        """Settings that must not reach production, as messages; empty when fine."""
        if platform.environment is Environment.DEVELOPMENT:
            return []
        found = []
        if self.nrn_hmac_key.get_secret_value() == DEVELOPMENT_NRN_HMAC_KEY:
            found.append("IDENTITY_NRN_HMAC_KEY is the development key")
        if self.oidc_client_secret.get_secret_value() == DEVELOPMENT_CLIENT_SECRET:
            found.append("IDENTITY_OIDC_CLIENT_SECRET is the development secret")
        if self.signing_key_secret.get_secret_value() == DEVELOPMENT_SIGNING_KEY_SECRET:
            found.append("IDENTITY_SIGNING_KEY_SECRET is the development secret")
        if self.session_cookie_secure is False:
            found.append("IDENTITY_SESSION_COOKIE_SECURE=false is allowed in development only")
        if not self.public_base_url.startswith("https://"):
            found.append("IDENTITY_PUBLIC_BASE_URL must be https outside development")
        if self.redis_url == "memory://":
            found.append("IDENTITY_REDIS_URL=memory:// is allowed in development only")
        return found

    def cookie_secure(self, platform: PlatformSettings) -> bool:
        """Whether cookies get the Secure flag."""
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        development = platform.environment is Environment.DEVELOPMENT
        return not (development and self.public_base_url.startswith("http://"))

    @property
    def redirect_uri(self) -> str:
        """The OIDC redirect URI registered at the provider."""
        return self.public_base_url.rstrip("/") + CALLBACK_PATH
