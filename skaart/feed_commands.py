"""`skaart registry pull`: read the source's delta feed once, from the stored cursor.

Importing this module adds the command to `skaart registry` (see `skaart/cli.py`).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from registry_sync.config import RegistrySyncSettings
from servicekit.settings import KafkaSettings, PlatformSettings
from skaart.registry_commands import (
    BrokerUnreachable,
    console,
    publish_or_wait,
    registry_app,
    summary_table,
)

if TYPE_CHECKING:
    from registry_sync.handlers.pull_changes import PullResult

# The feed client and its handlers are imported when `pull` runs: every `skaart registry`
# command imports this module (it adds `pull` to the group), and `import` needs none of it.


def _summary_table(result: PullResult) -> Table:
    from registry_sync.adapters.delta_feed import describe_cursor

    table = summary_table(
        result.summary,
        title="Pull",
        head=[("feed", result.summary.source), ("pages", f"{result.pages:,}")],
        unit="changes",
    )
    table.add_row("cursor now", describe_cursor(result.cursor))
    return table


async def _pull(
    settings: RegistrySyncSettings, url: str | None, *, lenient: bool, wait_s: float
) -> int:
    from registry_sync.adapters.delta_feed import describe_cursor
    from registry_sync.entrypoints.app import build_component, nrn_hasher
    from registry_sync.handlers.pull_changes import feed_client, pull_changes

    platform = PlatformSettings()
    kafka = KafkaSettings()
    # Without the feed URL: this one-shot pull must not also start the service's poller
    # when the runtime is started to publish the outbox.
    component = build_component(platform, kafka, settings.model_copy(update={"feed_url": None}))
    runtime = component.runtime
    await runtime.migrate()
    try:
        async with feed_client(settings, url) as client:
            with console.status(f"Pulling {client.feed_url}…"):
                result = await pull_changes(
                    client,
                    sessions=runtime.sessions,
                    outbox=runtime.outbox,
                    hasher=nrn_hasher(settings, platform),
                    page_size=settings.feed_page_size,
                    lenient=lenient or settings.feed_lenient,
                    max_errors=settings.max_reported_errors,
                )
        if not result.recorded:
            console.print(
                f"Nothing new in {client.feed_url}: already read up to cursor "
                f"{describe_cursor(result.cursor)}."
            )
            return 0
        console.print(_summary_table(result))
        for problem in result.summary.errors():
            console.print(f"  [yellow]{problem}[/yellow]")
        await publish_or_wait(
            runtime, platform, kafka, wait_s, queued=result.summary.events_published
        )
        return 0
    finally:
        await runtime.engine.dispose()


@registry_app.command("pull")
def pull_command(
    url: str | None = typer.Option(
        None, "--url", help="Base URL of the delta feed (default: REGISTRY_SYNC_FEED_URL)."
    ),
    lenient: bool = typer.Option(
        False,
        "--lenient",
        help="Skip invalid changes (reported one by one) instead of refusing their page.",
    ),
    wait: float = typer.Option(60.0, help="Seconds to wait for the running platform to publish."),
) -> None:
    """Pull the source's delta feed from where it was last read, page by page."""
    from registry_sync.adapters.delta_feed import FeedError
    from registry_sync.handlers.pull_changes import PageRejected

    settings = RegistrySyncSettings()
    if not (url or settings.feed_url):
        console.print(
            "[red]No delta feed to pull:[/red] pass --url or set REGISTRY_SYNC_FEED_URL to the "
            "base URL of the source's feed (without /changes)."
        )
        raise typer.Exit(2)
    try:
        code = asyncio.run(_pull(settings, url, lenient=lenient, wait_s=wait))
    except PageRejected as refused:
        console.print(f"[red]Page refused.[/red] {refused}")
        raise typer.Exit(2) from None
    except FeedError as error:
        console.print(f"[red]Pull failed.[/red] {error}")
        raise typer.Exit(1) from None
    except BrokerUnreachable as unpublished:
        console.print(f"[yellow]Not published.[/yellow] {unpublished}")
        raise typer.Exit(1) from None
    raise typer.Exit(code)
