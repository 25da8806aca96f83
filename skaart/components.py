"""The six services, by name, as components built from the environment's settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from servicekit.component import ServiceComponent
from servicekit.settings import KafkaSettings, PlatformSettings

ComponentBuilder = Callable[[PlatformSettings, KafkaSettings], ServiceComponent]


def _registry_sync(platform: PlatformSettings, kafka: KafkaSettings) -> ServiceComponent:
    from registry_sync.entrypoints.app import build_component

    return build_component(platform, kafka)


def _fiches(platform: PlatformSettings, kafka: KafkaSettings) -> ServiceComponent:
    from fiches.entrypoints.app import build_component

    return build_component(platform, kafka)


def _identity(platform: PlatformSettings, kafka: KafkaSettings) -> ServiceComponent:
    from identity.entrypoints.app import build_component

    return build_component(platform, kafka)


def _invitations(platform: PlatformSettings, kafka: KafkaSettings) -> ServiceComponent:
    from invitations.entrypoints.app import build_component

    return build_component(platform, kafka)


def _notifications(platform: PlatformSettings, kafka: KafkaSettings) -> ServiceComponent:
    from notifications.entrypoints.app import build_component

    return build_component(platform, kafka)


def _directory(platform: PlatformSettings, kafka: KafkaSettings) -> ServiceComponent:
    from directory.entrypoints.app import build_component

    return build_component(platform, kafka)


BUILDERS: dict[str, ComponentBuilder] = {
    "registry-sync": _registry_sync,
    "fiches": _fiches,
    "identity": _identity,
    "invitations": _invitations,
    "notifications": _notifications,
    "directory": _directory,
}


def build_portal(platform: PlatformSettings, kafka: KafkaSettings) -> Any:
    """The portal (the web pages): not a message-driven service, mounted at `/`."""
    from portal.entrypoints.app import build_component

    return build_component(platform, kafka)


def build_all(platform: PlatformSettings, kafka: KafkaSettings) -> list[ServiceComponent]:
    """Every service, in start order (producers of the first events first)."""
    return [build(platform, kafka) for build in BUILDERS.values()]
