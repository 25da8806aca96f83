"""CloudEvents 1.0 metadata, carried in Kafka headers (the binary content mode).

Every message on every topic has these headers; the Kafka value is the event's JSON and
the Kafka key is the aggregate id. Binary mode keeps the value equal to the event schema
in `contracts/schemas/`, so a consumer validates the value without unwrapping it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"

# Kafka protocol binding for CloudEvents: attribute X travels as header `ce_X`.
_HEADER_PREFIX = "ce_"


def binary_headers(
    *,
    event_id: str,
    source: str,
    event_type: str,
    subject: str,
    time: datetime,
    correlation_id: str | None = None,
) -> list[tuple[str, str]]:
    """The Kafka headers of one event, as text (binary content mode)."""
    headers = [
        ("ce_specversion", SPEC_VERSION),
        ("ce_id", event_id),
        ("ce_source", source),
        ("ce_type", event_type),
        ("ce_subject", subject),
        ("ce_time", time.isoformat()),
        ("content-type", CONTENT_TYPE),
    ]
    if correlation_id:
        headers.append(("ce_correlationid", correlation_id))
    return headers


class Envelope(BaseModel):
    """The CloudEvents context attributes of one message."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(
        default_factory=lambda: str(uuid.uuid4()),
        description="Unique per event; consumers deduplicate on it.",
    )
    source: str = Field(description="URI reference of the producing service, e.g. /skaart/fiches.")
    type: str = Field(
        description="Event type, e.g. be.socialekaart.fiches.ProviderFicheDepublished."
    )
    subject: str = Field(description="The aggregate the event is about; equals the Kafka key.")
    time: datetime = Field(
        default_factory=lambda: datetime.now(UTC), description="When the event happened."
    )
    specversion: str = Field(default=SPEC_VERSION, description="CloudEvents version.")
    correlationid: str | None = Field(
        default=None,
        description="Extension attribute: the request or run that caused this event.",
    )

    def to_headers(self) -> list[tuple[str, bytes]]:
        """Kafka headers for this envelope (binary content mode)."""
        text = binary_headers(
            event_id=self.id,
            source=self.source,
            event_type=self.type,
            subject=self.subject,
            time=self.time,
            correlation_id=self.correlationid,
        )
        return [(name, value.encode()) for name, value in text]

    @classmethod
    def from_headers(
        cls, headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...]
    ) -> Envelope:
        """Read an envelope from Kafka headers; raises ValueError naming what is missing."""
        attributes: dict[str, str] = {}
        for name, value in headers:
            if name.startswith(_HEADER_PREFIX) and value is not None:
                attributes[name[len(_HEADER_PREFIX) :]] = value.decode("utf-8", "replace")
        missing = [a for a in ("id", "source", "type", "subject", "time") if a not in attributes]
        if missing:
            raise ValueError(
                f"message lacks CloudEvents header(s): {', '.join('ce_' + m for m in missing)}"
            )
        if attributes.get("specversion", SPEC_VERSION) != SPEC_VERSION:
            raise ValueError(f"unsupported CloudEvents specversion {attributes['specversion']!r}")
        return cls.model_validate(attributes)
