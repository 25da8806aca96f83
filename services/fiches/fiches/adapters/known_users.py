"""fiches' directory of the platform's activated users, kept from identity's profiles.

It names people (managers, requesters) and finds the person a manager grants rights to:
by the keyed hash of the address the manager types (`servicekit.email_lookup`; the address
itself is never stored) or by name. It never holds an e-mail address.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events.identity import UserProfilePublished
from fiches.adapters.tables import known_users
from servicekit.database import as_utc


def match_name(name: str) -> str:
    """What a name is matched on: case, accents and spacing do not matter."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(letters.casefold().split())


async def remember(session: AsyncSession, event: UserProfilePublished) -> None:
    """Keep the newest announcement of a user's profile."""
    existing = (
        await session.execute(
            sa.select(known_users.c.announced_at).where(known_users.c.user_id == event.user_id)
        )
    ).first()
    values = {
        "display_name": event.display_name[:400],
        "match_name": match_name(event.display_name)[:400],
        "email_lookup": event.email_lookup,
        "professional_id": event.professional_id,
        "announced_at": event.occurred_at,
    }
    if existing is None:
        await session.execute(sa.insert(known_users).values(user_id=event.user_id, **values))
    elif as_utc(existing.announced_at) <= as_utc(event.occurred_at):
        await session.execute(
            sa.update(known_users).where(known_users.c.user_id == event.user_id).values(**values)
        )


async def by_email_lookup(session: AsyncSession, lookup: str) -> Any | None:
    return (
        await session.execute(sa.select(known_users).where(known_users.c.email_lookup == lookup))
    ).first()


async def by_name(session: AsyncSession, name: str) -> list[Any]:
    rows = await session.execute(
        sa.select(known_users)
        .where(known_users.c.match_name == match_name(name))
        .order_by(known_users.c.user_id)
    )
    return list(rows)


async def names(session: AsyncSession, user_ids: Iterable[str]) -> dict[str, str]:
    """`{user_id: display_name}` of the known ones among these users."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    rows = await session.execute(
        sa.select(known_users.c.user_id, known_users.c.display_name).where(
            known_users.c.user_id.in_(wanted)
        )
    )
    return {row.user_id: row.display_name for row in rows}
