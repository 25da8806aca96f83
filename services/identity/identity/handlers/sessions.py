"""Login sessions: opened after a login, handed to the portal, read, and ended.

A session is a row keyed by the hash of its token (the browser's cookie, or the portal's
server-side copy). A professional session is checked against the register whenever it
is used (`SessionRights`): one the register no longer backs is ended before the refusal
says why. Logging out revokes the session in Redis too, so the access tokens already
issued are refused by every service that verifies them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity.adapters.kv import KeyValueStore
from identity.adapters.tables import sessions, users
from identity.config import HANDOFF_TTL_S, Settings
from identity.domain.secrets import new_token, token_hash
from identity.handlers.problems import Problem, UserStatus, utc_now
from identity.handlers.roles import session_roles
from identity.handlers.session_rights import REVOCATION_MARGIN_S, SessionRights
from servicekit.auth import SessionEnded
from servicekit.database import as_utc

log = logging.getLogger(__name__)

_NEXT_STEP = {
    UserStatus.NEEDS_EMAIL: "Give your e-mail address: PUT /api/identity/me/email.",
    UserStatus.PENDING_ACTIVATION: "Follow the activation link we e-mailed you "
    "(or ask for a new one: POST /api/identity/me/email/resend).",
    UserStatus.ACTIVE: "Get an access token: POST /api/identity/token.",
}


@dataclass(frozen=True)
class NewSession:
    """A session after a successful login."""

    token: str
    session_id: str
    user_id: str
    return_to: str


def rights_ended_problem(ended: SessionEnded) -> Problem:
    """The refusal of a professional session the register no longer backs."""
    return Problem(
        401,
        "professional_rights_ended",
        ended.message[:1].upper() + ended.message[1:] + ".",
        "Log in again: as a professional if the register still allows you to practise "
        "(/api/identity/login?as=professional), otherwise as a citizen "
        "(/api/identity/login?as=citizen).",
        extra={"check": ended.code},
    )


@dataclass
class Sessions:
    """Opens, reads, hands over and ends login sessions."""

    db: async_sessionmaker[AsyncSession]
    store: KeyValueStore
    rights: SessionRights
    settings: Settings

    async def open(
        self,
        session: AsyncSession,
        *,
        user_id: str,
        login_as: str,
        professional: tuple[str | None, Sequence[str]],
        return_to: str,
        now: datetime,
    ) -> NewSession:
        """A new session of `user_id`, in the login's transaction.

        `professional` is the `professional_id` and the professions the register allowed
        at this login (None and none for a citizen login).
        """
        professional_id, professions = professional
        token, session_id = new_token(), str(uuid.uuid4())
        await session.execute(
            sa.insert(sessions).values(
                session_id=session_id,
                token_hash=token_hash(token),
                user_id=user_id,
                login_as=login_as,
                professional_id=professional_id,
                professions=list(professions),
                created_at=now,
                expires_at=now + timedelta(hours=self.settings.session_ttl_hours),
            )
        )
        return NewSession(token, session_id, user_id, return_to)

    # --- the portal's server-side hand-over ------------------------------------------------

    async def hand_over(self, new: NewSession) -> str:
        """A one-time code the portal exchanges, server-side, for this session."""
        code = new_token()
        await self.store.put("handoff:" + token_hash(code), new.session_id, HANDOFF_TTL_S)
        return code

    async def take_hand_over(self, code: str) -> dict[str, Any]:
        """The session behind a hand-over code, under a fresh token (the code works once)."""
        session_id = await self.store.take("handoff:" + token_hash(code)) if code else None
        if session_id is None:
            raise Problem(
                400,
                "handoff_invalid",
                "This login hand-over code is unknown, used or expired.",
                "Log in again.",
            )
        token = new_token()
        async with self.db.begin() as session:
            row = (
                await session.execute(
                    sa.update(sessions)
                    .where(sessions.c.session_id == session_id, sessions.c.revoked_at.is_(None))
                    .values(token_hash=token_hash(token))
                    .returning(sessions.c.expires_at)
                )
            ).first()
        if row is None:
            raise Problem(401, "session_ended", "The session has ended.", "Log in again.")
        return {"session": token, "expires_at": as_utc(row.expires_at).isoformat()}

    # --- reading a session ----------------------------------------------------------------

    async def of_token(self, session: AsyncSession, token: str | None) -> Any:
        """The open session (joined with its user) a token names; a Problem otherwise."""
        if not token:
            raise Problem(
                401, "not_logged_in", "You are not logged in.", "Log in at /api/identity/login."
            )
        row = (
            await session.execute(
                sa.select(sessions, users)
                .join(users, users.c.user_id == sessions.c.user_id)
                .where(sessions.c.token_hash == token_hash(token))
            )
        ).first()
        if row is not None and row.revoked_at is not None:
            ended = await self.store.session_ended(row.session_id)
            if ended is not None and ended.code != "logged_out":
                raise rights_ended_problem(ended)
        if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= utc_now():
            raise Problem(
                401,
                "session_ended",
                "Your session has ended (logged out or expired).",
                "Log in again at /api/identity/login.",
            )
        return row

    async def live(self, token: str | None) -> Any:
        """The session, after checking that the register still backs a professional one.

        A session the register no longer backs is ended here (and everywhere its tokens
        are verified) before the refusal says why.
        """
        async with self.db.begin() as db:
            row = await self.of_token(db, token)
            ended: dict[str, SessionEnded] = {}
            if row.login_as == "professional" and row.professional_id:
                ended = await self.rights.review(db, [row.professional_id])
        # Raised after the commit: the session stays ended.
        if row.session_id in ended:
            raise rights_ended_problem(ended[row.session_id])
        return row

    async def me(self, token: str | None) -> dict[str, Any]:
        """The logged-in user's own profile (their own address included)."""
        row = await self.live(token)
        return {
            "user_id": row.user_id,
            "status": row.status,
            "next_step": _NEXT_STEP[row.status],
            "given_name": row.given_name,
            "surname": row.surname,
            "language": row.language,
            "email": row.email,
            "roles": [str(role) for role in session_roles(row)],
            "professional_id": row.professional_id if row.login_as == "professional" else None,
            "professions": list(row.professions),
        }

    # --- ending a session -----------------------------------------------------------------

    async def end(self, token: str | None) -> None:
        """Log out: end the session; its access tokens are refused from now on."""
        if not token:
            return
        async with self.db.begin() as session:
            row = (
                await session.execute(
                    sa.select(sessions.c.session_id, sessions.c.revoked_at).where(
                        sessions.c.token_hash == token_hash(token)
                    )
                )
            ).first()
            if row is None:
                return
            await session.execute(
                sa.update(sessions)
                .where(sessions.c.session_id == row.session_id)
                .values(revoked_at=utc_now())
            )
        await self.store.revoke_session(
            row.session_id, self.settings.access_token_ttl_s + REVOCATION_MARGIN_S
        )
        log.info("logout", extra={"session_id": row.session_id})
