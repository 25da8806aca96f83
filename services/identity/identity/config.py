"""identity settings (prefix `IDENTITY_`)."""

from __future__ import annotations

import hashlib

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.email_lookup import DEVELOPMENT_EMAIL_LOOKUP_KEY
from servicekit.sealing import SealingKey, development_public_key, is_development_key
from servicekit.settings import Environment, PlatformSettings, service_public_base_url

DEVELOPMENT_NRN_HMAC_KEY = "development-only-nrn-key-do-not-use-in-production"
DEVELOPMENT_CLIENT_SECRET = "development-only"  # noqa: S105  (the dev provider's, documented)
DEVELOPMENT_SIGNING_KEY_SECRET = "development-only-signing-key-secret"  # noqa: S105

#: Path of the login callback under the public base URL (register it at the provider).
CALLBACK_PATH = "/api/identity/login/callback"
#: Path of the activation API (the portal's page posts the link's token there).
ACTIVATION_PATH = "/api/identity/activate"
#: Where the development OpenID provider is served, under the public base URL.
DEVELOPMENT_ISSUER_PATH = "/dev/idp"
#: Path of the portal page that activation mails link to (people open pages, not APIs):
#: the one place to change when the link should open another page.
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
        default="",
        description="Public address of the platform (scheme, host, port). Links in e-mails "
        "and the OIDC redirect URI are built from it, never from a request's Host header. "
        "Unset: SKAART_PUBLIC_BASE_URL.",
    )
    mail_public_key: str = Field(
        default_factory=development_public_key,
        description="notifications' public mail key (base64url): the address and the "
        "activation link in a mail request are sealed to it, so that only notifications "
        "can read them (`skaart mail-key new`). Required outside development.",
    )
    oidc_issuer: str = Field(
        default="",
        description="OpenID provider (the federal FAS in production; must be set outside "
        "development). Unset in development: the development provider this service "
        "serves, at the public base URL + `/dev/idp`.",
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
    redis_key_prefix: str | None = Field(
        default=None,
        description="Prefix of identity's own Redis keys (rate limits). Default: "
        "`skaart:identity:`, shared by identity's replicas; in development "
        "`skaart:identity:<instance>:`, one per data folder, so platforms sharing a Redis "
        "on one machine do not share their login counters.",
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
    email_lookup_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_EMAIL_LOOKUP_KEY),
        description="Keys the hash of each activated user's address on identity.profiles.v1; "
        "the same secret as FICHES_EMAIL_LOOKUP_KEY.",
    )
    signing_key_grace_s: int = Field(
        default=300,
        ge=0,
        description="After a rotation, how long a new key is announced before it is used.",
    )
    login_attempts_per_ip: int = Field(
        default=30,
        description="Logins (start and callback) per client address per window (the "
        "address behind SKAART_TRUSTED_PROXIES).",
    )
    email_requests_per_address: int = Field(
        default=3, description="Activation mails per e-mail address per window."
    )
    email_requests_per_session: int = Field(
        default=10, description="Activation mail requests per login session per window."
    )
    rate_limit_window_s: int = Field(default=3600, description="Window of the rate limits.")
    dev_idp_enabled: bool = Field(
        default=True,
        description="Serve the development OpenID provider under /dev/idp (development only).",
    )

    def resolved(self, platform: PlatformSettings) -> Settings:
        """These settings with every public address filled in from the platform's."""
        base = service_public_base_url(self.public_base_url, platform)
        return self.model_copy(
            update={
                "public_base_url": base,
                "oidc_issuer": self.oidc_issuer.rstrip("/") or base + DEVELOPMENT_ISSUER_PATH,
            }
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
        if self.email_lookup_key.get_secret_value() == DEVELOPMENT_EMAIL_LOOKUP_KEY:
            found.append("IDENTITY_EMAIL_LOOKUP_KEY is the development key")
        if self.session_cookie_secure is False:
            found.append("IDENTITY_SESSION_COOKIE_SECURE=false is allowed in development only")
        if not self.public_base_url.startswith("https://"):
            found.append(
                "IDENTITY_PUBLIC_BASE_URL (or SKAART_PUBLIC_BASE_URL) must be https "
                "outside development"
            )
        if not self.oidc_issuer or self.oidc_issuer.endswith(DEVELOPMENT_ISSUER_PATH):
            found.append("IDENTITY_OIDC_ISSUER must name the identity provider outside development")
        if self.redis_url == "memory://":
            found.append("IDENTITY_REDIS_URL=memory:// is allowed in development only")
        if is_development_key(self.mail_public_key):
            found.append("IDENTITY_MAIL_PUBLIC_KEY is the development key")
        return found

    def mail_sealing_key(self) -> SealingKey:
        """notifications' public key, to which addresses and links are sealed."""
        return SealingKey.from_text(self.mail_public_key)

    def key_prefix(self, platform: PlatformSettings) -> str:
        """The prefix of identity's own Redis keys (see `redis_key_prefix`)."""
        if self.redis_key_prefix is not None:
            return self.redis_key_prefix
        if platform.environment is not Environment.DEVELOPMENT:
            return "skaart:identity:"
        folder = str(platform.data_dir.resolve())
        return f"skaart:identity:{hashlib.sha256(folder.encode()).hexdigest()[:12]}:"

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
