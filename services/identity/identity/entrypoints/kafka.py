"""What identity consumes: each subscription's topics and the use cases that handle them.

`registry.identities.v1` and `registry.professionals.v1` keep identity's eligibility view
(`handlers/registry_events.py`); after each batch of the professionals topic, in its
transaction, `SessionRights` ends the open professional sessions the batch's changes no
longer back.
"""

from __future__ import annotations

from contracts.events.registry import (
    IDENTITIES_TOPIC,
    PROFESSIONALS_TOPIC,
    ProfessionalIdentified,
    ProfessionalRegistered,
    ProfessionalRemoved,
    ProfessionalStatusChanged,
    ProfessionalUpdated,
)
from identity.handlers import registry_events
from identity.handlers.session_rights import SessionRights
from servicekit.messaging.inbox import Subscription


def subscriptions(rights: SessionRights) -> list[Subscription]:
    """identity's consumer groups (`identity.<name>`)."""
    return [
        Subscription(
            name="registry-identities",
            topics=(IDENTITIES_TOPIC,),
            handlers={ProfessionalIdentified: registry_events.professional_identified},
            description="Keyed national-register hashes of professionals, for login.",
        ),
        Subscription(
            name="registry-professionals",
            topics=(PROFESSIONALS_TOPIC,),
            handlers={
                ProfessionalRegistered: registry_events.professional_facts,
                ProfessionalUpdated: registry_events.professional_facts,
                ProfessionalStatusChanged: registry_events.professional_status_changed,
                ProfessionalRemoved: registry_events.professional_removed,
            },
            description="Who may practise what: the professional login check, and the "
            "open professional sessions it ends.",
            after_batch=rights.after_registry_batch,
        ),
    ]
