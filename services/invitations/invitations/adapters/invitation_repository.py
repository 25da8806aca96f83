"""Reading and writing invitations and the managers view, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from invitations.adapters.tables import invitations, practice_managers
from invitations.domain.invitation import Invitation, InvitationStatus
from invitations.domain.practices import PracticeView
from servicekit.database import as_utc

# Every invitation read comes with its practice's name, in the same query.
_WITH_PRACTICE_NAME = sa.select(invitations, practice_managers.c.practice_name).select_from(
    invitations.outerjoin(
        practice_managers, practice_managers.c.practice_id == invitations.c.practice_id
    )
)


def _invitation(row: Any) -> Invitation:
    return Invitation(
        invitation_id=row.invitation_id,
        practice_id=row.practice_id,
        practice_name=row.practice_name or "",
        inviter_user_id=row.inviter_user_id,
        inviter_name=row.inviter_name,
        profession=row.profession,
        language=row.language,
        language_chosen=bool(row.language_chosen),
        status=InvitationStatus(row.status),
        created_at=as_utc(row.created_at),
        expires_at=as_utc(row.expires_at),
        ended_at=as_utc(row.ended_at) if row.ended_at is not None else None,
        ended_by_name=row.ended_by_name,
    )


class InvitationRepository:
    """The invitations and practice_managers tables behind one session."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def practice(self, practice_id: str, *, lock: bool = False) -> PracticeView | None:
        """The practice as fiches last announced it; `lock` serialises issuers (PostgreSQL)."""
        query = sa.select(practice_managers).where(practice_managers.c.practice_id == practice_id)
        if lock:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        if row is None:
            return None
        return PracticeView(
            practice_id=row.practice_id,
            practice_name=row.practice_name,
            manager_user_ids=frozenset(row.manager_user_ids),
            linked_professional_ids=frozenset(row.linked_professional_ids),
            changed_at=as_utc(row.changed_at),
        )

    async def save_practice(self, view: PracticeView, *, exists: bool) -> None:
        """Insert or replace the practice's row."""
        values = {
            "practice_name": view.practice_name,
            "manager_user_ids": sorted(view.manager_user_ids),
            "linked_professional_ids": sorted(view.linked_professional_ids),
            "changed_at": view.changed_at,
        }
        if exists:
            await self._session.execute(
                sa.update(practice_managers)
                .where(practice_managers.c.practice_id == view.practice_id)
                .values(**values)
            )
        else:
            await self._session.execute(
                sa.insert(practice_managers).values(practice_id=view.practice_id, **values)
            )

    async def by_digest(self, digest: str) -> tuple[Invitation, str] | None:
        """The invitation whose link token has this digest, with the stored digest."""
        row = (
            await self._session.execute(
                _WITH_PRACTICE_NAME.where(invitations.c.token_digest == digest)
            )
        ).first()
        if row is None:
            return None
        return _invitation(row), row.token_digest

    async def by_id(self, invitation_id: str) -> Invitation | None:
        """One invitation by id."""
        row = (
            await self._session.execute(
                _WITH_PRACTICE_NAME.where(invitations.c.invitation_id == invitation_id)
            )
        ).first()
        return _invitation(row) if row is not None else None

    async def sealed_address(self, invitation_id: str) -> str | None:
        """The encrypted address of an open invitation (erased once it ended)."""
        value = await self._session.scalar(
            sa.select(invitations.c.sealed_address).where(
                invitations.c.invitation_id == invitation_id
            )
        )
        return str(value) if value is not None else None

    async def of_practice(self, practice_id: str) -> list[Invitation]:
        """Every invitation of a practice, newest first."""
        rows = await self._session.execute(
            _WITH_PRACTICE_NAME.where(invitations.c.practice_id == practice_id).order_by(
                invitations.c.created_at.desc(), invitations.c.invitation_id
            )
        )
        return [_invitation(row) for row in rows]

    async def count_open(self, practice_id: str, now: datetime) -> int:
        """Open, unlapsed invitations of a practice (what the cap counts)."""
        count = await self._session.scalar(
            sa.select(sa.func.count())
            .select_from(invitations)
            .where(
                invitations.c.practice_id == practice_id,
                invitations.c.status == InvitationStatus.OPEN.value,
                invitations.c.expires_at > now,
            )
        )
        return int(count or 0)

    async def for_address(self, practice_id: str, fingerprint: str) -> list[Any]:
        """The practice's invitations to one address (by its keyed hash)."""
        rows = await self._session.execute(
            sa.select(
                invitations.c.invitation_id,
                invitations.c.status,
                invitations.c.expires_at,
                invitations.c.ended_at,
                invitations.c.accepted_professional_id,
            ).where(
                invitations.c.practice_id == practice_id,
                invitations.c.address_fingerprint == fingerprint,
            )
        )
        return list(rows)

    async def add(self, values: Mapping[str, Any]) -> None:
        """Insert one invitation."""
        await self._session.execute(sa.insert(invitations).values(**values))

    async def end(
        self,
        invitation_id: str,
        status: InvitationStatus,
        now: datetime,
        *,
        token_digest: str | None = None,
        must_be_unlapsed: bool = True,
        **values: Any,
    ) -> bool:
        """Move an open invitation to a final status; False when it was no longer open.

        One conditional UPDATE: of two concurrent answers exactly one finds it open
        (PostgreSQL re-checks the condition after the winner's commit; SQLite has one
        writer at a time). The sealed address is erased: nothing is sent to it anymore.
        """
        conditions = [
            invitations.c.invitation_id == invitation_id,
            invitations.c.status == InvitationStatus.OPEN.value,
        ]
        if token_digest is not None:
            conditions.append(invitations.c.token_digest == token_digest)
        if must_be_unlapsed:
            conditions.append(invitations.c.expires_at > now)
        result = await self._session.execute(
            sa.update(invitations)
            .where(*conditions)
            .values(status=status.value, ended_at=now, sealed_address=None, **values)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def renew_token(
        self, invitation_id: str, token_digest: str, expires_at: datetime, now: datetime
    ) -> bool:
        """Give an open invitation a new token (the old one stops working) and expiry."""
        result = await self._session.execute(
            sa.update(invitations)
            .where(
                invitations.c.invitation_id == invitation_id,
                invitations.c.status == InvitationStatus.OPEN.value,
                invitations.c.expires_at > now,
            )
            .values(
                token_digest=token_digest,
                expires_at=expires_at,
                mails_sent=invitations.c.mails_sent + 1,
            )
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def lapsed(self, now: datetime, limit: int) -> Sequence[Invitation]:
        """Open invitations whose link has expired, oldest first."""
        rows = await self._session.execute(
            _WITH_PRACTICE_NAME.where(
                invitations.c.status == InvitationStatus.OPEN.value,
                invitations.c.expires_at <= now,
            )
            .order_by(invitations.c.expires_at)
            .limit(limit)
        )
        return [_invitation(row) for row in rows]
