"""Read views of requests: the team's work queue, a practice's open requests, mine.

Requests are shown with the names of who asked and who decided (from fiches' directory
of known users; None for a user it does not know), never an address. The lists read by
those who decide (the team's queue, a practice's open requests) also give an open
proposal's `current` values: what each field it changes holds now in the edit version, so
a decider compares before approving. A requester's own list does not: the edit version
is the managers' and the team's, not the public's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events.fiches import RequestKind
from fiches.adapters import known_users
from fiches.adapters.request_store import OPEN
from fiches.adapters.tables import fiche_requests, practice_fiches
from fiches.domain.practice_fiche import PRACTICE
from servicekit.database import as_utc


def request_view(row: Any) -> dict[str, Any]:
    return {
        "request_id": row.request_id,
        "kind": row.kind,
        "status": row.status,
        "fiche_type": row.fiche_type,
        "fiche_id": row.fiche_id,
        "fiche_name": row.fiche_name,
        "requester_user_id": row.requester_user_id,
        "payload": row.payload,
        "created_at": as_utc(row.created_at),
        "decided_at": as_utc(row.decided_at),
        "decided_by": row.decided_by,
        "comment": row.comment,
    }


class RequestQueries:
    """What people read of requests, on one session."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def views(self, rows: Iterable[Any]) -> list[dict[str, Any]]:
        found = list(rows)
        names = await known_users.names(
            self._session,
            [r.requester_user_id for r in found] + [r.decided_by for r in found if r.decided_by],
        )
        return [
            {
                **request_view(r),
                "requester_name": names.get(r.requester_user_id),
                "decided_by_name": names.get(r.decided_by) if r.decided_by else None,
            }
            for r in found
        ]

    async def work_queue(
        self,
        *,
        kind: str | None,
        status: str | None,
        fiche_id: str | None,
        limit: int,
        offset: int,
    ) -> dict[str, Any]:
        """Oldest first, filtered by kind, status and fiche."""
        conditions: list[Any] = []
        if kind is not None:
            conditions.append(fiche_requests.c.kind == kind)
        if status is not None:
            conditions.append(fiche_requests.c.status == status)
        if fiche_id is not None:
            conditions.append(fiche_requests.c.fiche_id == fiche_id)
        total = await self._session.scalar(
            sa.select(sa.func.count()).select_from(fiche_requests).where(*conditions)
        )
        rows = await self._session.execute(
            sa.select(fiche_requests)
            .where(*conditions)
            .order_by(fiche_requests.c.created_at, fiche_requests.c.request_id)
            .limit(limit)
            .offset(offset)
        )
        items = await self.with_current_values(await self.views(rows))
        return {"items": items, "total": total or 0, "limit": limit, "offset": offset}

    async def open_on_fiche(self, fiche_id: str, kinds: Iterable[str]) -> list[dict[str, Any]]:
        rows = await self._session.execute(
            sa.select(fiche_requests)
            .where(
                fiche_requests.c.fiche_id == fiche_id,
                fiche_requests.c.status == OPEN,
                fiche_requests.c.kind.in_(list(kinds)),
            )
            .order_by(fiche_requests.c.created_at)
        )
        return await self.with_current_values(await self.views(rows))

    async def with_current_values(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each open proposal with `current`: its fields' values in the practice's edit
        version now (a field the edit version does not hold is null). Read in one query
        for the page's proposals."""
        proposals = [
            item
            for item in items
            if item["kind"] == RequestKind.PROPOSAL
            and item["status"] == OPEN
            and item["fiche_type"] == PRACTICE
        ]
        if not proposals:
            return items
        drafts = dict(
            (
                await self._session.execute(
                    sa.select(practice_fiches.c.practice_id, practice_fiches.c.draft).where(
                        practice_fiches.c.practice_id.in_({p["fiche_id"] for p in proposals})
                    )
                )
            ).all()
        )
        for item in proposals:
            draft = drafts.get(item["fiche_id"]) or {}
            changes = (item["payload"] or {}).get("changes") or {}
            item["current"] = {name: draft.get(name) for name in changes}
        return items

    async def of_requester(self, user_id: str) -> list[dict[str, Any]]:
        rows = await self._session.execute(
            sa.select(fiche_requests)
            .where(fiche_requests.c.requester_user_id == user_id)
            .order_by(fiche_requests.c.created_at)
        )
        return await self.views(rows)
