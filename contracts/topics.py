"""The registry of every topic: the single source for topic creation, ACLs and docs.

Topics are never auto-created: `skaart topics create` (and monolithic mode) create them
from this table, and deploy/ generates Strimzi KafkaTopic and KafkaUser ACLs from it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from enum import StrEnum

from contracts.base import Event
from contracts.events import fiches, identity, invitations, notifications, registry


class Visibility(StrEnum):
    """Who may read a topic."""

    PUBLIC = "public"
    """Any subscribing agency; carries no personal identifiers."""
    INTERNAL = "internal"
    """Platform services only; no national register number, e-mail or token."""
    RESTRICTED = "restricted"
    """Personal data: only the consumers named in the registry may read it."""


SERVICES = ("identity", "fiches", "invitations", "registry-sync", "notifications", "directory")

_WEEK_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    """One topic: its name, key, producer, readers and storage settings."""

    name: str
    key: str
    producer: str
    consumers: tuple[str, ...]
    visibility: Visibility
    description: str
    events: tuple[type[Event], ...] = ()
    partitions: int = 6
    retention_ms: int = 4 * _WEEK_MS
    cleanup_policy: str = "delete"
    min_insync_replicas: int = 2
    external_readers: bool = field(default=False)
    """Agencies outside the platform may subscribe (only public topics)."""


def _dead_letter(service: str) -> TopicSpec:
    return TopicSpec(
        name=f"deadletter.{service}.v1",
        key="the original message's key",
        producer=service,
        consumers=(),
        visibility=Visibility.RESTRICTED,
        description=(
            f"Messages {service} could not process after its retries, with the error and "
            "the original topic, partition and offset in headers. Read by operators."
        ),
        partitions=1,
        retention_ms=4 * _WEEK_MS,
    )


_TOPIC_LIST: tuple[TopicSpec, ...] = (
    TopicSpec(
        name=registry.PROFESSIONALS_TOPIC,
        key="professional_id",
        producer="registry-sync",
        consumers=("fiches", "identity"),
        visibility=Visibility.PUBLIC,
        external_readers=True,
        description="Healthcare professionals in the authentic source: registered, updated, "
        "status changed, removed.",
        events=(
            registry.ProfessionalRegistered,
            registry.ProfessionalUpdated,
            registry.ProfessionalStatusChanged,
            registry.ProfessionalRemoved,
        ),
    ),
    TopicSpec(
        name=registry.IDENTITIES_TOPIC,
        key="professional_id",
        producer="registry-sync",
        consumers=("identity",),
        visibility=Visibility.RESTRICTED,
        description="Keyed hash of the national register number paired with professional_id.",
        events=(registry.ProfessionalIdentified,),
        cleanup_policy="compact",
        retention_ms=-1,
    ),
    TopicSpec(
        name=identity.USERS_TOPIC,
        key="user_id",
        producer="identity",
        consumers=("notifications",),
        visibility=Visibility.RESTRICTED,
        description="E-mail verification requested (address and activation link, sealed for "
        "notifications); profile activated (sealed address and language, notifications' "
        "address book).",
        events=(
            identity.ActivationMailRequested,
            identity.ProfileActivated,
            identity.EmailVerificationRequested,
            identity.UserActivated,
        ),
    ),
    TopicSpec(
        name=identity.PROFILES_TOPIC,
        key="user_id",
        producer="identity",
        consumers=("fiches",),
        visibility=Visibility.RESTRICTED,
        description="Activated users' names and a keyed hash of their address (never the "
        "address): fiches names managers and finds whom a manager grants rights to.",
        events=(identity.UserProfilePublished,),
        cleanup_policy="compact",
        retention_ms=-1,
    ),
    TopicSpec(
        name=identity.SIGNING_KEYS_TOPIC,
        key="kid",
        producer="identity",
        consumers=("fiches", "invitations"),
        visibility=Visibility.INTERNAL,
        description="Public keys that verify identity's access tokens, announced before use.",
        events=(identity.SigningKeyPublished,),
        partitions=1,
        cleanup_policy="compact",
        retention_ms=-1,
    ),
    TopicSpec(
        name=fiches.PROVIDERS_TOPIC,
        key="provider fiche id",
        producer="fiches",
        consumers=("directory",),
        visibility=Visibility.PUBLIC,
        external_readers=True,
        description="Provider fiches published, updated and depublished.",
        events=(
            fiches.ProviderFichePublished,
            fiches.ProviderFicheUpdated,
            fiches.ProviderFicheDepublished,
        ),
    ),
    TopicSpec(
        name=fiches.PRACTICES_TOPIC,
        key="practice fiche id",
        producer="fiches",
        consumers=("directory",),
        visibility=Visibility.PUBLIC,
        external_readers=True,
        description="Practice fiches published, updated and depublished (published versions).",
        events=(
            fiches.PracticeFichePublished,
            fiches.PracticeFicheUpdated,
            fiches.PracticeFicheDepublished,
        ),
    ),
    TopicSpec(
        name=fiches.OFFERS_TOPIC,
        key="practice fiche id",
        producer="fiches",
        consumers=("directory",),
        visibility=Visibility.PUBLIC,
        external_readers=True,
        description="Offers linked to and unlinked from practices' published offer blocks.",
        events=(fiches.OfferLinked, fiches.OfferUnlinked),
    ),
    TopicSpec(
        name=fiches.MANAGERS_TOPIC,
        key="practice fiche id",
        producer="fiches",
        consumers=("invitations",),
        visibility=Visibility.INTERNAL,
        description="Who manages each practice fiche, and whose offers it links.",
        events=(fiches.PracticeManagersChanged,),
        cleanup_policy="compact",
        retention_ms=-1,
    ),
    TopicSpec(
        name=fiches.REQUESTS_TOPIC,
        key="request id",
        producer="fiches",
        consumers=("notifications",),
        visibility=Visibility.INTERNAL,
        description="Link, rights, change, removal and source-error requests and decisions.",
        events=(fiches.RequestSubmitted, fiches.RequestDecided),
    ),
    TopicSpec(
        name=fiches.EXPORTS_TOPIC,
        key="export id",
        producer="fiches",
        consumers=("notifications",),
        visibility=Visibility.RESTRICTED,
        description="Exports ready: the signed download link to mail to the requester.",
        events=(fiches.ExportReady,),
        partitions=1,
    ),
    TopicSpec(
        name=invitations.INVITATIONS_TOPIC,
        key="invitation id",
        producer="invitations",
        consumers=("fiches",),
        visibility=Visibility.PUBLIC,
        external_readers=True,
        description="Invitations issued (without token), accepted, declined, revoked, expired.",
        events=(
            invitations.InvitationIssued,
            invitations.InvitationAccepted,
            invitations.InvitationDeclined,
            invitations.InvitationRevoked,
            invitations.InvitationExpired,
        ),
    ),
    TopicSpec(
        name=invitations.DELIVERIES_TOPIC,
        key="invitation id",
        producer="invitations",
        consumers=("notifications",),
        visibility=Visibility.RESTRICTED,
        description="Invitation e-mails to send (the link with its token and the address, "
        "sealed for notifications), and outcomes to tell the inviter.",
        events=(
            invitations.InviteeMailRequested,
            invitations.InviterNotificationRequested,
            invitations.InvitationMailRequested,
        ),
    ),
    TopicSpec(
        name=notifications.DELIVERIES_TOPIC,
        key="delivery id",
        producer="notifications",
        consumers=(),
        visibility=Visibility.INTERNAL,
        description="E-mail deliveries sent or failed (for operators; no address, no link).",
        events=(notifications.DeliverySucceeded, notifications.DeliveryFailed),
    ),
    *(_dead_letter(service) for service in SERVICES),
)

TOPICS: dict[str, TopicSpec] = {spec.name: spec for spec in _TOPIC_LIST}


def dead_letter_topic(service: str) -> str:
    """The dead-letter topic of a consuming service."""
    return f"deadletter.{service}.v1"


@functools.cache
def topic_for_event(event_class: type[Event]) -> TopicSpec:
    """The topic an event class is published on; fails loudly for an undeclared pairing."""
    spec = TOPICS.get(event_class.topic)
    if spec is None or event_class not in spec.events:
        raise LookupError(f"{event_class.__name__} is not declared on any topic in contracts")
    return spec
