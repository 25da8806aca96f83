"""identity's user profiles: who the platform's activated users are, by name."""

from __future__ import annotations

from contracts.events.identity import PROFILES_TOPIC, UserProfilePublished
from fiches.adapters.known_users import remember
from servicekit.messaging.inbox import Subscription


def profiles_subscription() -> Subscription:
    """The consumer group that keeps fiches' directory of known users."""
    return Subscription(
        name="identity-profiles",
        topics=(PROFILES_TOPIC,),
        handlers={UserProfilePublished: remember},
        description="Activated users' names and address hashes: naming managers and "
        "requesters, and granting rights to a known user only.",
    )
