"""`skaart mail …`: read the development mailbox of the platform running on this machine.

In development, notifications sends every e-mail to a local SMTP server that keeps each
message as an `.eml` file under the data folder (`.skaart/mailbox/`); these commands
read that folder, so they work from another terminal while `skaart up` runs.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from notifications.adapters.dev_mailbox import StoredMessage, read_mailbox
from notifications.entrypoints.app import MAILBOX_DIRNAME
from servicekit.settings import PlatformSettings
from skaart.runtime_file import read_running_platform

mail_app = typer.Typer(
    help="Read the development mailbox (e-mails the platform sent in development).",
    no_args_is_help=True,
)
console = Console(stderr=True)


def _messages(platform: PlatformSettings) -> list[StoredMessage]:
    if not platform.is_development:
        console.print(
            "[red]The development mailbox exists only in development[/red] "
            "(SKAART_ENVIRONMENT=development); in production mail goes to the SMTP relay."
        )
        raise typer.Exit(2)
    return read_mailbox(platform.data_dir / MAILBOX_DIRNAME)


def _web_view(platform: PlatformSettings) -> str | None:
    running = read_running_platform(platform)
    return f"{running['http']}/api/notifications/dev/mailbox" if running else None


@mail_app.command("list")
def list_command(
    limit: int = typer.Option(20, min=1, help="How many messages, newest first."),
) -> None:
    """List the messages received, newest first."""
    platform = PlatformSettings()
    messages = _messages(platform)
    web = _web_view(platform)
    if not messages:
        if web:
            console.print(f"No messages yet. The platform runs; its mailbox page is {web}")
        else:
            console.print(
                f"No messages in {platform.data_dir / MAILBOX_DIRNAME}. Start the platform "
                "with `skaart up` (or `make up`), then sign up to receive an activation mail."
            )
        return
    table = Table("id", "date", "to", "subject")
    for stored in list(reversed(messages))[:limit]:
        table.add_row(stored.id, str(stored.message["Date"] or ""), stored.to, stored.subject)
    Console().print(table)
    if web:
        console.print(f"In a browser: {web}")


@mail_app.command("show")
def show_command(
    message_id: str = typer.Argument(
        ..., help="A message id from `skaart mail list`, its start, or `last`."
    ),
    html: bool = typer.Option(False, "--html", help="Print the HTML part instead of the text."),
    raw: bool = typer.Option(False, "--raw", help="Print the whole message as received."),
) -> None:
    """Show one message: its headers, its links, and its text (or HTML) part."""
    platform = PlatformSettings()
    messages = _messages(platform)
    if message_id == "last":
        matches = messages[-1:]
    else:
        matches = [m for m in messages if m.id.startswith(message_id)]
    if len(matches) != 1:
        problem = "no message" if not matches else f"{len(matches)} messages"
        console.print(
            f"[red]{problem} with id {message_id!r}[/red]; "
            "see `skaart mail list` for the ids (or use `last`)."
        )
        raise typer.Exit(1)
    stored = matches[0]
    out = Console(highlight=False)
    if raw:
        out.print(stored.path.read_text(errors="replace"), markup=False)
        return
    for name in ("Date", "From", "To", "Subject"):
        out.print(f"{name}: {stored.message[name] or ''}", markup=False)
    links = stored.links()
    if links:
        out.print("Links:")
        for link in links:
            out.print(f"  {link}", markup=False)
    out.print()
    out.print(stored.part("html" if html else "plain"), markup=False)
