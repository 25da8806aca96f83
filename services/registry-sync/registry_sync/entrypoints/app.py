"""Composition root of registry-sync: settings in, a runnable component out."""

from __future__ import annotations

from functools import partial

import httpx
from fastapi import FastAPI

from registry_sync.config import RegistrySyncSettings
from registry_sync.entrypoints.http import runs_router
from registry_sync.entrypoints.runtime import (
    SERVICE,
    nrn_hasher,
    registry_runtime,
    snapshot_import,
)
from registry_sync.handlers.pull_changes import feed_client, poll_forever
from registry_sync.handlers.watch_folder import FolderWatcher
from servicekit.component import ServiceComponent, standalone_app
from servicekit.settings import KafkaSettings, PlatformSettings

__all__ = ["SERVICE", "build_component", "create_app", "nrn_hasher"]


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
    runtime = registry_runtime(platform, kafka or KafkaSettings(), settings)
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
            snapshot_import(settings, runtime, hasher),
        )
        runtime.run_in_background(
            "watched-folder", partial(watcher.run_forever, settings.watch_interval_s)
        )
    return ServiceComponent(name=SERVICE, runtime=runtime, routers=[runs_router(runtime)])


def create_app() -> FastAPI:
    """ASGI factory for microservices mode (`skaart serve registry-sync` uses it too)."""
    return standalone_app(build_component())
