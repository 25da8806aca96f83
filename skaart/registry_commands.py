"""`skaart registry …`: feed the authentic source into registry-sync."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import sqlalchemy as sa
import typer
from registry_sync.config import RegistrySyncSettings
from registry_sync.entrypoints.app import build_component, nrn_hasher
from registry_sync.handlers.import_snapshot import ImportSummary, SnapshotRejected, import_snapshot
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from servicekit.settings import KafkaSettings, PlatformSettings
from skaart.monolith import read_running_platform

registry_app = typer.Typer(
    help="Feed the authentic source into registry-sync.", no_args_is_help=True
)
console = Console(stderr=True)


def _summary_table(summary: ImportSummary) -> Table:
    table = Table(title=f"Import {summary.run_id}", show_header=False)
    table.add_row("lines", f"{summary.lines:,}")
    table.add_row("registered", f"{summary.registered:,}")
    table.add_row("updated", f"{summary.updated:,}")
    for reason, count in sorted(summary.status_changes.items()):
        table.add_row(f"  status change: {reason}", f"{count:,}")
    table.add_row("unchanged", f"{summary.unchanged:,}")
    table.add_row("older than known (ignored)", f"{summary.stale:,}")
    table.add_row("events queued", f"{summary.events_published:,}")
    return table


async def _import(path: Path, wait_s: float) -> int:
    platform = PlatformSettings()
    settings = RegistrySyncSettings()
    kafka = KafkaSettings()
    component = build_component(platform, kafka, settings)
    runtime = component.runtime
    await runtime.migrate()
    try:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("validating", total=path.stat().st_size)

            def report(phase: str, done: int, total: int) -> None:
                progress.update(task, description=phase, completed=done, total=total)

            summary = await import_snapshot(
                path,
                sessions=runtime.sessions,
                outbox=runtime.outbox,
                hasher=nrn_hasher(settings, platform),
                chunk_size=settings.import_chunk_size,
                max_errors=settings.max_reported_errors,
                progress=report,
            )
        console.print(_summary_table(summary))
        await _publish_or_wait(runtime, platform, kafka, wait_s)
        return 0
    finally:
        await runtime.engine.dispose()


async def _pending(runtime: object) -> int:
    from registry_sync.adapters.tables import outbox

    async with runtime.sessions() as session:  # type: ignore[attr-defined]
        return int(await session.scalar(sa.select(sa.func.count()).select_from(outbox)) or 0)


async def _publish_or_wait(
    runtime: object, platform: PlatformSettings, kafka: KafkaSettings, wait_s: float
) -> None:
    pending = await _pending(runtime)
    if pending == 0:
        console.print("Nothing to publish: the source and the platform already agree.")
        return
    if kafka.bootstrap_servers:
        await runtime.start(migrate=False, relay=False)  # type: ignore[attr-defined]
        try:
            published = await runtime.publish_pending_now()  # type: ignore[attr-defined]
        finally:
            await runtime.stop()  # type: ignore[attr-defined]
        console.print(f"Published {published:,} events to {kafka.bootstrap_servers}.")
        return
    if read_running_platform(platform) is None:
        console.print(
            f"{pending:,} events wait in registry-sync's outbox; they are published as soon "
            "as the platform runs (`make up` or `skaart up`)."
        )
        return
    started = time.monotonic()
    with console.status(f"The running platform is publishing {pending:,} events…"):
        while pending and time.monotonic() - started < wait_s:
            await asyncio.sleep(0.2)
            pending = await _pending(runtime)
    if pending:
        console.print(
            f"{pending:,} events still queued after {wait_s:.0f}s; "
            "the platform keeps publishing them."
        )
    else:
        console.print(f"All events published in {time.monotonic() - started:.1f}s.")


@registry_app.command("import")
def import_command(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="Snapshot file (.jsonl or .jsonl.gz)."
    ),
    wait: float = typer.Option(60.0, help="Seconds to wait for the running platform to publish."),
) -> None:
    """Import a full snapshot: validate every line, then apply and publish only what changed."""
    try:
        raise typer.Exit(asyncio.run(_import(file, wait)))
    except SnapshotRejected as rejected:
        console.print(f"[red]Snapshot refused.[/red] {rejected}")
        raise typer.Exit(2) from None
