"""Writes of the requests users put to managers or the editorial team (fiche_requests).

Never commits: the use case's unit of work does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from fiches.adapters.tables import fiche_requests

OPEN = "open"


class RequestStore:
    """Stores requests and their decisions, on the caller's session."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        request_id: str,
        kind: str,
        fiche_type: str,
        fiche_id: str,
        fiche_name: str,
        requester_user_id: str,
        payload: dict[str, Any],
        created_at: datetime,
    ) -> None:
        await self._session.execute(
            sa.insert(fiche_requests).values(
                request_id=request_id,
                kind=kind,
                status=OPEN,
                fiche_type=fiche_type,
                fiche_id=fiche_id,
                fiche_name=fiche_name,
                requester_user_id=requester_user_id,
                payload=payload,
                created_at=created_at,
            )
        )

    async def open_request_of(self, kind: str, fiche_id: str, user_id: str) -> str | None:
        """The id of the user's open request of this kind on this fiche, if any."""
        found = await self._session.scalar(
            sa.select(fiche_requests.c.request_id).where(
                fiche_requests.c.kind == kind,
                fiche_requests.c.fiche_id == fiche_id,
                fiche_requests.c.requester_user_id == user_id,
                fiche_requests.c.status == OPEN,
            )
        )
        return None if found is None else str(found)

    async def get_for_decision(self, request_id: str) -> Any | None:
        """The request, locked until the decision commits."""
        return (
            await self._session.execute(
                sa.select(fiche_requests)
                .where(fiche_requests.c.request_id == request_id)
                .with_for_update()
            )
        ).first()

    async def decide(
        self, request_id: str, *, status: str, at: datetime, by: str, comment: str | None
    ) -> Any:
        """Record the decision; the request as it now stands."""
        await self._session.execute(
            sa.update(fiche_requests)
            .where(fiche_requests.c.request_id == request_id)
            .values(status=status, decided_at=at, decided_by=by, comment=comment)
        )
        return (
            await self._session.execute(
                sa.select(fiche_requests).where(fiche_requests.c.request_id == request_id)
            )
        ).one()
