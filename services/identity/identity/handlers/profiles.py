"""Announcing activated users' profiles on `identity.profiles.v1`.

fiches names managers and finds the person a manager grants rights to from these events:
the name, and a keyed hash of the verified address (never the address). A profile is
announced at activation and again when a login brings a new name; a user activated before
profiles existed (or whose announcement was lost) is announced by the background sweep,
which picks up every active user with no announcement of their current name.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.events.identity import UserProfilePublished
from identity.adapters.tables import users
from servicekit.email_lookup import email_lookup
from servicekit.messaging.outbox import Outbox

log = logging.getLogger(__name__)

#: Users announced per round of the sweep.
SWEEP_BATCH = 500


@dataclass
class Profiles:
    """Puts profile announcements in the outbox, in the caller's transaction."""

    outbox: Outbox
    lookup_key: str

    def event(self, user: Any, now: datetime) -> UserProfilePublished:
        """The profile of an activated user row (with its verified address)."""
        return UserProfilePublished(
            user_id=user.user_id,
            display_name=f"{user.given_name} {user.surname}".strip(),
            email_lookup=email_lookup(user.email, self.lookup_key),
            professional_id=user.professional_id,
            occurred_at=now,
        )

    async def announce(self, session: AsyncSession, user_id: str) -> None:
        """Announce the user's current profile (an active user with an address)."""
        user = (await session.execute(sa.select(users).where(users.c.user_id == user_id))).one()
        if user.status != "active" or not user.email:
            return
        now = datetime.now(UTC)
        await self.outbox.add(session, self.event(user, now))
        await session.execute(
            sa.update(users).where(users.c.user_id == user_id).values(profile_announced_at=now)
        )

    async def announce_missing(self, sessions: async_sessionmaker[AsyncSession]) -> int:
        """One round of the sweep: announce active users without an announcement."""
        async with sessions.begin() as session:
            pending = (
                await session.execute(
                    sa.select(users.c.user_id)
                    .where(
                        users.c.status == "active",
                        users.c.email.is_not(None),
                        users.c.profile_announced_at.is_(None),
                    )
                    .limit(SWEEP_BATCH)
                )
            ).scalars()
            announced = 0
            for user_id in list(pending):
                await self.announce(session, user_id)
                announced += 1
        if announced:
            self.outbox.notify_committed()
            log.info("user profiles announced", extra={"count": announced})
        return announced
