"""Users' exports in fiches' database: requested, produced, expired, opened by link.

Plain methods on the caller's session; they never commit (the caller's transaction does).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from fiches.adapters.export_tables import fiche_exports

#: What a user may see of their own export: its state, never its link.
_STATE_COLUMNS = (
    fiche_exports.c.export_id,
    fiche_exports.c.status,
    fiche_exports.c.formats,
    fiche_exports.c.requested_at,
    fiche_exports.c.ready_at,
    fiche_exports.c.expires_at,
    fiche_exports.c.fiche_count,
)


class ExportStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_pending(
        self,
        *,
        export_id: str,
        user_id: str,
        professional_id: str | None,
        formats: list[str],
        requested_at: datetime,
        correlation_id: str | None,
    ) -> None:
        await self._session.execute(
            sa.insert(fiche_exports).values(
                export_id=export_id,
                user_id=user_id,
                professional_id=professional_id,
                formats=formats,
                status="pending",
                requested_at=requested_at,
                correlation_id=correlation_id,
            )
        )

    async def recent_request_times(self, user_id: str, now: datetime, limit: int) -> list[datetime]:
        """When the user asked for exports in the last 24 hours (newest first, at most
        `limit`)."""
        found = await self._session.scalars(
            sa.select(fiche_exports.c.requested_at)
            .where(
                fiche_exports.c.user_id == user_id,
                fiche_exports.c.requested_at > now - timedelta(days=1),
            )
            .order_by(fiche_exports.c.requested_at.desc())
            .limit(limit)
        )
        return list(found.all())

    async def states_of(self, user_id: str, limit: int) -> list[dict[str, Any]]:
        rows = await self._session.execute(
            sa.select(*_STATE_COLUMNS)
            .where(fiche_exports.c.user_id == user_id)
            .order_by(fiche_exports.c.requested_at.desc(), fiche_exports.c.export_id)
            .limit(limit)
        )
        return [dict(row._mapping) for row in rows]

    async def state(self, user_id: str, export_id: str) -> dict[str, Any] | None:
        row = (
            await self._session.execute(
                sa.select(*_STATE_COLUMNS).where(
                    fiche_exports.c.export_id == export_id,
                    fiche_exports.c.user_id == user_id,
                )
            )
        ).first()
        return None if row is None else dict(row._mapping)

    async def pending_ids(self, limit: int, *, skip_locked: bool) -> list[str]:
        """The oldest pending exports; with `skip_locked` two replicas never take the same."""
        query = (
            sa.select(fiche_exports.c.export_id)
            .where(fiche_exports.c.status == "pending")
            .order_by(fiche_exports.c.requested_at)
            .limit(limit)
        )
        if skip_locked:
            query = query.with_for_update(skip_locked=True)
        return list((await self._session.execute(query)).scalars())

    async def get(self, export_id: str) -> Any | None:
        return (
            await self._session.execute(
                sa.select(fiche_exports).where(fiche_exports.c.export_id == export_id)
            )
        ).first()

    async def mark_ready(self, export_id: str, **values: Any) -> None:
        await self._session.execute(
            sa.update(fiche_exports)
            .where(fiche_exports.c.export_id == export_id)
            .values(status="ready", **values)
        )

    async def forget_expired(self) -> int:
        """Drop the files of exports whose link has lapsed (the row stays, as a record)."""
        result = await self._session.execute(
            sa.update(fiche_exports)
            .where(
                fiche_exports.c.status == "ready",
                fiche_exports.c.expires_at < datetime.now(UTC),
            )
            .values(status="expired", csv_content=None, json_content=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)
