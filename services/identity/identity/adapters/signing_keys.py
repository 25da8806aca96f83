"""identity's signing keys: created, announced on the outbox, used, rotated, retired.

A key is used only once its `SigningKeyPublished` has left the outbox (the relay deletes a
row once the broker has it), so every verifier can know a key before the first token
signed with it. Private keys are kept encrypted with IDENTITY_SIGNING_KEY_SECRET.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import sqlalchemy as sa
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events.identity import SigningKeyPublished
from identity.adapters.tables import signing_keys
from servicekit.database import as_utc
from servicekit.messaging.outbox import Outbox

ALGORITHM = "ES256"


@dataclass(frozen=True)
class SigningKey:
    """A usable private key and its id."""

    kid: str
    private_key: Any
    retire_after: datetime | None


class NoSigningKey(RuntimeError):
    """No announced key can sign yet (the first announcement is still on its way)."""


def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


class SigningKeys:
    """Signing keys in identity's database."""

    def __init__(self, outbox: Outbox, secret: str, token_ttl_s: int, leeway_s: int = 30):
        self._outbox = outbox
        self._fernet = _fernet(secret)
        self._token_ttl = timedelta(seconds=token_ttl_s)
        self._margin = timedelta(seconds=token_ttl_s + leeway_s)
        self._cache: dict[str, Any] = {}

    async def _announce(self, session: AsyncSession, row: Any) -> str:
        event = SigningKeyPublished(
            kid=row["kid"],
            algorithm=row["algorithm"],
            public_jwk=row["public_jwk"],
            # Rows read back from SQLite hold naive moments (UTC): announced aware.
            not_before=as_utc(row["not_before"]),
            retire_after=as_utc(row["retire_after"]),
            occurred_at=datetime.now(UTC),
        )
        outbox_row = self._outbox.row_for(event)
        await (await session.connection()).execute(sa.insert(self._outbox.table), [outbox_row])
        return str(outbox_row["event_id"])

    async def create(self, session: AsyncSession, not_before: datetime) -> str:
        """A new key, announced in the caller's transaction; returns its kid."""
        private = ec.generate_private_key(ec.SECP256R1())
        kid = f"{not_before:%Y%m%d}-{uuid.uuid4().hex[:12]}"
        public_jwk: dict[str, str] = json.loads(
            jwt.algorithms.ECAlgorithm.to_jwk(private.public_key())
        )
        public_jwk.update(kid=kid, alg=ALGORITHM, use="sig")
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        row: dict[str, Any] = {
            "kid": kid,
            "algorithm": ALGORITHM,
            "private_key": self._fernet.encrypt(pem).decode(),
            "public_jwk": public_jwk,
            "created_at": datetime.now(UTC),
            "not_before": not_before,
            "retire_after": None,
        }
        row["announcement_event_id"] = await self._announce(session, row)
        await session.execute(sa.insert(signing_keys).values(**row))
        return kid

    async def ensure(self, session: AsyncSession) -> str | None:
        """Create a first key when none is valid; returns the new kid or None."""
        now = datetime.now(UTC)
        valid = await session.scalar(
            sa.select(sa.func.count())
            .select_from(signing_keys)
            .where(sa.or_(signing_keys.c.retire_after.is_(None), signing_keys.c.retire_after > now))
        )
        if valid:
            return None
        # Nothing is in flight yet, so the first key needs no grace period; it is still
        # used only once its announcement has left the outbox.
        return await self.create(session, not_before=now)

    async def announce_again(self, session: AsyncSession) -> list[str]:
        """Announce every key still in use again, as stored; returns their kids.

        At every start: a broker that lost its topics (the embedded one keeps nothing
        across a restart) would leave fiches and invitations without the keys that verify
        tokens. Verifiers replace a key by its kid, so a repeat changes nothing. The key's
        first announcement stays the one that made it usable (`announcement_event_id`).
        """
        now = datetime.now(UTC)
        rows = (
            (
                await session.execute(
                    sa.select(signing_keys)
                    .where(
                        sa.or_(
                            signing_keys.c.retire_after.is_(None),
                            signing_keys.c.retire_after > now,
                        )
                    )
                    .order_by(signing_keys.c.not_before)
                )
            )
            .mappings()
            .all()
        )
        for row in rows:
            await self._announce(session, row)
        return [str(row["kid"]) for row in rows]

    async def rotate(self, session: AsyncSession, grace: timedelta) -> tuple[str, list[str]]:
        """Announce a new key used after `grace`; retire the current ones once every
        token they signed has expired. Returns (new kid, retiring kids)."""
        now = datetime.now(UTC)
        not_before = now + grace
        current = (
            (
                await session.execute(
                    sa.select(signing_keys).where(signing_keys.c.retire_after.is_(None))
                )
            )
            .mappings()
            .all()
        )
        kid = await self.create(session, not_before=not_before)
        retire_after = not_before + self._margin
        retiring = []
        for row in current:
            # Re-announced with its end date; it keeps signing meanwhile, so its first
            # announcement (long published) stays the one that makes it usable.
            await self._announce(session, {**row, "retire_after": retire_after})
            await session.execute(
                sa.update(signing_keys)
                .where(signing_keys.c.kid == row["kid"])
                .values(retire_after=retire_after)
            )
            retiring.append(str(row["kid"]))
        return kid, retiring

    async def current(self, session: AsyncSession) -> SigningKey:
        """The newest announced key that may sign a token living `token_ttl` from now."""
        now = datetime.now(UTC)
        pending = sa.select(self._outbox.table.c.event_id)
        rows = (
            await session.execute(
                sa.select(signing_keys)
                .where(
                    signing_keys.c.not_before <= now,
                    sa.or_(
                        signing_keys.c.retire_after.is_(None),
                        signing_keys.c.retire_after > now + self._token_ttl,
                    ),
                    signing_keys.c.announcement_event_id.not_in(pending),
                )
                .order_by(signing_keys.c.not_before.desc())
                .limit(1)
            )
        ).first()
        if rows is None:
            raise NoSigningKey(
                "no announced signing key yet: the key announcement is still being "
                "published; try again in a few seconds"
            )
        key = self._cache.get(rows.kid)
        if key is None:
            pem = self._fernet.decrypt(rows.private_key.encode())
            key = serialization.load_pem_private_key(pem, password=None)
            self._cache[rows.kid] = key
        return SigningKey(rows.kid, key, as_utc(rows.retire_after))

    async def listing(self, session: AsyncSession) -> list[dict[str, Any]]:
        """Every key with its dates and whether its announcement was published."""
        rows = (
            await session.execute(sa.select(signing_keys).order_by(signing_keys.c.not_before))
        ).all()
        # Only the keys' own announcements are looked up: the outbox also holds every
        # not-yet-published user event, and /jwks runs this on each request.
        event_ids = self._outbox.table.c.event_id
        announcements = [row.announcement_event_id for row in rows]
        pending = {
            str(value)
            for value in (
                await session.scalars(sa.select(event_ids).where(event_ids.in_(announcements)))
            ).all()
        }
        return [
            {
                "kid": row.kid,
                "not_before": as_utc(row.not_before),
                "retire_after": as_utc(row.retire_after),
                "announced": row.announcement_event_id not in pending,
                "public_jwk": dict(row.public_jwk),
            }
            for row in rows
        ]
