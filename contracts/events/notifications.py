"""Events notifications publishes about e-mail deliveries (internal: no address, no link)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from contracts.base import EVENT_TYPE_PREFIX, Event

DELIVERIES_TOPIC = "notifications.deliveries.v1"


class DeliveryOutcome(StrEnum):
    """How a delivery ended."""

    SENT = "sent"
    FAILED = "failed"


class _DeliveryFacts(Event):
    delivery_id: str = Field(description="notifications' id of the delivery.")
    source_event_type: str = Field(
        description="CloudEvents type of the event that asked for the message."
    )
    source_id: str = Field(
        description="The id that event names for what it asks (verification_id, request_id, "
        "export_id or invitation_id), so an operator can trace the message back to it."
    )
    template: str = Field(description="Template name, e.g. `email_verification`.")
    attempts: int = Field(description="SMTP attempts made.")
    occurred_at: datetime = Field(description="When the delivery ended.")

    def partition_key(self) -> str:
        return self.delivery_id


class DeliverySucceeded(_DeliveryFacts):
    """The SMTP relay accepted the message."""

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "notifications.DeliverySucceeded"
    topic: ClassVar[str] = DELIVERIES_TOPIC


class DeliveryFailed(_DeliveryFacts):
    """Every attempt failed; the message was not sent."""

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "notifications.DeliveryFailed"
    topic: ClassVar[str] = DELIVERIES_TOPIC

    error: str = Field(description="The last SMTP error, without the recipient's address.")
