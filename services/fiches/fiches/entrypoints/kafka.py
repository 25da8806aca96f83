"""Everything fiches consumes: one subscription (consumer group) per line of business.

Each maps the topics it reads to the use case that applies each event type, as the
`http*` modules map paths to use cases. The group id is `fiches.<name>`.
"""

from __future__ import annotations

from contracts.events.identity import PROFILES_TOPIC, UserProfilePublished
from contracts.events.invitations import InvitationAccepted
from contracts.events.registry import (
    ProfessionalRegistered,
    ProfessionalRemoved,
    ProfessionalStatusChanged,
    ProfessionalUpdated,
)
from fiches.adapters.tables import trusted_signing_keys
from fiches.handlers.identity_events import profile_published
from fiches.handlers.invitation_events import InvitationEventHandlers
from fiches.handlers.registry_events import RegistryEventHandlers
from servicekit.auth import signing_key_subscription
from servicekit.messaging.inbox import READ_AHEAD_BATCH_SIZE, Subscription, kept_apart
from servicekit.messaging.outbox import Outbox

SERVICE = "fiches"
IN_ORDER_TURN = 100
"""Where the two registry groups take turns on one lock (SQLite), the in-order group
applies at most this many events per transaction: a stop read ahead waits for about
40 ms of registrations, not for a whole batch of 500."""


def registry_subscription(outbox: Outbox) -> Subscription:
    """registry.professionals.v1: provider fiches follow the authentic source, in order."""
    handlers = RegistryEventHandlers(outbox)
    return Subscription(
        name="registry-professionals",
        topics=(ProfessionalRegistered.topic,),
        handlers={
            ProfessionalRegistered: handlers.professional_registered,
            ProfessionalUpdated: handlers.professional_updated,
            ProfessionalStatusChanged: handlers.professional_status_changed,
            ProfessionalRemoved: handlers.professional_removed,
        },
        description="Keeps provider fiches in step with the authentic source.",
        # One query loads every fiche a batch touches; one write per kind stores them.
        before_batch=handlers.before_batch,
        after_batch=handlers.after_batch,
        # A stop in the source takes the fiche off the map first: it does not wait for
        # the registrations fetched with it.
        urgent=frozenset({ProfessionalStatusChanged, ProfessionalRemoved}),
        turn_size=IN_ORDER_TURN,
    )


def registry_stops_subscription(outbox: Outbox) -> Subscription:
    """registry.professionals.v1 again, in a group of its own that reads ahead: stops only.

    The in-order group can be minutes behind while a national import is consumed; a
    status change queued behind those registrations would wait for all of them. This
    group skips every other event by its type header (no decoding), so it stays at the
    head of the topic and takes a stopped provider off the map within a second. The
    in-order group still applies each stop in its turn (facts and version), and finds the
    fiche already depublished: one `ProviderFicheDepublished`, not two.
    """
    handlers = RegistryEventHandlers(outbox)
    return Subscription(
        name="registry-stops",
        topics=(ProfessionalStatusChanged.topic,),
        handlers={
            ProfessionalStatusChanged: handlers.stop_read_ahead,
            ProfessionalRemoved: handlers.stop_read_ahead,
        },
        description="Takes stopped providers off the map ahead of queued registrations.",
        before_batch=handlers.before_batch,
        after_batch=handlers.after_batch,
        # A record it cannot apply is the in-order group's to park: one dead letter each.
        parks_failures=False,
        # Most records are skipped unread: large batches keep it ahead even when it must
        # take turns with the in-order group (SQLite), one batch each.
        batch_size=READ_AHEAD_BATCH_SIZE,
    )


def invitations_subscription(outbox: Outbox) -> Subscription:
    """invitations.invitations.v1: an accepted invitation links the invitee's offers."""
    handlers = InvitationEventHandlers(outbox)
    return Subscription(
        name="invitations",
        topics=(InvitationAccepted.topic,),
        handlers={InvitationAccepted: handlers.invitation_accepted},
        description="Links invitees' offers to the inviting practice.",
    )


def profiles_subscription() -> Subscription:
    """identity.profiles.v1: fiches' directory of known users."""
    return Subscription(
        name="identity-profiles",
        topics=(PROFILES_TOPIC,),
        handlers={UserProfilePublished: profile_published},
        description="Activated users' names and address hashes: naming managers and "
        "requesters, and granting rights to a known user only.",
    )


def subscriptions(outbox: Outbox, database_url: str) -> list[Subscription]:
    """Every subscription of fiches, in the order the component subscribes them.

    Both registry groups change the same fiches: kept apart by the row locks a batch takes
    when it loads its fiches, or, on SQLite, by taking turns (`kept_apart`).
    """
    return [
        *kept_apart(
            database_url, registry_subscription(outbox), registry_stops_subscription(outbox)
        ),
        # identity.signing-keys.v1: the public keys access tokens are verified with.
        signing_key_subscription(SERVICE, trusted_signing_keys),
        invitations_subscription(outbox),
        profiles_subscription(),
    ]
