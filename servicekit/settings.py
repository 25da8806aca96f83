"""Settings shared by every service, read from environment variables.

Every default is the embedded one (a laptop in monolithic mode): nothing is read at
import time; a service's factory builds its settings object and passes it down.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    """Development enables the embedded broker and development-only helpers."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


class PlatformSettings(BaseSettings):
    """Settings that hold for the whole platform (prefix `SKAART_`)."""

    model_config = SettingsConfigDict(env_prefix="SKAART_", extra="ignore")

    environment: Environment = Field(
        default=Environment.DEVELOPMENT,
        description="`development` allows the embedded broker and plaintext Kafka.",
    )
    data_dir: Path = Field(
        default=Path(".skaart"),
        description="Where monolithic mode keeps its SQLite files and runtime state.",
    )
    log_level: str = Field(default="INFO", description="Root log level.")
    log_format: Literal["json", "console"] = Field(
        default="json", description="`json` for machines (the default), `console` for people."
    )
    http_host: str = Field(default="127.0.0.1", description="HTTP listen address.")
    http_port: int = Field(default=8000, description="HTTP listen port.")
    public_base_url: str = Field(
        default="",
        description="Address people reach the platform at (scheme, host, port: the "
        "gateway's in production). Every public address defaults from it: links in "
        "e-mails, the login redirect URI, download links, the development identity "
        "provider's issuer, the directory's FHIR and HSDS links (unset, those follow "
        "each request). Unset: `http://` + SKAART_HTTP_HOST + `:` + SKAART_HTTP_PORT "
        "(127.0.0.1 when listening on every interface). A service's own "
        "`*_PUBLIC_BASE_URL` still overrides it for that service.",
    )

    @property
    def public_url(self) -> str:
        """`public_base_url`, or the listening address; without a trailing slash."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        host = self.http_host
        if host in ("", "0.0.0.0", "::"):  # noqa: S104  (a wildcard is not an address to visit)
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.http_port}"

    @property
    def is_development(self) -> bool:
        """Development helpers (embedded broker, local mail, identity provider) allowed."""
        return self.environment is Environment.DEVELOPMENT


class InsecureKafkaSettings(ValueError):
    """Kafka settings that are acceptable in development only."""


class KafkaSettings(BaseSettings):
    """How to reach the broker (prefix `KAFKA_`).

    Outside development (`SKAART_ENVIRONMENT`), plaintext connections are refused: the
    broker is reached over TLS, which is verified (`security_options`), and SASL needs a
    user and a password.
    """

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore", populate_by_name=True)

    environment: Environment = Field(
        default=Environment.DEVELOPMENT,
        validation_alias="SKAART_ENVIRONMENT",
        description="The platform's environment (read from SKAART_ENVIRONMENT).",
    )

    bootstrap_servers: str | None = Field(
        default=None,
        description="Broker list. Unset in monolithic mode: the embedded broker is started.",
    )
    enable_idempotence: bool = Field(
        default=True,
        description="Idempotent producer. On for Apache Kafka; the embedded broker refuses "
        "it (InitProducerId), so monolithic mode turns it off.",
    )
    security_protocol: Literal["PLAINTEXT", "SASL_SSL", "SSL"] = Field(
        default="PLAINTEXT", description="PLAINTEXT only in development."
    )
    sasl_mechanism: str = Field(default="SCRAM-SHA-512", description="SASL mechanism.")
    sasl_username: str | None = Field(default=None, description="SASL user (the service's).")
    sasl_password: SecretStr | None = Field(default=None, description="SASL password.")
    ssl_cafile: Path | None = Field(default=None, description="CA bundle to verify the broker.")
    replication_factor: int = Field(
        default=1, description="Replication factor used when this platform creates topics."
    )
    consumer_batch_size: int = Field(default=500, description="Max records per consumed batch.")
    consumer_session_timeout_ms: int = Field(
        default=10_000,
        description="How long the broker waits for a consumer's heartbeat before it gives "
        "the consumer's partitions to another member of its group (aiokafka's default). "
        "The embedded broker also holds a new group's first join for half of it.",
    )
    consumer_heartbeat_interval_ms: int = Field(
        default=3_000,
        description="Heartbeats to the group coordinator; keep it under a third of the "
        "session timeout (aiokafka's default).",
    )
    handler_max_attempts: int = Field(
        default=4, description="Attempts per failing message before it is dead-lettered."
    )
    handler_retry_backoff_s: float = Field(
        default=0.2, description="First retry delay; doubles per attempt."
    )

    @model_validator(mode="after")
    def _refuse_insecure_outside_development(self) -> KafkaSettings:
        if self.environment is Environment.DEVELOPMENT:
            return self
        if self.security_protocol == "PLAINTEXT":
            raise InsecureKafkaSettings(
                "KAFKA_SECURITY_PROTOCOL=PLAINTEXT is refused outside development "
                f"(SKAART_ENVIRONMENT={self.environment.value}): use SASL_SSL"
            )
        if self.security_protocol == "SASL_SSL" and (
            not self.sasl_username or self.sasl_password is None
        ):
            raise InsecureKafkaSettings(
                "KAFKA_SECURITY_PROTOCOL=SASL_SSL needs KAFKA_SASL_USERNAME and "
                "KAFKA_SASL_PASSWORD outside development"
            )
        return self


def service_public_base_url(configured: str, platform: PlatformSettings) -> str:
    """A service's own public base URL when it sets one, else the platform's."""
    return configured.rstrip("/") if configured else platform.public_url


def sqlite_url(data_dir: Path, service: str) -> str:
    """The embedded default: one SQLite file per service under the data folder."""
    return f"sqlite+aiosqlite:///{(data_dir / f'{service}.db').resolve()}"


class MissingDatabaseUrl(ValueError):
    """A service outside development without its database URL."""


def service_database_url(service: str, configured: str | None, platform: PlatformSettings) -> str:
    """The configured database URL, or in development the service's own SQLite file.

    Outside development a missing URL is refused: the SQLite file would live in the
    pod's temporary folder, lost with the pod, each replica with a database of its own
    (and readiness would still say ready). A SQLite URL given explicitly is taken."""
    if configured:
        return configured
    if not platform.is_development:
        setting = f"{service.upper().replace('-', '_')}_DATABASE_URL"
        raise MissingDatabaseUrl(
            f"{setting} is not set: outside development (SKAART_ENVIRONMENT="
            f"{platform.environment}) {service} needs its own database; set {setting} to its "
            "PostgreSQL URL (postgresql+asyncpg://...), from the service's Secret"
        )
    return sqlite_url(platform.data_dir, service.replace("-", "_"))
