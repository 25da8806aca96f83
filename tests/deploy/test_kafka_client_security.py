"""Production client security: verified TLS with SCRAM, and no plaintext outside development."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from servicekit.messaging.kafka_clients import security_options
from servicekit.settings import Environment, KafkaSettings, PlatformSettings
from skaart.monolith import choose_broker

CA = Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")


def test_sasl_ssl_uses_a_verifying_context_with_the_configured_ca() -> None:
    if not CA.exists():
        pytest.skip("no CA bundle on this machine to load")
    settings = KafkaSettings(
        environment=Environment.PRODUCTION,
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="skaart-fiches",
        sasl_password=SecretStr("s3cret"),
        ssl_cafile=CA,
    )
    options = security_options(settings)
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname is True
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert context.cert_store_stats()["x509_ca"] > 0, "the CA file was not loaded"
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "skaart-fiches"
    assert options["sasl_plain_password"] == "s3cret"


def test_a_missing_ca_file_is_an_error_not_an_unverified_connection(tmp_path: Path) -> None:
    settings = KafkaSettings(
        environment=Environment.PRODUCTION,
        security_protocol="SASL_SSL",
        sasl_username="u",
        sasl_password=SecretStr("p"),
        ssl_cafile=tmp_path / "missing.crt",
    )
    with pytest.raises(OSError):
        security_options(settings)


def test_plaintext_is_refused_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKAART_ENVIRONMENT", "production")
    monkeypatch.delenv("KAFKA_SECURITY_PROTOCOL", raising=False)
    with pytest.raises(ValidationError, match="PLAINTEXT is refused outside development"):
        KafkaSettings()
    with pytest.raises(ValidationError, match="PLAINTEXT is refused"):
        KafkaSettings(environment=Environment.PRODUCTION, security_protocol="PLAINTEXT")


def test_sasl_without_credentials_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="needs KAFKA_SASL_USERNAME"):
        KafkaSettings(environment=Environment.PRODUCTION, security_protocol="SASL_SSL")


def test_plaintext_is_allowed_in_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SKAART_ENVIRONMENT", raising=False)
    assert KafkaSettings().security_protocol == "PLAINTEXT"
    monkeypatch.setenv("SKAART_ENVIRONMENT", "development")
    assert security_options(KafkaSettings()) == {"security_protocol": "PLAINTEXT"}


def test_the_environment_comes_from_skaart_environment_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SKAART_ENVIRONMENT", "production")
    monkeypatch.setenv("KAFKA_ENVIRONMENT", "development")
    with pytest.raises(ValidationError):
        KafkaSettings()


async def test_the_embedded_broker_is_refused_outside_development(tmp_path: Path) -> None:
    platform = PlatformSettings(environment=Environment.PRODUCTION, data_dir=tmp_path)
    kafka = KafkaSettings(environment=Environment.DEVELOPMENT, bootstrap_servers=None)
    with pytest.raises(RuntimeError, match="embedded broker runs only in development"):
        await choose_broker(platform, kafka)
    assert not (tmp_path / "broker.log").exists()


async def test_monolithic_mode_gives_the_embedded_brokers_consumers_a_short_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its consumer groups form in 1.5 s instead of 5 s; a session the environment sets
    is kept."""
    platform = PlatformSettings(environment=Environment.DEVELOPMENT, data_dir=tmp_path)
    chosen = await choose_broker(platform, KafkaSettings(bootstrap_servers=None))
    try:
        assert chosen.embedded is not None
        assert chosen.kafka.consumer_session_timeout_ms == 3_000
        assert chosen.kafka.consumer_heartbeat_interval_ms == 1_000
    finally:
        if chosen.embedded:
            chosen.embedded.stop()

    monkeypatch.setenv("KAFKA_CONSUMER_SESSION_TIMEOUT_MS", "12000")
    chosen = await choose_broker(platform, KafkaSettings(bootstrap_servers=None))
    try:
        assert chosen.kafka.consumer_session_timeout_ms == 12_000
        assert chosen.kafka.consumer_heartbeat_interval_ms == 1_000
    finally:
        if chosen.embedded:
            chosen.embedded.stop()
