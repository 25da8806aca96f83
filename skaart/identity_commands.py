"""`skaart identity …`: operator commands of identity (team role, signing keys)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from servicekit.settings import KafkaSettings, PlatformSettings

if TYPE_CHECKING:
    from identity.entrypoints.app import IdentityComponent

identity_app = typer.Typer(
    help="Operate identity: the team role and the access-token signing keys.",
    no_args_is_help=True,
)
console = Console(stderr=True)
T = TypeVar("T")


def _run(work: Callable[[IdentityComponent], Awaitable[T]]) -> T:
    """Run `work(component)` against identity's database (migrated first)."""
    from identity.adapters.kv import MemoryStore
    from identity.entrypoints.app import build_component

    async def main() -> T:
        # Only the database is used: the running service's relay publishes what these
        # commands put in the outbox. The store is never touched by them.
        component = build_component(PlatformSettings(), KafkaSettings(), store=MemoryStore())
        await component.runtime.migrate()
        try:
            return await work(component)
        finally:
            await component.runtime.engine.dispose()

    return asyncio.run(main())


def _set_team(user_id: str, team: bool) -> None:
    async def work(component: IdentityComponent) -> bool:
        return await component.use_cases.team.set_team(user_id, team)

    if not _run(work):
        console.print(
            f"[red]no user {user_id!r}[/red]: the id is the `user_id` of GET /api/identity/me "
            "(the person must have logged in once)"
        )
        raise typer.Exit(1)
    what = "granted" if team else "withdrawn"
    console.print(f"team role {what} for {user_id}; it applies from their next access token")


@identity_app.command("grant-team")
def grant_team(user_id: str = typer.Argument(..., help="identity's user id")) -> None:
    """Give a user the team role (editorial staff of the social map)."""
    _set_team(user_id, True)


@identity_app.command("revoke-team")
def revoke_team(user_id: str = typer.Argument(..., help="identity's user id")) -> None:
    """Take the team role away from a user."""
    _set_team(user_id, False)


@identity_app.command("rotate-key")
def rotate_key(
    grace_s: int | None = typer.Option(
        None,
        "--grace",
        help="Seconds the new key is announced before use (default IDENTITY_SIGNING_KEY_GRACE_S).",
    ),
) -> None:
    """Announce a new signing key: it signs after the grace period; the old one retires."""
    from identity.config import Settings

    grace = Settings().signing_key_grace_s if grace_s is None else grace_s

    async def work(component: IdentityComponent) -> tuple[str, list[str]]:
        async with component.runtime.sessions.begin() as session:
            return await component.use_cases.keys.rotate(session, timedelta(seconds=grace))

    kid, retiring = _run(work)
    used_from = datetime.now(UTC) + timedelta(seconds=grace)
    console.print(f"new key {kid} announced; it signs from {used_from:%Y-%m-%d %H:%M:%S} UTC")
    for old in retiring:
        console.print(f"key {old} retires once the tokens it signed have expired")


@identity_app.command("list-keys")
def list_keys() -> None:
    """The signing keys, their dates, and whether their announcement was published."""

    async def work(component: IdentityComponent) -> list[dict[str, Any]]:
        async with component.runtime.sessions() as session:
            return await component.use_cases.keys.listing(session)

    table = Table("kid", "signs from", "retires after", "announced")
    for key in _run(work):
        table.add_row(
            str(key["kid"]),
            f"{key['not_before']:%Y-%m-%d %H:%M:%S}",
            f"{key['retire_after']:%Y-%m-%d %H:%M:%S}" if key["retire_after"] else "-",
            "yes" if key["announced"] else "not yet (is identity running?)",
        )
    console.print(table)
