"""entrypoints/kafka.py is the one place that says what fiches consumes."""

from __future__ import annotations

from pathlib import Path

from contracts.events.identity import PROFILES_TOPIC, UserProfilePublished
from contracts.events.invitations import InvitationAccepted
from contracts.events.registry import (
    ProfessionalRegistered,
    ProfessionalRemoved,
    ProfessionalStatusChanged,
)
from fiches.config import FichesSettings
from fiches.entrypoints.app import FichesComponent, build_component
from fiches.entrypoints.kafka import registry_subscription, subscriptions
from servicekit.auth import AuthSettings
from servicekit.messaging.inbox import Subscription
from servicekit.settings import KafkaSettings, PlatformSettings
from tests.support.auth import TokenSigner


def _component(tmp_path: Path) -> FichesComponent:
    return build_component(
        PlatformSettings(data_dir=tmp_path / "data"),
        KafkaSettings(),
        FichesSettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'f.db'}", check_revoked_sessions=False
        ),
        AuthSettings(trusted_jwks=TokenSigner().jwks()),
    )


def _shape(subscription: Subscription) -> tuple[object, ...]:
    return (
        subscription.name,
        subscription.topics,
        {event: handler.__name__ for event, handler in subscription.handlers.items()},
        getattr(subscription.before_batch, "__name__", None),
        getattr(subscription.after_batch, "__name__", None),
        subscription.urgent,
    )


def test_the_component_subscribes_what_kafka_py_declares(tmp_path: Path) -> None:
    component = _component(tmp_path)
    declared = subscriptions(component.runtime.outbox, component.runtime.database_url)

    assert [_shape(s) for s in component.runtime.subscriptions] == [_shape(s) for s in declared]
    topics = {topic for s in declared for topic in s.topics}
    assert {ProfessionalRegistered.topic, InvitationAccepted.topic, PROFILES_TOPIC} <= topics
    handled = {event for s in declared for event in s.handlers}
    assert {InvitationAccepted, UserProfilePublished} <= handled


def test_the_registry_subscription_applies_stops_ahead_of_registrations(tmp_path: Path) -> None:
    """The registry group keeps its name (so its consumer group and offsets) and marks a
    status change and a removal urgent: they go ahead of the registrations of their batch."""
    declared = registry_subscription(_component(tmp_path).runtime.outbox)

    assert declared.name == "registry-professionals"
    assert declared.topics == (ProfessionalRegistered.topic,)
    assert declared.urgent == frozenset({ProfessionalStatusChanged, ProfessionalRemoved})


def test_a_second_registry_group_reads_ahead_for_stops_only(tmp_path: Path) -> None:
    runtime = _component(tmp_path).runtime
    declared = {s.name: s for s in subscriptions(runtime.outbox, runtime.database_url)}

    stops = declared["registry-stops"]
    assert stops.topics == (ProfessionalRegistered.topic,)
    assert set(stops.handlers) == {ProfessionalStatusChanged, ProfessionalRemoved}


def test_the_two_registry_groups_take_turns_only_without_row_locks(tmp_path: Path) -> None:
    """On SQLite (no row locks) they share one lock; on PostgreSQL the row locks suffice."""
    outbox = _component(tmp_path).runtime.outbox
    sqlite = {s.name: s for s in subscriptions(outbox, "sqlite+aiosqlite:///f.db")}
    postgres = {s.name: s for s in subscriptions(outbox, "postgresql+asyncpg://db/fiches")}

    shared = sqlite["registry-professionals"].exclusive
    assert shared is not None
    assert sqlite["registry-stops"].exclusive is shared
    assert all(s.exclusive is None for s in postgres.values())
    assert all(s.exclusive is None for name, s in sqlite.items() if not name.startswith("registry"))
