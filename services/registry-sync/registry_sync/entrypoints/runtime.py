"""registry-sync's runtime alone: its database and outbox, without HTTP or the feed.

What the one-shot commands (`skaart registry import`, `resync`, `runs`) need. Kept apart
from `app` (the composition root of the running service, with FastAPI, the feed client
and the folder watcher) so a command loads only this much before it starts working.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING

from registry_sync.adapters.tables import TABLES
from registry_sync.config import DEVELOPMENT_NRN_HMAC_KEY, RegistrySyncSettings
from registry_sync.domain.pseudonyms import NrnHasher
from servicekit.runtime import ServiceRuntime
from servicekit.settings import Environment, KafkaSettings, PlatformSettings, service_database_url

if TYPE_CHECKING:
    from registry_sync.handlers.sync_summary import ImportSummary

SERVICE = "registry-sync"


def nrn_hasher(settings: RegistrySyncSettings, platform: PlatformSettings) -> NrnHasher:
    """The keyed hasher; outside development the development key is refused."""
    key = settings.nrn_hmac_key.get_secret_value()
    if platform.environment is not Environment.DEVELOPMENT and key == DEVELOPMENT_NRN_HMAC_KEY:
        raise RuntimeError(
            "REGISTRY_SYNC_NRN_HMAC_KEY is not set: outside development a secret key of "
            "at least 16 characters is required (the same as identity's)"
        )
    return NrnHasher(key)


def registry_runtime(
    platform: PlatformSettings, kafka: KafkaSettings, settings: RegistrySyncSettings
) -> ServiceRuntime:
    """The runtime of registry-sync: its database, migrations and outbox."""
    return ServiceRuntime(
        name=SERVICE,
        database_url=service_database_url(SERVICE, settings.database_url, platform),
        kafka=kafka,
        tables=TABLES,
        migrations_package="registry_sync.migrations",
    )


def snapshot_import(
    settings: RegistrySyncSettings, runtime: ServiceRuntime, hasher: NrnHasher
) -> Callable[..., Awaitable[ImportSummary]]:
    """`import_snapshot(path, ...)` bound to this runtime and the deployment's import settings.

    The one place `REGISTRY_SYNC_IMPORT_CHUNK_SIZE`, `..._MAX_REPORTED_ERRORS` and
    `..._MAX_REMOVAL_SHARE` are read for an import, so the command, the watched folder and
    the demo data import a file the same way. The caller adds the path and, where it has
    them, `progress`, `lenient` and `force`.
    """
    # Imported here: the publishing process (`skaart/outbox_publisher.py`) loads this
    # module for `registry_runtime` and must not pay for the snapshot parser.
    from registry_sync.handlers.import_snapshot import import_snapshot

    return partial(
        import_snapshot,
        sessions=runtime.sessions,
        outbox=runtime.outbox,
        hasher=hasher,
        chunk_size=settings.import_chunk_size,
        max_errors=settings.max_reported_errors,
        max_removal_share=settings.max_removal_share,
    )
