"""What invitations consumes: each Kafka subscription, its topics and the handler of each
event, as `entrypoints/http.py` declares the routes. The handlers are plain use cases.
"""

from __future__ import annotations

from contracts.events.fiches import MANAGERS_TOPIC, PracticeManagersChanged
from invitations.adapters.tables import signing_keys
from invitations.handlers.managers_view import practice_managers_changed
from servicekit.auth import signing_key_subscription
from servicekit.messaging.inbox import Subscription


def practice_managers() -> Subscription:
    """fiches.managers.v1: who manages each practice, kept as invitations' own view."""
    return Subscription(
        name="practice-managers",
        topics=(MANAGERS_TOPIC,),
        handlers={PracticeManagersChanged: practice_managers_changed},
        description="Who manages each practice fiche, and whose offers it links.",
    )


def subscriptions(service: str) -> list[Subscription]:
    """Every consumer group of invitations (`service`: its name, the group ids' prefix)."""
    return [
        practice_managers(),
        # identity.signing-keys.v1: the public keys that verify access tokens locally.
        signing_key_subscription(service, signing_keys),
    ]
