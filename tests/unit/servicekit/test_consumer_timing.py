"""Every consumer group's session timeout and heartbeat come from the Kafka settings."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from faststream.kafka import KafkaBroker

from servicekit.messaging.subscribers import register_batch_subscriber
from servicekit.settings import KafkaSettings


def _connection_args(settings: KafkaSettings) -> dict[str, Any]:
    broker = KafkaBroker("127.0.0.1:1")
    consumer: Any = SimpleNamespace(subscription=SimpleNamespace(batch_size=None))
    register_batch_subscriber(
        broker, consumer, group_id="g", topics=("t",), settings=settings, description="d"
    )
    (subscriber,) = broker.subscribers
    return dict(subscriber._connection_args)  # type: ignore[attr-defined]


def test_the_defaults_are_aiokafkas() -> None:
    args = _connection_args(KafkaSettings(bootstrap_servers="127.0.0.1:1"))
    assert (args["session_timeout_ms"], args["heartbeat_interval_ms"]) == (10_000, 3_000)


def test_a_deployment_sets_them_from_the_environment(monkeypatch: Any) -> None:
    monkeypatch.setenv("KAFKA_CONSUMER_SESSION_TIMEOUT_MS", "45000")
    monkeypatch.setenv("KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS", "15000")
    args = _connection_args(KafkaSettings(bootstrap_servers="127.0.0.1:1"))
    assert (args["session_timeout_ms"], args["heartbeat_interval_ms"]) == (45_000, 15_000)
