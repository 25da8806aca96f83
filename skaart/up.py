"""`skaart up`: start monolithic mode, load demo data, say where to look."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from rich.console import Console
from rich.panel import Panel

from registry_sync.config import RegistrySyncSettings
from registry_sync.simulator.source_server import SimulatedSource, create_source_app
from servicekit.client_address import uvicorn_config
from servicekit.component import ServiceComponent
from servicekit.gc_tuning import tune_for_long_running_service
from servicekit.settings import KafkaSettings, PlatformSettings
from skaart.components import build_all, build_portal
from skaart.monolith import (
    BrokerChoice,
    broker_lost_its_topics,
    choose_broker,
    monolith_app,
    prepare_broker_topics,
)
from skaart.runtime_file import write_runtime_file

log = logging.getLogger(__name__)
console = Console(stderr=True)

DEMO_SEED = 20260911


def write_demo_snapshots(directory: Path, count: int) -> tuple[Path, Path]:
    """A first snapshot, and a follow-up in which 5% of the people stopped practising."""
    from registry_sync.simulator.demo_data import (
        follow_up_snapshot,
        generate_professionals,
        write_snapshot,
    )

    directory.mkdir(parents=True, exist_ok=True)
    first = directory / "snapshot-1.jsonl"
    second = directory / "snapshot-2-status-changes.jsonl"
    write_snapshot(first, generate_professionals(count, DEMO_SEED))
    changed = follow_up_snapshot(
        generate_professionals(count, DEMO_SEED),
        change_percent=5,
        seed=DEMO_SEED,
        new_version="2026-11-28T06:00:00Z",
        total=count,
    )
    write_snapshot(second, (record for record, _reason in changed))
    return first, second


async def _load_demo(
    components: list[ServiceComponent], platform: PlatformSettings, count: int
) -> Path | None:
    from registry_sync.adapters.tables import professionals
    from registry_sync.config import RegistrySyncSettings
    from registry_sync.entrypoints.runtime import nrn_hasher, snapshot_import

    registry = next(c for c in components if c.name == "registry-sync").runtime
    async with registry.sessions() as session:
        known = await session.scalar(sa.select(sa.func.count()).select_from(professionals))
    first, second = write_demo_snapshots(platform.data_dir / "demo", count)
    if known:
        return second
    settings = RegistrySyncSettings()
    import_file = snapshot_import(settings, registry, nrn_hasher(settings, platform))
    summary = await import_file(first)
    log.info("demo data imported", extra={"registered": summary.registered})
    return second


def _registry(components: list[ServiceComponent]) -> ServiceComponent:
    return next(c for c in components if c.name == "registry-sync")


async def knows_professionals(components: list[ServiceComponent]) -> bool:
    """Whether registry-sync's store holds anyone yet (looked at before anything starts)."""
    from registry_sync.handlers.reannounce import has_professionals

    runtime = _registry(components).runtime
    await runtime.migrate()
    return await has_professionals(runtime.sessions)


async def reannounce_after_broker_loss(components: list[ServiceComponent]) -> int:
    """Announce registry-sync's stored state again on a fresh broker; returns the count.

    Events that were published but not consumed when the old broker went away are gone:
    without this, fiches and identity would miss those professionals for good (an import
    of the same file publishes nothing, registry-sync's own state being up to date).
    """
    from registry_sync.handlers.reannounce import reannounce_professionals

    registry = _registry(components).runtime
    summary = await reannounce_professionals(registry.sessions, registry.outbox)
    log.warning(
        "the broker is new (its topics had to be created): the stored state of every "
        "professional was announced again so that consumers catch up",
        extra={"professionals": summary.professionals, "events": summary.events},
    )
    return summary.professionals


SOURCE_PREFIX = "/dev/source"


@dataclass(frozen=True)
class DemoOptions:
    """What demo data `skaart up` loads (none without `--demo`)."""

    count: int
    """Professionals in the demo register."""
    practices: int
    """Practice fiches published for demo providers (skaart/demo_practices.py)."""


def _simulated_source(
    platform: PlatformSettings, demo: DemoOptions | None
) -> SimulatedSource | None:
    """The source simulator, in development with demo data and no real feed configured."""
    if demo is None or not platform.is_development:
        return None
    if RegistrySyncSettings().feed_url:
        return None
    return SimulatedSource(demo.count, DEMO_SEED)


def _polling_registry_sync(
    platform: PlatformSettings, kafka: KafkaSettings, base: str, source_app: FastAPI
) -> ServiceComponent:
    from registry_sync.entrypoints.app import build_component

    # In-process transport: the same HTTP requests as against a real feed, without
    # depending on the port being open yet (it opens only after start-up and demo data).
    routes = FastAPI()
    routes.mount(SOURCE_PREFIX, source_app)
    settings = RegistrySyncSettings(feed_url=base + SOURCE_PREFIX, feed_poll_interval_s=1.0)
    return build_component(
        platform, kafka, settings, feed_transport=httpx.ASGITransport(app=routes)
    )


def _shown(path: Path) -> Path:
    return path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path


def _broker_line(choice: BrokerChoice) -> str:
    if choice.embedded:
        return f"embedded broker on {choice.kafka.bootstrap_servers}"
    return f"Kafka at {choice.kafka.bootstrap_servers}"


def _where_to_look(base: str, demo_practices: int) -> list[str]:
    practices = (
        [
            f"                   (up to {demo_practices} demo practices, published for demo "
            "providers once they reach fiches)"
        ]
        if demo_practices
        else []
    )
    return [
        f"Portal:            {base}/   (start here)",
        f"API docs:          {base}/docs",
        f"Provider fiches:   {base}/api/fiches/providers?profession=nurse",
        f"Public map:        {base}/api/directory/search?near=9000&radius_km=20",
        f"                   {base}/fhir/metadata   {base}/hsds/services",
        *practices,
        f"Readiness:         {base}/readyz      Metrics: {base}/metrics",
        f"Sync runs:         {base}/api/registry-sync/runs",
        "",
        f"Log in:            {base}/api/identity/login?as=professional  (or as=citizen)",
        "                   (the development identity provider: pick a demo person)",
        f"Mail sent:         {base}/api/notifications/dev/mailbox",
        "                   (or: .venv/bin/skaart mail list)",
    ]


def _things_to_try(base: str, follow_up: Path | None, simulated_source: bool) -> list[str]:
    lines: list[str] = []
    if follow_up:
        lines += [
            "",
            "Try, from a second terminal in this folder:",
            f"  .venv/bin/skaart registry import {_shown(follow_up)}",
            "  (5% of the demo professionals lost their visa or RIZIV number, got a",
            "   practice ban or were reported deceased: their fiches are depublished)",
        ]
    if simulated_source:
        lines += [
            "",
            "Simulated source (its delta feed is polled every second):",
            f"  {base}{SOURCE_PREFIX}/docs",
            f"  curl -X POST '{base}{SOURCE_PREFIX}/simulate/stop/7?reason=deceased'",
            "  (person 7 of the demo data dies in the source; their fiche goes offline)",
        ]
    return lines


def start_panel(
    platform: PlatformSettings,
    choice: BrokerChoice,
    *,
    reannounced: int,
    follow_up: Path | None,
    simulated_source: bool,
    demo_practices: int = 0,
) -> Panel:
    """What `skaart up` shows once the platform runs: where to look, what to try."""
    base = f"http://{platform.http_host}:{platform.http_port}"
    lines = [
        f"[bold]Sociale Kaart fiches platform[/bold] — monolithic mode, {_broker_line(choice)}",
        f"Data folder: {platform.data_dir.resolve()}",
    ]
    if reannounced:
        lines.append(
            f"Fresh broker: {reannounced:,} professionals announced again from "
            "registry-sync's store"
        )
    lines += ["", *_where_to_look(base, demo_practices)]
    lines += _things_to_try(base, follow_up, simulated_source)
    return Panel("\n".join(lines), expand=False)


@dataclass
class _Platform:
    """The components `skaart up` runs, and the simulated source when there is one."""

    components: list[ServiceComponent]
    source_app: FastAPI | None


def _seed_practices_once_providers_arrive(
    components: list[ServiceComponent], demo: DemoOptions
) -> None:
    """Runs skaart/demo_practices.py in fiches' background once fiches starts."""
    from fiches.handlers.practices import PracticeCommands
    from fiches.handlers.providers import ProviderCommands
    from fiches.handlers.unit_of_work import UnitOfWork
    from identity.devidp.people import demo_people
    from skaart.demo_practices import seed_demo_practices

    runtime = next(c for c in components if c.name == "fiches").runtime
    uow = UnitOfWork(runtime.sessions, runtime.outbox)
    commands = PracticeCommands(uow)
    provider_commands = ProviderCommands(uow, commands)
    # The people the development identity provider offers at login (as it lists them).
    people = {(p.given_name, p.surname) for p in demo_people()}

    async def seed() -> None:
        await seed_demo_practices(
            runtime.sessions,
            commands,
            count=demo.practices,
            excluded_names=people,
            provider_commands=provider_commands,
        )

    runtime.run_in_background("demo-practices", seed)


def _build_platform(
    platform: PlatformSettings, kafka: KafkaSettings, *, demo: DemoOptions | None
) -> _Platform:
    components = build_all(platform, kafka)
    if demo is not None and demo.practices > 0:
        _seed_practices_once_providers_arrive(components, demo)
    source = _simulated_source(platform, demo)
    source_app = create_source_app(source) if source is not None else None
    if source_app is not None:
        base = f"http://{platform.http_host}:{platform.http_port}"
        polling = _polling_registry_sync(platform, kafka, base, source_app)
        components = [polling if c.name == polling.name else c for c in components]
    return _Platform(components, source_app)


async def run_up(
    platform: PlatformSettings, kafka: KafkaSettings, *, demo: DemoOptions | None
) -> None:
    """Run until interrupted."""
    choice = await choose_broker(platform, kafka)
    try:
        fresh_broker = broker_lost_its_topics(await prepare_broker_topics(choice.kafka))
        built = _build_platform(platform, choice.kafka, demo=demo)
        components = built.components
        tune_for_long_running_service()

        # Decided before the components start: the delta-feed poller may register people
        # as soon as registry-sync runs, and they need no second announcement.
        reannounce = fresh_broker and await knows_professionals(components)

        async def on_started() -> None:
            write_runtime_file(platform, choice.kafka)
            reannounced = await reannounce_after_broker_loss(components) if reannounce else 0
            follow_up = await _load_demo(components, platform, demo.count) if demo else None
            console.print(
                start_panel(
                    platform,
                    choice,
                    reannounced=reannounced,
                    follow_up=follow_up,
                    simulated_source=built.source_app is not None,
                    demo_practices=demo.practices if demo else 0,
                )
            )

        app = monolith_app(
            components,
            on_started=on_started,
            front_end=build_portal(platform, choice.kafka),
            mounts={SOURCE_PREFIX: built.source_app} if built.source_app is not None else None,
        )
        server = uvicorn.Server(uvicorn_config(app, platform.http_host, platform.http_port))
        await server.serve()
    finally:
        if choice.embedded:
            choice.embedded.stop()
