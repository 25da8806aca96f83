"""What identity consumes: each subscription's topics and the use cases that handle them.

`registry.identities.v1` and `registry.professionals.v1` keep identity's eligibility view
(`handlers/registry_events.py`); after each batch of the professionals topic, in its
transaction, `SessionRights` ends the open professional sessions the batch's changes no
longer back. The professionals topic is read twice: in order (every fact), and ahead of
any backlog for status changes and removals only, so a stop ends the sessions at once.
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
from servicekit.messaging.inbox import READ_AHEAD_BATCH_SIZE, Subscription, kept_apart


def subscriptions(rights: SessionRights, database_url: str) -> list[Subscription]:
    """identity's consumer groups (`identity.<name>`).

    Both professionals groups write for the same people: on SQLite they take turns
    (`kept_apart`); on PostgreSQL the read-ahead group only inserts rows of its own, which
    the in-order group deletes once it applied them, and a row left behind by a race is
    older than the facts and ignored.
    """
    in_order, ahead = kept_apart(
        database_url, _professionals_in_order(rights), _stops_read_ahead(rights)
    )
    return [
        Subscription(
            name="registry-identities",
            topics=(IDENTITIES_TOPIC,),
            handlers={ProfessionalIdentified: registry_events.professional_identified},
            description="Keyed national-register hashes of professionals, for login.",
        ),
        in_order,
        ahead,
    ]


def _professionals_in_order(rights: SessionRights) -> Subscription:
    return Subscription(
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
    )


def _stops_read_ahead(rights: SessionRights) -> Subscription:
    return Subscription(
        name="registry-stops",
        topics=(PROFESSIONALS_TOPIC,),
        handlers={
            ProfessionalStatusChanged: registry_events.change_read_ahead,
            ProfessionalRemoved: registry_events.change_read_ahead,
        },
        description="Ends the sessions of stopped professionals ahead of queued registrations.",
        after_batch=rights.after_registry_batch,
        # A record it cannot apply is the in-order group's to park: one dead letter each.
        parks_failures=False,
        batch_size=READ_AHEAD_BATCH_SIZE,
    )
