"""The `skaart` command: run the platform, import the source, operate the services."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from servicekit.logging import configure_logging
from servicekit.settings import KafkaSettings, PlatformSettings

if TYPE_CHECKING:
    from servicekit.database import MigrationStatus

app = typer.Typer(
    help="Sociale Kaart fiches platform.", no_args_is_help=True, pretty_exceptions_enable=False
)
console = Console(stderr=True)
log = logging.getLogger("skaart")


def _add_registry() -> None:
    import skaart.feed_commands  # noqa: F401  (adds `skaart registry pull` to registry_app)
    from skaart.registry_commands import registry_app

    app.add_typer(registry_app, name="registry")


def _add_identity() -> None:
    from skaart.identity_commands import identity_app

    app.add_typer(identity_app, name="identity")


def _add_demo() -> None:
    from registry_sync.entrypoints.demo_cli import demo_app

    app.add_typer(demo_app, name="demo", help="Generate demo snapshots of the source.")


def _add_deploy() -> None:
    from skaart.deploy_commands import deploy_app

    app.add_typer(deploy_app, name="deploy")


def _add_mail() -> None:
    from skaart.mail_commands import mail_app

    app.add_typer(mail_app, name="mail")


def _add_mail_key() -> None:
    from skaart.mail_key_commands import mail_key_app

    app.add_typer(mail_key_app, name="mail-key")


def _add_generate_contracts() -> None:
    from contracts.generate import command as generate_contracts

    # The same command as `python -m contracts.generate`, options included.
    app.command(
        "generate-contracts",
        help="Regenerate the JSON Schemas and AsyncAPI document in contracts/.",
    )(generate_contracts)


#: The command groups, in the order `skaart --help` lists them, each added by importing
#: its module. A command imports only its own group's modules: `skaart registry import`
#: does not load the identity, mail or deploy commands (docs/benchmarks.md).
_GROUPS: dict[str, Callable[[], None]] = {
    "registry": _add_registry,
    "identity": _add_identity,
    "demo": _add_demo,
    "deploy": _add_deploy,
    "mail": _add_mail,
    "mail-key": _add_mail_key,
    "generate-contracts": _add_generate_contracts,
}
_added: set[str] = set()


def _register_subcommands(only: str | None = None) -> None:
    """Add the command groups to `app`: the one named `only`, or all of them (once each;
    `main` and tests call it)."""
    for name in [only] if only in _GROUPS else list(_GROUPS):
        if name not in _added:
            _added.add(name)
            _GROUPS[name]()


@app.callback()
def _configure() -> None:
    platform = PlatformSettings()
    configure_logging(platform.log_level, platform.log_format)


@app.command()
def up(
    demo: bool = typer.Option(True, help="Load generated demo data on first start."),
    demo_count: int = typer.Option(300, help="Professionals in the demo snapshot."),
    demo_practices: int = typer.Option(
        60,
        help="Practice fiches published for demo providers once they reach fiches, when "
        "fiches holds none yet (0: none).",
    ),
) -> None:
    """Run the whole platform in monolithic mode, with demo data."""
    from servicekit.event_loop import run_main
    from skaart.up import DemoOptions, run_up

    options = DemoOptions(count=demo_count, practices=demo_practices) if demo else None
    run_main(run_up(PlatformSettings(), KafkaSettings(), demo=options))


@app.command()
def serve(
    service: str = typer.Argument(
        ..., help="identity, fiches, invitations, registry-sync, notifications, directory or portal"
    ),
) -> None:
    """Run one service (microservices mode): its API, health and metrics on SKAART_HTTP_PORT."""
    import uvicorn

    from servicekit.client_address import uvicorn_config
    from servicekit.component import standalone_app
    from servicekit.gc_tuning import tune_for_long_running_service
    from skaart.components import BUILDERS

    platform = PlatformSettings()
    if service == "portal":
        from portal.entrypoints.app import create_app

        app = create_app()
        tune_for_long_running_service()
        uvicorn.Server(uvicorn_config(app, platform.http_host, platform.http_port)).run()
        return
    if service not in BUILDERS:
        console.print(
            f"[red]unknown service {service!r}[/red]; choose one of {', '.join(BUILDERS)}"
        )
        raise typer.Exit(2)
    kafka = KafkaSettings()
    component = BUILDERS[service](platform, kafka)
    tune_for_long_running_service()
    uvicorn.Server(
        uvicorn_config(standalone_app(component), platform.http_host, platform.http_port)
    ).run()


@app.command("migrate")
def migrate(
    service: str = typer.Argument("all", help="A service name, or all"),
    check: bool = typer.Option(
        False,
        "--check",
        help="Only say where each database stands; exit 1 if one needs migrating or this "
        "release cannot run on it (before a rollback, say).",
    ),
) -> None:
    """Apply database migrations (the Kubernetes migration Job runs this)."""
    from skaart.components import BUILDERS

    names = list(BUILDERS) if service == "all" else [service]

    async def run() -> bool:
        from servicekit.newer_schema import SchemaTooNew

        ready = True
        for name in names:
            runtime = BUILDERS[name](PlatformSettings(), KafkaSettings()).runtime
            try:
                status = await (runtime.migration_status() if check else runtime.migrate())
            except SchemaTooNew as refused:
                console.print(f"{name}: refused: {refused}")
                ready = False
                continue
            finally:
                await runtime.engine.dispose()
            ready = ready and not (status.problem or (check and status.to_apply))
            console.print(f"{name}: {status.summary if check else _migrated(status)}")
        return ready

    if not asyncio.run(run()):
        raise typer.Exit(1)


def _migrated(status: MigrationStatus) -> str:
    """What `skaart migrate` did, from the status the database was in."""
    if status.unknown:
        return status.summary  # a newer release's database: nothing applied
    if status.to_apply:
        return f"migrated ({', '.join(status.to_apply)}): at the newest migration"
    return "at the newest migration (nothing to apply)"


@app.command("create-topics")
def create_topics() -> None:
    """Create every topic the contracts declare that the broker lacks."""
    from servicekit.messaging.kafka_clients import ensure_topics

    created = asyncio.run(ensure_topics(KafkaSettings()))
    console.print(f"created: {', '.join(created) if created else 'nothing (all topics exist)'}")


def main() -> None:
    """Entry point of the `skaart` console script."""
    from servicekit.gc_tuning import tune_for_long_running_service

    _register_subcommands(sys.argv[1] if len(sys.argv) > 1 else None)
    # An import of the national register allocates millions of short-lived objects:
    # with the collector tuned, `skaart registry import` of 30,000 people took 4.2 s of
    # CPU instead of 5.7 s. `serve` and `up` tune again once their services are built,
    # with a full collection first; a command's start has nothing to collect.
    tune_for_long_running_service(collect_first=False)
    app()


if __name__ == "__main__":
    main()
