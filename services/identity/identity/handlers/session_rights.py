"""A professional's sessions follow the register while they are open.

A session opened as professional carries the professions the register allowed at login.
When the register withdraws that right (visa lost, RIZIV number stopped, practice ban,
deceased, removed) or takes away a profession the session carries, identity ends the
session at once: its row is revoked (no new access token), and the revoked-session mark in
Redis carries the reason, so the verifying services refuse the tokens already issued at the
next request and say why. The person logs in again: as a professional with the rights the
register gives now, or as a citizen.

This runs after each batch of registry events (in the batch's transaction) and at every
token exchange, so a change reaches the sessions within seconds of the event, and a token
is never minted from facts older than the last event identity applied.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.base import Event
from identity.adapters.kv import KeyValueStore
from identity.adapters.tables import sessions
from identity.domain.eligibility import Decision, decide
from identity.handlers.registry_events import facts_of
from servicekit.auth import SessionEnded
from servicekit.database import as_utc

log = logging.getLogger(__name__)

#: Seconds a revoked-session mark outlives the access tokens (verifiers' clock leeway).
REVOCATION_MARGIN_S = 60
#: The code of a session ended because it carries a profession the register withdrew.
PROFESSIONS_CHANGED = "professions_changed"


def ending_reason(carried: Sequence[str], decision: Decision) -> SessionEnded | None:
    """Why a professional session carrying `carried` must end now; None when it may go on."""
    if decision.refusal is not None:
        return SessionEnded(
            decision.refusal.value,
            "your professional session was ended because the register changed: "
            + decision.message.rstrip("."),
        )
    withdrawn = sorted(set(carried) - set(decision.professions))
    if withdrawn:
        return SessionEnded(
            PROFESSIONS_CHANGED,
            "your professional session was ended because the register no longer allows "
            f"you to practise as {', '.join(withdrawn)}",
        )
    return None


@dataclass
class SessionRights:
    """Ends the professional sessions the register no longer backs."""

    store: KeyValueStore
    access_token_ttl_s: int

    async def review(
        self, db: AsyncSession, professional_ids: Iterable[str]
    ) -> dict[str, SessionEnded]:
        """End the open professional sessions of these people that lost rights.

        Returns `{session_id: SessionEnded}` of the sessions ended now.
        """
        wanted = sorted(set(professional_ids))
        if not wanted:
            return {}
        now = datetime.now(UTC)
        open_sessions = (
            await db.execute(
                sa.select(
                    sessions.c.session_id,
                    sessions.c.professional_id,
                    sessions.c.professions,
                    sessions.c.expires_at,
                ).where(
                    sessions.c.login_as == "professional",
                    sessions.c.professional_id.in_(wanted),
                    sessions.c.revoked_at.is_(None),
                    sessions.c.expires_at > now,
                )
            )
        ).all()
        decisions: dict[str, Decision] = {}
        ended: dict[str, SessionEnded] = {}
        for row in open_sessions:
            if row.professional_id not in decisions:
                decisions[row.professional_id] = decide(await facts_of(db, row.professional_id))
            reason = ending_reason(row.professions, decisions[row.professional_id])
            if reason is None:
                continue
            await db.execute(
                sa.update(sessions)
                .where(sessions.c.session_id == row.session_id)
                .values(revoked_at=now)
            )
            # The mark lives as long as the session would have: the person is told why at
            # any later request, not only within the access tokens' lifetime.
            remaining = int((as_utc(row.expires_at) - now).total_seconds())
            ttl = max(remaining, self.access_token_ttl_s) + REVOCATION_MARGIN_S
            await self._mark(row.session_id, ttl, reason)
            ended[row.session_id] = reason
            log.info(
                "professional session ended by a register change",
                extra={"session_id": row.session_id, "check": reason.code},
            )
        return ended

    async def _mark(self, session_id: str, ttl_s: int, reason: SessionEnded) -> None:
        import redis.exceptions

        try:
            await self.store.revoke_session(session_id, ttl_s, reason)
        except (redis.exceptions.RedisError, OSError) as error:
            # A transient failure for the consumer: the batch is delivered again once
            # Redis answers, rather than its registry events being dead-lettered.
            raise ConnectionError(f"the session store does not answer: {error}") from error

    async def after_registry_batch(self, db: AsyncSession, events: Sequence[Event]) -> None:
        """Batch hook of the registry consumer: review everyone the batch was about."""
        ids = {
            str(pid)
            for event in events
            if (pid := getattr(event, "professional_id", None)) is not None
        }
        await self.review(db, ids)
