"""identity's user profiles: who the platform's activated users are, by name."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events.identity import UserProfilePublished
from fiches.adapters import known_users


async def profile_published(session: AsyncSession, event: UserProfilePublished) -> None:
    """Keep the newest announcement of an activated user's profile."""
    await known_users.remember(session, event)
