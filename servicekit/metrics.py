"""Prometheus metrics every service exposes (label `service` keeps monolithic mode readable)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_CONSUMED = Counter(
    "skaart_messages_consumed_total",
    "Messages whose effect was committed.",
    ["service", "consumer", "topic"],
)
MESSAGES_DUPLICATE = Counter(
    "skaart_messages_duplicate_total",
    "Redelivered messages skipped by the inbox (already applied).",
    ["service", "consumer", "topic"],
)
MESSAGES_IGNORED = Counter(
    "skaart_messages_ignored_total",
    "Messages of an event type this consumer does not handle.",
    ["service", "consumer", "topic"],
)
MESSAGES_FAILED = Counter(
    "skaart_messages_failed_total",
    "Failed handling attempts (each retry counts).",
    ["service", "consumer", "topic"],
)
MESSAGES_DEAD_LETTERED = Counter(
    "skaart_messages_dead_lettered_total",
    "Messages parked on the dead-letter topic after their retries.",
    ["service", "consumer", "topic"],
)
BATCH_SECONDS = Histogram(
    "skaart_consumer_batch_seconds",
    "Time to apply one consumed batch, database commit included.",
    ["service", "consumer"],
)
OUTBOX_PUBLISHED = Counter(
    "skaart_outbox_published_total", "Outbox rows published to the broker.", ["service"]
)
OUTBOX_LAG = Gauge("skaart_outbox_lag", "Outbox rows committed but not yet published.", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "skaart_outbox_oldest_age_seconds",
    "Age of the oldest unpublished outbox row (0 when empty).",
    ["service"],
)
OUTBOX_REFUSED = Counter(
    "skaart_outbox_refused_total",
    "Outbox events the broker refused for good (too large, invalid), moved to outbox_refused.",
    ["service", "topic"],
)
OUTBOX_RELAY_ACTIVE = Gauge(
    "skaart_outbox_relay_active",
    "1 in the process whose relay publishes the service's outbox, 0 in a standby.",
    ["service"],
)
