"""Composition root of registry-sync: settings in, a runnable component out."""

from __future__ import annotations

from functools import partial

import httpx
from fastapi import FastAPI

from registry_sync.adapters.tables import TABLES
from registry_sync.config import DEVELOPMENT_NRN_HMAC_KEY, RegistrySyncSettings
from registry_sync.domain.pseudonyms import NrnHasher
from registry_sync.entrypoints.http import runs_router
from registry_sync.handlers.import_snapshot import import_snapshot
from registry_sync.handlers.pull_changes import feed_client, poll_forever
from registry_sync.handlers.watch_folder import FolderWatcher
from servicekit.component import ServiceComponent, standalone_app
from servicekit.runtime import ServiceRuntime
from servicekit.settings import Environment, KafkaSettings, PlatformSettings, service_database_url

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


def build_component(
    platform: PlatformSettings | None = None,
    kafka: KafkaSettings | None = None,
    settings: RegistrySyncSettings | None = None,
    *,
    feed_transport: httpx.AsyncBaseTransport | None = None,
) -> ServiceComponent:
    """registry-sync as a component (it only produces: no subscriptions yet).

    With `feed_url` set, it polls the source's delta feed while it runs; with `watch_dir`
    set, it imports the snapshot files dropped in that folder.
    """
    platform = platform or PlatformSettings()
    settings = settings or RegistrySyncSettings()
    runtime = ServiceRuntime(
        name=SERVICE,
        database_url=service_database_url(SERVICE, settings.database_url, platform),
        kafka=kafka or KafkaSettings(),
        tables=TABLES,
        migrations_package="registry_sync.migrations",
    )
    hasher = nrn_hasher(settings, platform)  # fail at start-up, not at the first import
    if settings.feed_url:
        feed = feed_client(settings, transport=feed_transport)
        poll = partial(
            poll_forever,
            settings,
            sessions=runtime.sessions,
            outbox=runtime.outbox,
            hasher=hasher,
            client=feed,
        )
        runtime.run_in_background("delta-feed", poll)
        # Also closed here: a loop stopped before its first step never runs its finally.
        runtime.close_on_stop("delta-feed", feed.aclose)
    if settings.watch_dir:
        watcher = FolderWatcher(
            settings.watch_dir,
            partial(
                import_snapshot,
                sessions=runtime.sessions,
                outbox=runtime.outbox,
                hasher=hasher,
                chunk_size=settings.import_chunk_size,
                max_errors=settings.max_reported_errors,
                max_removal_share=settings.max_removal_share,
            ),
        )
        runtime.run_in_background(
            "watched-folder", partial(watcher.run_forever, settings.watch_interval_s)
        )
    return ServiceComponent(name=SERVICE, runtime=runtime, routers=[runs_router(runtime)])


def create_app() -> FastAPI:
    """ASGI factory for microservices mode (`skaart serve registry-sync` uses it too)."""
    return standalone_app(build_component())
