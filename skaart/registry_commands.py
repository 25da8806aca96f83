"""`skaart registry …`: feed the authentic source into registry-sync."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Column, Table

from registry_sync.config import RegistrySyncSettings
from registry_sync.entrypoints.runtime import nrn_hasher, registry_runtime, snapshot_import
from registry_sync.handlers.import_snapshot import (
    ImportSummary,
    MassRemovalRefused,
    SnapshotRejected,
)
from registry_sync.handlers.reannounce import reannounce_professionals
from servicekit.runtime import AnotherRelayPublishes
from servicekit.settings import KafkaSettings, PlatformSettings
from skaart.outbox_publisher import FAILED, PUBLISHED, UNREACHABLE, PublisherForLargeImports
from skaart.runtime_file import read_running_platform

registry_app = typer.Typer(
    help="Feed the authentic source into registry-sync.", no_args_is_help=True
)
console = Console(stderr=True)


def summary_table(
    summary: ImportSummary, *, title: str, head: list[tuple[str, str]], unit: str
) -> Table:
    """What a run changed, as `skaart registry import` and `pull` print it."""
    table = Table(title=f"{title} {summary.run_id}", show_header=False)
    for name, value in head:
        table.add_row(name, value)
    table.add_row(unit, f"{summary.lines:,}")
    table.add_row("registered", f"{summary.registered:,}")
    table.add_row("updated", f"{summary.updated:,}")
    for reason, count in sorted(summary.status_changes.items()):
        table.add_row(f"  status change: {reason}", f"{count:,}")
    table.add_row("unchanged", f"{summary.unchanged:,}")
    table.add_row("older than known (ignored)", f"{summary.stale:,}")
    table.add_row("removed (no longer in the source)", f"{summary.removed:,}")
    table.add_row(f"rejected {unit} (lenient)", f"{summary.rejected:,}")
    table.add_row("events queued", f"{summary.events_published:,}")
    return table


async def _import(path: Path, wait_s: float, *, lenient: bool, force: bool) -> int:
    platform = PlatformSettings()
    settings = RegistrySyncSettings()
    kafka = KafkaSettings()
    # The runtime alone (database, outbox): not the service's HTTP app or its feed client,
    # which this command never uses and which took a third of its start to load.
    runtime = registry_runtime(platform, kafka, settings)
    hasher = nrn_hasher(settings, platform)
    await runtime.migrate()
    # A large import's chunks are published by a process of its own as soon as they
    # commit, beside the import, instead of after the last chunk (outbox_publisher.py).
    publisher = PublisherForLargeImports() if kafka.bootstrap_servers else None
    if publisher is not None:
        runtime.outbox.on_commit(publisher.committed)
    try:
        summary = await _import_with_progress(
            path, runtime, settings, hasher, lenient=lenient, force=force
        )
        console.print(summary_table(summary, title="Import", head=[], unit="lines"))
        for problem in summary.errors():
            console.print(f"  [yellow]{problem}[/yellow]")
        published_here = False
        if publisher is not None:
            published_here = await _finish_publishing(publisher, kafka)
            publisher = None
        await publish_or_wait(
            runtime,
            platform,
            kafka,
            wait_s,
            queued=summary.events_published,
            published_while_applying=published_here,
        )
        return 0
    finally:
        if publisher is not None:
            # Refused or failed: it still publishes what earlier chunks committed.
            await publisher.finish()
        await runtime.engine.dispose()


async def _import_with_progress(
    path: Path,
    runtime: Any,
    settings: RegistrySyncSettings,
    hasher: Any,
    *,
    lenient: bool,
    force: bool,
) -> ImportSummary:
    """Import the file with a progress bar (validating, then applying)."""
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

        import_file = snapshot_import(settings, runtime, hasher)
        return await import_file(path, progress=report, lenient=lenient, force=force)


async def _finish_publishing(publisher: PublisherForLargeImports, kafka: KafkaSettings) -> bool:
    """Wait for the publishing process; whether it published (it led the relays)."""
    with console.status("Publishing the last events…"):
        outcome = await publisher.finish()
    if outcome is None:
        return False  # too few chunks committed for a process of its own
    if outcome.startswith(UNREACHABLE):
        console.print(
            f"[yellow]Cannot reach the broker at {kafka.bootstrap_servers} "
            f"({outcome.removeprefix(UNREACHABLE).strip()}); the events wait in the "
            "outbox.[/yellow]"
        )
    elif outcome.startswith(FAILED):
        console.print(
            f"[yellow]The publishing process ended with exit code "
            f"{outcome.removeprefix(FAILED).strip()} (its error is above); this command "
            "publishes what is left itself.[/yellow]"
        )
    return outcome == PUBLISHED


#: Outbox rows counted at most for what the command says waits: counting a backlog of
#: 1,000,000 rows took PostgreSQL 0.17 s (100,000: 0.05 s), a tenth of an unchanged
#: re-import, and the wait for the running platform counts again five times a second.
PENDING_COUNTED = 10_000


async def _pending(runtime: object, *, exact: bool = False) -> int:
    """Events waiting in the outbox: at most PENDING_COUNTED of them, unless `exact`."""
    from registry_sync.adapters.tables import outbox

    rows = outbox if exact else sa.select(outbox.c.id).limit(PENDING_COUNTED).subquery()
    async with runtime.sessions() as session:  # type: ignore[attr-defined]
        return int(await session.scalar(sa.select(sa.func.count()).select_from(rows)) or 0)


def _events(pending: int) -> str:
    """`pending` as a count of events, saying so when the count stopped at its limit."""
    return f"{pending:,} or more" if pending >= PENDING_COUNTED else f"{pending:,}"


class BrokerUnreachable(Exception):
    """The run is applied and its events queued, but the broker did not answer."""


async def publish_or_wait(
    runtime: object,
    platform: PlatformSettings,
    kafka: KafkaSettings,
    wait_s: float,
    *,
    queued: int,
    published_while_applying: bool = False,
) -> None:
    """Publish the outbox (KAFKA_BOOTSTRAP_SERVERS set), or wait for the running platform.

    `queued`: events the run just queued; with nothing pending they were either none (the
    source and the platform agree) or already published, by this command's relay while it
    applied (`published_while_applying`) or by the running platform's.
    """
    pending = await _pending(runtime)
    if pending == 0:
        if queued and published_while_applying:
            console.print(f"Published {queued:,} events to {kafka.bootstrap_servers}.")
        elif queued:
            console.print(
                f"All {queued:,} event(s) of this run are already published (the running "
                "platform's relay took them)."
            )
        else:
            console.print(
                "Nothing to publish: the source and the platform already agree. (If the "
                "broker lost its data, `skaart registry resync` announces every professional "
                "again.)"
            )
        return
    if kafka.bootstrap_servers:
        if pending >= PENDING_COUNTED:
            pending = await _pending(runtime, exact=True)  # it is added up below
        published = await _publish_here(runtime, kafka, pending)
        if published is not None:
            if published_while_applying:
                # The rest of the run's events left while it applied.
                published += max(queued - pending, 0)
            console.print(f"Published {published:,} events to {kafka.bootstrap_servers}.")
            return
    elif read_running_platform(platform) is None:
        console.print(
            f"{_events(pending)} events wait in registry-sync's outbox; they are published "
            "as soon as the platform runs (`make up` or `skaart up`)."
        )
        return
    started = time.monotonic()
    with console.status(f"The running platform is publishing {_events(pending)} events…"):
        while pending and time.monotonic() - started < wait_s:
            await asyncio.sleep(0.2)
            pending = await _pending(runtime)
    if pending:
        console.print(
            f"{_events(pending)} events still queued after {wait_s:.0f}s; "
            "the platform keeps publishing them."
        )
    else:
        console.print(f"All events published in {time.monotonic() - started:.1f}s.")


async def _publish_here(runtime: Any, kafka: KafkaSettings, pending: int) -> int | None:
    """Publish the outbox from this process; None when another relay (the platform's) leads.

    Raises BrokerUnreachable, saying what waits and what to do, when the broker does not
    answer.
    """
    from aiokafka.errors import KafkaError

    try:
        await runtime.start(migrate=False, relay=False, background=False)
    except KafkaError as error:
        await runtime.stop()
        raise BrokerUnreachable(
            f"The run is applied, but the broker at {kafka.bootstrap_servers} cannot be "
            f"reached ({type(error).__name__}): {pending:,} events wait in "
            "registry-sync's outbox. They are published as soon as the platform runs, or "
            "run the same command again once the broker answers (nothing is applied "
            "twice; it publishes what waits)."
        ) from None
    try:
        return int(await runtime.publish_pending_now())
    except AnotherRelayPublishes:
        # The running platform's relay publishes this outbox; publishing beside it would
        # send every event twice: the caller waits for it instead.
        return None
    finally:
        await runtime.stop()


@registry_app.command("import")
def import_command(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="Snapshot file (.jsonl or .jsonl.gz)."
    ),
    wait: float = typer.Option(60.0, help="Seconds to wait for the running platform to publish."),
    lenient: bool = typer.Option(
        False, help="Skip invalid lines (reported one by one) instead of refusing the file."
    ),
    force: bool = typer.Option(
        False, help="Apply even if more professionals would leave than the allowed share."
    ),
) -> None:
    """Import a full snapshot (JSON Lines or CSV, gzip accepted): check it all, then apply."""
    try:
        raise typer.Exit(asyncio.run(_import(file, wait, lenient=lenient, force=force)))
    except (SnapshotRejected, MassRemovalRefused) as refused:
        console.print(f"[red]Snapshot refused.[/red] {refused}")
        raise typer.Exit(2) from None
    except BrokerUnreachable as unpublished:
        console.print(f"[yellow]Not published.[/yellow] {unpublished}")
        raise typer.Exit(1) from None


async def _resync(wait_s: float) -> int:
    platform = PlatformSettings()
    settings = RegistrySyncSettings()
    kafka = KafkaSettings()
    # Without the feed and the folder: publishing the outbox below must not start pollers.
    runtime = registry_runtime(platform, kafka, settings)
    await runtime.migrate()
    try:
        with console.status("Queuing the stored state of every professional…"):
            summary = await reannounce_professionals(
                runtime.sessions, runtime.outbox, chunk_size=settings.import_chunk_size
            )
        console.print(
            f"Re-announced {summary.professionals:,} professionals ({summary.removed:,} of them "
            f"no longer in the source): {summary.events:,} events queued."
        )
        await publish_or_wait(runtime, platform, kafka, wait_s, queued=summary.events)
        return 0
    finally:
        await runtime.engine.dispose()


@registry_app.command("resync")
def resync_command(
    wait: float = typer.Option(60.0, help="Seconds to wait for the running platform to publish."),
) -> None:
    """Announce the stored state of every professional again (after the broker lost data).

    Consumers apply it idempotently: what they already hold does not change, what they
    missed is caught up (a missing fiche is created, a stop they missed depublishes).
    """
    try:
        raise typer.Exit(asyncio.run(_resync(wait)))
    except BrokerUnreachable as unpublished:
        console.print(f"[yellow]Not published.[/yellow] {unpublished}")
        raise typer.Exit(1) from None


@registry_app.command("runs")
def runs_command(limit: int = typer.Option(20, help="How many runs, newest first.")) -> None:
    """List recent sync runs."""
    rows = asyncio.run(_runs(limit=limit))
    table = Table(
        "run",
        # A path too long for the terminal is folded onto more lines, not cut off.
        Column("source", overflow="fold"),
        "status",
        "started",
        "finished",
        "registered",
        "updated",
        "status changes",
        "removed",
        "rejected",
    )
    for row in rows:
        counts = row.counts or {}
        table.add_row(
            row.run_id[:8],
            row.source,
            row.status,
            f"{row.started_at:%Y-%m-%d %H:%M:%S}",
            f"{row.finished_at:%H:%M:%S}" if row.finished_at else "",
            str(counts.get("registered", "")),
            str(counts.get("updated", "")),
            str(sum((counts.get("status_changes") or {}).values())),
            str(counts.get("removed", "")),
            str(counts.get("rejected", "")),
        )
    Console().print(table)


@registry_app.command("run")
def run_command(run_id: str = typer.Argument(..., help="A run id, or the start of one.")) -> None:
    """Show one sync run: counts, errors and rejected lines."""
    rows = asyncio.run(_runs(limit=1, id_prefix=run_id))
    if not rows:
        console.print(f"[red]no sync run starts with {run_id!r}[/red]; see `skaart registry runs`")
        raise typer.Exit(1)
    row = rows[0]
    out = Console()
    out.print(f"run {row.run_id}  {row.status}  source {row.source}")
    out.print(f"started {row.started_at}  finished {row.finished_at}")
    out.print_json(data=row.counts)
    if row.error:
        out.print(f"[red]error:[/red] {row.error}")
    for problem in row.errors or []:
        out.print(f"  {problem}")


async def _runs(*, limit: int, id_prefix: str = "") -> list[Any]:
    """The newest sync runs, or the newest whose id starts with `id_prefix`."""
    from registry_sync.adapters.tables import sync_runs

    runtime = registry_runtime(PlatformSettings(), KafkaSettings(), RegistrySyncSettings())
    await runtime.migrate()
    query = sa.select(sync_runs).order_by(sync_runs.c.started_at.desc()).limit(limit)
    if id_prefix:
        query = query.where(sync_runs.c.run_id.startswith(id_prefix, autoescape=True))
    try:
        async with runtime.sessions() as session:
            return list(await session.execute(query))
    finally:
        await runtime.engine.dispose()
