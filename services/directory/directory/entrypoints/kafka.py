"""The directory's consumer group on the three public topics, as an agency would read them."""

from __future__ import annotations

from contracts.events.fiches import OFFERS_TOPIC, PRACTICES_TOPIC, PROVIDERS_TOPIC
from directory.handlers.projection import DirectoryProjection
from servicekit.messaging.inbox import Subscription

PUBLIC_TOPICS = (PROVIDERS_TOPIC, PRACTICES_TOPIC, OFFERS_TOPIC)

BATCH_SIZE = 2_000
"""Most records per batch: a catching-up directory records facts in few transactions."""

DEFER_FROM = BATCH_SIZE // 2
"""A batch at least half full means the consumer is behind (a live directory gets a few
events per poll): its fiches are rebuilt once the backlog is applied (`projection_pending`)."""


def projection_subscription(projection: DirectoryProjection) -> Subscription:
    """Group `directory.projection`: the public topics -> the directory's read model."""
    return Subscription(
        name="projection",
        topics=PUBLIC_TOPICS,
        handlers=projection.handlers(),
        description="fiches' public topics (published fiches and offers) -> the public "
        "directory: search, FHIR, HSDS",
        after_batch=projection.after_batch,
        batch_size=BATCH_SIZE,
    )
