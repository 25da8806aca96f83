"""Reading and writing deliveries and the address book (SQLAlchemy Core, any backend).

Addresses and links are written here sealed only (servicekit.sealing): the address
book's `email`, a delivery's `recipient_email` and the links in its `context`. The
sender opens them when it sends.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters.tables import address_book, deliveries
from notifications.domain.deliveries import SECRET_CONTEXT_KEYS, DeliveryStatus, language_of
from servicekit.sealing import KeyRing, SealingError, is_sealed, purpose

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Address:
    """Where and how to write to a user (from the address book); the address sealed."""

    sealed_email: str
    language: str
    display_name: str
    email_digest: str | None = None
    """KeyRing.address_digest of the address, to find the user by an address."""


@dataclass(frozen=True)
class NewDelivery:
    """One message an event asks for, before it is recorded."""

    dedup_key: str
    source_event_type: str
    source_id: str
    template: str
    context: Mapping[str, Any]
    recipient_user_id: str | None = None
    sealed_email: str | None = None
    language: str | None = None


async def find_address(session: AsyncSession, user_id: str) -> Address | None:
    """The user's address, language and name, if identity said they were activated."""
    row = (
        await session.execute(
            sa.select(
                address_book.c.email, address_book.c.language, address_book.c.display_name
            ).where(address_book.c.user_id == user_id)
        )
    ).first()
    return Address(row.email, row.language, row.display_name) if row else None


def seal_context(
    context: Mapping[str, Any], keys: KeyRing, owner_id: str, *, reseal: bool = False
) -> dict[str, Any]:
    """The template values with every link sealed (bound to `<key>:<owner_id>`).

    Clear links come from events published before identity and invitations sealed them,
    and from fiches' export links. With `reseal`, links sealed to an older key are
    sealed anew to the current one.
    """
    sealed = dict(context)
    for key in SECRET_CONTEXT_KEYS:
        value = sealed.get(key)
        if isinstance(value, str):
            sealed[key] = seal_value(value, keys, purpose(key, owner_id), reseal=reseal)
    return sealed


def seal_value(value: str, keys: KeyRing, bound_to: str, *, reseal: bool = False) -> str:
    """`value` sealed: a clear value to the current key; a sealed one as it is, or, with
    `reseal`, sealed anew to the current key when it was sealed to an older one."""
    if not is_sealed(value):
        return keys.current.seal(value, bound_to)
    return keys.reseal(value, bound_to) if reseal else value


def open_context(context: Mapping[str, Any], keys: KeyRing, owner_id: str) -> dict[str, Any]:
    """The template values with their links opened, to render the message."""
    opened = dict(context)
    for key, value in context.items():
        if is_sealed(value):
            opened[key] = keys.open(value, purpose(key, owner_id))
    return opened


async def seal_at_rest(session: AsyncSession, keys: KeyRing) -> int:
    """Seal to the current key every address and link still stored clear or to an old key.

    Run once at start: rows written before sealing existed, and rows sealed to a key
    that was since rotated, so that the old key can be dropped. Returns rows changed.
    """
    return await _seal_address_book(session, keys) + await _seal_open_deliveries(session, keys)


async def _seal_address_book(session: AsyncSession, keys: KeyRing) -> int:
    """The address book's addresses sealed to the current key; returns rows changed."""
    changed = 0
    book = (await session.execute(sa.select(address_book.c.user_id, address_book.c.email))).all()
    for row in book:
        if is_sealed(row.email) and keys.sealed_to_current(row.email):
            continue
        bound_to = purpose("email", row.user_id)
        try:
            clear = keys.open(row.email, bound_to) if is_sealed(row.email) else row.email
            email = keys.current.seal(clear, bound_to)
        except SealingError as error:
            log.warning(
                "address not sealed anew", extra={"user_id": row.user_id, "error": str(error)}
            )
            continue
        await session.execute(
            sa.update(address_book)
            .where(address_book.c.user_id == row.user_id)
            .values(email=email, email_digest=keys.address_digest(clear))
        )
        changed += 1
    return changed


async def _seal_open_deliveries(session: AsyncSession, keys: KeyRing) -> int:
    """The addresses and links of deliveries still to send, sealed to the current key."""
    changed = 0
    open_rows = (
        await session.execute(
            sa.select(
                deliveries.c.delivery_id,
                deliveries.c.source_id,
                deliveries.c.recipient_user_id,
                deliveries.c.recipient_email,
                deliveries.c.context,
            ).where(
                deliveries.c.status.in_(
                    [DeliveryStatus.PENDING.value, DeliveryStatus.WAITING_ADDRESS.value]
                )
            )
        )
    ).all()
    for delivery in open_rows:
        owner = delivery.recipient_user_id or delivery.source_id
        try:
            sealed_email: str | None = (
                seal_value(delivery.recipient_email, keys, purpose("email", owner), reseal=True)
                if delivery.recipient_email
                else None
            )
            context = seal_context(delivery.context or {}, keys, delivery.source_id, reseal=True)
        except SealingError as error:
            # Left as it is: the sender fails it with this reason when it is due.
            log.warning(
                "delivery not sealed anew",
                extra={"delivery_id": delivery.delivery_id, "error": str(error)},
            )
            continue
        if sealed_email == delivery.recipient_email and context == (delivery.context or {}):
            continue
        await session.execute(
            sa.update(deliveries)
            .where(deliveries.c.delivery_id == delivery.delivery_id)
            .values(recipient_email=sealed_email, context=context)
        )
        changed += 1
    return changed


async def language_for_address(session: AsyncSession, digests: list[str]) -> str | None:
    """The language of the activated user with this address (by its digests), if any."""
    return await session.scalar(
        sa.select(address_book.c.language)
        .where(address_book.c.email_digest.in_(digests))
        .order_by(address_book.c.updated_at.desc())
        .limit(1)
    )


async def remember_address(
    session: AsyncSession, user_id: str, address: Address, now: datetime
) -> None:
    """Insert or replace one user's entry in the address book."""
    values = {
        "email": address.sealed_email,
        "email_digest": address.email_digest,
        "language": language_of(address.language),
        "display_name": address.display_name,
        "updated_at": now,
    }
    updated = await session.execute(
        sa.update(address_book).where(address_book.c.user_id == user_id).values(**values)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        await session.execute(sa.insert(address_book).values(user_id=user_id, **values))


async def record_delivery(
    session: AsyncSession, new: NewDelivery, now: datetime
) -> tuple[str, DeliveryStatus] | None:
    """Record the delivery (pending, or waiting for an address); None if already recorded."""
    existing = await session.scalar(
        sa.select(deliveries.c.delivery_id).where(deliveries.c.dedup_key == new.dedup_key)
    )
    if existing is not None:
        return None
    addressed = new.sealed_email is not None
    if addressed and not is_sealed(new.sealed_email):
        raise ValueError("a delivery's address is stored sealed only")
    if any(not is_sealed(new.context[key]) for key in SECRET_CONTEXT_KEYS if key in new.context):
        raise ValueError("a delivery's links are stored sealed only")
    status = DeliveryStatus.PENDING if addressed else DeliveryStatus.WAITING_ADDRESS
    delivery_id = str(uuid.uuid4())
    await session.execute(
        sa.insert(deliveries).values(
            delivery_id=delivery_id,
            dedup_key=new.dedup_key,
            source_event_type=new.source_event_type,
            source_id=new.source_id,
            template=new.template,
            language=language_of(new.language) if addressed else None,
            recipient_user_id=new.recipient_user_id,
            recipient_email=new.sealed_email,
            # Set when the sender opens the address, at the end of the delivery.
            recipient_digest=None,
            context=dict(new.context),
            status=status.value,
            attempts=0,
            next_attempt_at=now if addressed else None,
            lease_until=None,
            last_error=None,
            created_at=now,
            finished_at=None,
        )
    )
    return delivery_id, status


async def release_waiting(
    session: AsyncSession, user_id: str, address: Address, now: datetime
) -> list[str]:
    """Address the deliveries that waited for this user; returns their ids."""
    rows = (
        await session.execute(
            sa.select(deliveries.c.delivery_id, deliveries.c.context).where(
                deliveries.c.recipient_user_id == user_id,
                deliveries.c.status == DeliveryStatus.WAITING_ADDRESS.value,
            )
        )
    ).all()
    for row in rows:
        await session.execute(
            sa.update(deliveries)
            .where(deliveries.c.delivery_id == row.delivery_id)
            .values(
                status=DeliveryStatus.PENDING.value,
                recipient_email=address.sealed_email,
                language=language_of(address.language),
                context={**(row.context or {}), "display_name": address.display_name},
                next_attempt_at=now,
            )
        )
    return [row.delivery_id for row in rows]


@dataclass(frozen=True)
class DueDelivery:
    """A pending delivery the sender may try now."""

    delivery_id: str
    source_event_type: str
    source_id: str
    template: str
    language: str
    recipient_user_id: str | None
    sealed_email: str
    context: dict[str, Any]
    attempts: int

    @property
    def email_purpose(self) -> str:
        """What the sealed address is bound to: the user, or what asked (an invitation)."""
        return purpose("email", self.recipient_user_id or self.source_id)


async def due_deliveries(session: AsyncSession, now: datetime, limit: int) -> list[DueDelivery]:
    """Pending deliveries whose time has come and that no sender holds."""
    rows = (
        await session.execute(
            sa.select(deliveries)
            .where(
                deliveries.c.status == DeliveryStatus.PENDING.value,
                deliveries.c.next_attempt_at <= now,
                sa.or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < now),
            )
            .order_by(deliveries.c.next_attempt_at)
            .limit(limit)
        )
    ).all()
    return [
        DueDelivery(
            delivery_id=row.delivery_id,
            source_event_type=row.source_event_type,
            source_id=row.source_id,
            template=row.template,
            language=row.language or "nl",
            recipient_user_id=row.recipient_user_id,
            sealed_email=row.recipient_email,
            context=dict(row.context or {}),
            attempts=row.attempts,
        )
        for row in rows
    ]


async def claim(session: AsyncSession, delivery_id: str, now: datetime, lease: timedelta) -> bool:
    """Hold a delivery for one attempt; False when another sender got it first."""
    result = await session.execute(
        sa.update(deliveries)
        .where(
            deliveries.c.delivery_id == delivery_id,
            deliveries.c.status == DeliveryStatus.PENDING.value,
            sa.or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < now),
        )
        .values(lease_until=now + lease)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_finished(
    session: AsyncSession,
    delivery_id: str,
    *,
    status: DeliveryStatus,
    attempts: int,
    error: str | None,
    now: datetime,
    digest: str | None = None,
) -> None:
    """Sent or failed: erase the address and the template values (they hold the link).

    `digest` is the recipient digest, known once the sender opened the address.
    """
    await session.execute(
        sa.update(deliveries)
        .where(deliveries.c.delivery_id == delivery_id)
        .values(
            status=status.value,
            attempts=attempts,
            last_error=error,
            finished_at=now,
            next_attempt_at=None,
            lease_until=None,
            recipient_email=None,
            context=None,
            **({"recipient_digest": digest} if digest else {}),
        )
    )


async def schedule_retry(
    session: AsyncSession, delivery_id: str, *, attempts: int, error: str, at: datetime
) -> None:
    """Count the failed attempt and set the time of the next one."""
    await session.execute(
        sa.update(deliveries)
        .where(deliveries.c.delivery_id == delivery_id)
        .values(attempts=attempts, last_error=error, next_attempt_at=at, lease_until=None)
    )


@dataclass(frozen=True)
class ExpiredWait:
    """A delivery that waited too long for its recipient's address."""

    delivery_id: str
    source_event_type: str
    source_id: str
    template: str


async def expired_waits(session: AsyncSession, before: datetime) -> list[ExpiredWait]:
    """Deliveries waiting for an address since before `before`."""
    rows = (
        await session.execute(
            sa.select(
                deliveries.c.delivery_id,
                deliveries.c.source_event_type,
                deliveries.c.source_id,
                deliveries.c.template,
            ).where(
                deliveries.c.status == DeliveryStatus.WAITING_ADDRESS.value,
                deliveries.c.created_at < before,
            )
        )
    ).all()
    return [ExpiredWait(r.delivery_id, r.source_event_type, r.source_id, r.template) for r in rows]
