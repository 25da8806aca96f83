"""The first login's e-mail step: an address given, an activation link mailed, used once.

The link's token is kept as a hash only. The mail request goes to notifications through
the outbox with the address and the link sealed to notifications' key: the outbox row,
the topic record and notifications' delivery row never hold them in clear. An active user
who changes their address stays active with the old one until the new one is activated
from its own link.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.events.identity import ActivationMailRequested, ProfileActivated
from identity.adapters.tables import email_verifications, users
from identity.config import ACTIVATION_LINK_PATH, Settings
from identity.domain.secrets import new_token, token_hash
from identity.handlers.problems import Problem, UserStatus, rowcount, utc_now
from identity.handlers.profiles import Profiles
from identity.handlers.rate_limits import RateLimits
from identity.handlers.roles import profile_roles
from identity.handlers.sessions import Sessions
from servicekit.messaging.outbox import Outbox
from servicekit.sealing import purpose

log = logging.getLogger(__name__)

_NEW_LINK = (
    "Log in and ask for a new link (POST /api/identity/me/email/resend), "
    "or use the newest link we sent."
)


def _usable_address(email: str) -> str:
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise Problem(
            422,
            "invalid_email",
            f"This is not a usable e-mail address: {error}",
            "Correct the address and send it again.",
            field_name="email",
        ) from error


def activation_problem(verification: Any) -> Problem:
    """Why an activation link (its row, None when unknown) cannot be used."""
    if verification is None:
        return Problem(
            400,
            "activation_link_invalid",
            "This activation link is not valid (it may be incomplete).",
            "Copy the whole link from the e-mail. " + _NEW_LINK,
            field_name="token",
        )
    if verification.used_at is not None:
        return Problem(
            410,
            "activation_link_used",
            "This activation link was already used.",
            "If your profile is active, just log in. Otherwise: " + _NEW_LINK,
        )
    if verification.superseded_at is not None:
        return Problem(
            410,
            "activation_link_replaced",
            "A newer activation link was sent; this one no longer works.",
            _NEW_LINK,
        )
    return Problem(410, "activation_link_expired", "This activation link has expired.", _NEW_LINK)


@dataclass(frozen=True)
class _NewLink:
    """An activation link being issued: its token (mailed, never stored) and dates."""

    token: str
    verification_id: str
    created_at: datetime
    expires_at: datetime


@dataclass
class Activation:
    """Records addresses, mails activation links and uses them."""

    db: async_sessionmaker[AsyncSession]
    outbox: Outbox
    sessions: Sessions
    limits: RateLimits
    profiles: Profiles
    settings: Settings

    async def set_email(self, token: str | None, email: str) -> dict[str, Any]:
        """Record the user's address (once) and mail an activation link."""
        address = _usable_address(email)
        async with self.db() as session:
            row = await self.sessions.of_token(session, token)
        if row.status == UserStatus.ACTIVE and row.email == address:
            raise Problem(
                409,
                "email_already_verified",
                "This e-mail address is already your verified address.",
                "Nothing to do: your profile is active with it.",
            )
        await self.limits.activation_mail(address, row.session_id)
        return await self._send_link(row.user_id, address)

    async def resend(self, token: str | None) -> dict[str, Any]:
        """A new activation link to the address given (the older links stop working)."""
        async with self.db() as session:
            row = await self.sessions.of_token(session, token)
        if row.status != UserStatus.PENDING_ACTIVATION or not row.email:
            raise Problem(
                409,
                "nothing_to_resend",
                "There is no activation pending for your profile.",
                "Give your address first (PUT /api/identity/me/email)."
                if row.status == UserStatus.NEEDS_EMAIL
                else "Nothing to do: your profile is active.",
            )
        await self.limits.activation_mail(row.email, row.session_id)
        return await self._send_link(row.user_id, row.email)

    def _url(self, token: str) -> str:
        # The portal's page (people open pages, not APIs); it learns the user's language
        # from the activation's answer, as the mail may be opened logged out.
        return (
            self.settings.public_base_url.rstrip("/")
            + ACTIVATION_LINK_PATH
            + "?"
            + urlencode({"token": token})
        )

    async def _send_link(self, user_id: str, address: str) -> dict[str, Any]:
        now = utc_now()
        link = _NewLink(
            token=new_token(),
            verification_id=str(uuid.uuid4()),
            created_at=now,
            expires_at=now + timedelta(hours=self.settings.activation_link_ttl_hours),
        )
        async with self.db.begin() as session:
            user = (await session.execute(sa.select(users).where(users.c.user_id == user_id))).one()
            await self._record_link(session, user, address, link)
            await self._request_mail(session, user, address, link)
        self.outbox.notify_committed()
        log.info("activation link issued", extra={"user_id": user_id})
        return {
            "status": UserStatus.PENDING_ACTIVATION,
            "email": address,
            "expires_at": link.expires_at,
        }

    async def _record_link(
        self, session: AsyncSession, user: Any, address: str, link: _NewLink
    ) -> None:
        """The new link replaces the older unused ones; a user not yet active waits for it."""
        await session.execute(
            sa.update(email_verifications)
            .where(
                email_verifications.c.user_id == user.user_id,
                email_verifications.c.used_at.is_(None),
                email_verifications.c.superseded_at.is_(None),
            )
            .values(superseded_at=link.created_at)
        )
        await session.execute(
            sa.insert(email_verifications).values(
                verification_id=link.verification_id,
                user_id=user.user_id,
                email=address,
                token_hash=token_hash(link.token),
                created_at=link.created_at,
                expires_at=link.expires_at,
            )
        )
        if user.status != UserStatus.ACTIVE:
            await session.execute(
                sa.update(users)
                .where(users.c.user_id == user.user_id)
                .values(email=address, status=UserStatus.PENDING_ACTIVATION)
            )

    async def _request_mail(
        self, session: AsyncSession, user: Any, address: str, link: _NewLink
    ) -> None:
        """The mail request for notifications, sealed to its key, in the outbox."""
        mail_key = self.settings.mail_sealing_key()
        await self.outbox.add(
            session,
            ActivationMailRequested(
                verification_id=link.verification_id,
                user_id=user.user_id,
                sealed_email=mail_key.seal(address, purpose("email", user.user_id)),
                language=user.language,
                display_name=user.given_name,
                sealed_activation_url=mail_key.seal(
                    self._url(link.token), purpose("activation_url", link.verification_id)
                ),
                expires_at=link.expires_at,
                occurred_at=link.created_at,
            ),
        )

    # --- using a link ---------------------------------------------------------------------

    async def language_of(self, token: str) -> str | None:
        """The language of the user an activation link is for (the link is not used)."""
        async with self.db() as session:
            language = await session.scalar(
                sa.select(users.c.language)
                .join(email_verifications, email_verifications.c.user_id == users.c.user_id)
                .where(email_verifications.c.token_hash == token_hash(token))
            )
        return str(language) if language else None

    async def activate(self, token: str) -> dict[str, Any]:
        """Use an activation link: exactly once, before it expires."""
        now = utc_now()
        async with self.db.begin() as session:
            verification = await self._claim_link(session, token_hash(token), now)
            user = (
                await session.execute(
                    sa.select(users).where(users.c.user_id == verification.user_id)
                )
            ).one()
            await session.execute(
                sa.update(users)
                .where(users.c.user_id == user.user_id)
                .values(email=verification.email, status=UserStatus.ACTIVE, activated_at=now)
            )
            await self.outbox.add(
                session,
                ProfileActivated(
                    user_id=user.user_id,
                    sealed_email=self.settings.mail_sealing_key().seal(
                        verification.email, purpose("email", user.user_id)
                    ),
                    language=user.language,
                    display_name=user.given_name,
                    roles=profile_roles(user),
                    professional_id=user.professional_id,
                    occurred_at=now,
                ),
            )
            await self.profiles.announce(session, user.user_id)
        self.outbox.notify_committed()
        log.info("profile activated", extra={"user_id": user.user_id})
        return {"status": UserStatus.ACTIVE, "user_id": user.user_id, "language": user.language}

    @staticmethod
    async def _claim_link(session: AsyncSession, digest: str, now: datetime) -> Any:
        """The link's row, marked used; a Problem that says why when it cannot be used."""
        claimed = await session.execute(
            sa.update(email_verifications)
            .where(
                email_verifications.c.token_hash == digest,
                email_verifications.c.used_at.is_(None),
                email_verifications.c.superseded_at.is_(None),
                email_verifications.c.expires_at > now,
            )
            .values(used_at=now)
        )
        verification = (
            await session.execute(
                sa.select(email_verifications).where(email_verifications.c.token_hash == digest)
            )
        ).first()
        if rowcount(claimed) != 1 or verification is None:
            raise activation_problem(verification)
        return verification
