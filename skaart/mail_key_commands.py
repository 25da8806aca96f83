"""`skaart mail-key …`: make and inspect notifications' mail keys (docs/security.md).

identity and invitations seal e-mail addresses and links to notifications' public mail
key; only notifications holds the private key. These commands make a key pair and show
the public half of a private key, for the operator who sets the Secrets.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from servicekit.sealing import KeyRing, OpeningKey, SealingError

mail_key_app = typer.Typer(
    help="Make notifications' mail key pair (addresses and links are sealed to it).",
    no_args_is_help=True,
)
console = Console(stderr=True)


@mail_key_app.command("new")
def new_key() -> None:
    """Print a new key pair: the private key for notifications, the public one for senders."""
    key = OpeningKey.generate()
    public = key.sealing_key
    console.print(f"key id {public.key_id}")
    console.print("NOTIFICATIONS_MAIL_PRIVATE_KEYS (put it first; keep the previous key after it):")
    typer.echo(key.text())
    console.print("IDENTITY_MAIL_PUBLIC_KEY and INVITATIONS_MAIL_PUBLIC_KEY:")
    typer.echo(public.text())


@mail_key_app.command("public")
def public_key() -> None:
    """Read NOTIFICATIONS_MAIL_PRIVATE_KEYS on stdin; print the current key's public half."""
    try:
        ring = KeyRing.from_text(sys.stdin.read())
    except (SealingError, ValueError) as error:
        console.print(f"[red]Not a mail private key list:[/red] {error}")
        raise typer.Exit(2) from error
    console.print(f"key id {ring.current.key_id}")
    typer.echo(ring.current.text())
