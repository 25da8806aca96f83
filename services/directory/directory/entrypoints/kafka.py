"""The directory's consumer group on the three public topics, as an agency would read them."""

from __future__ import annotations

from contracts.events.fiches import OFFERS_TOPIC, PRACTICES_TOPIC, PROVIDERS_TOPIC
from directory.handlers.projection import DirectoryProjection
from servicekit.messaging.inbox import Subscription

PUBLIC_TOPICS = (PROVIDERS_TOPIC, PRACTICES_TOPIC, OFFERS_TOPIC)


def projection_subscription(projection: DirectoryProjection) -> Subscription:
    """Group `directory.projection`: the public topics -> the directory's read model."""
    return Subscription(
        name="projection",
        topics=PUBLIC_TOPICS,
        handlers=projection.handlers(),
        description="fiches' public topics (published fiches and offers) -> the public "
        "directory: search, FHIR, HSDS",
        after_batch=projection.after_batch,
    )
