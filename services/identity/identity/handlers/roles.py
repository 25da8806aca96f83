"""Roles: what a session may do, what an activated profile is announced with, and the
team role operators grant (`skaart identity grant-team`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.events.identity import Role
from identity.adapters.tables import users
from identity.handlers.problems import rowcount


def session_roles(row: Any) -> list[Role]:
    """A session's roles: as whom it logged in, and the team role of its user."""
    roles = [Role.PROFESSIONAL if row.login_as == "professional" else Role.CITIZEN]
    if row.team:
        roles.append(Role.TEAM)
    return roles


def profile_roles(user: Any) -> tuple[Role, ...]:
    """An activated user's roles: a citizen, a professional when the register knows
    them as one, and the team role when granted."""
    roles = [Role.CITIZEN]
    if user.professional_id:
        roles.append(Role.PROFESSIONAL)
    if user.team:
        roles.append(Role.TEAM)
    return tuple(roles)


@dataclass
class TeamRole:
    """Grants and withdraws the team role (editorial staff of the social map)."""

    db: async_sessionmaker[AsyncSession]

    async def set_team(self, user_id: str, team: bool) -> bool:
        """Grant or withdraw the team role; False when no such user."""
        async with self.db.begin() as session:
            result = await session.execute(
                sa.update(users).where(users.c.user_id == user_id).values(team=team)
            )
        return rowcount(result) > 0
