"""Reading and writing deliveries and the address book (SQLAlchemy Core, any backend)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters.tables import address_book, deliveries
from notifications.domain.deliveries import DeliveryStatus, language_of, recipient_digest


@dataclass(frozen=True)
class Address:
    """Where and how to write to a user (from the address book)."""

    email: str
    language: str
    display_name: str


@dataclass(frozen=True)
class NewDelivery:
    """One message an event asks for, before it is recorded."""

    dedup_key: str
    source_event_type: str
    source_id: str
    template: str
    context: Mapping[str, Any]
    recipient_user_id: str | None = None
    email: str | None = None
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


async def remember_address(
    session: AsyncSession, user_id: str, address: Address, now: datetime
) -> None:
    """Insert or replace one user's entry in the address book."""
    values = {
        "email": address.email,
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
    status = DeliveryStatus.PENDING if new.email else DeliveryStatus.WAITING_ADDRESS
    delivery_id = str(uuid.uuid4())
    await session.execute(
        sa.insert(deliveries).values(
            delivery_id=delivery_id,
            dedup_key=new.dedup_key,
            source_event_type=new.source_event_type,
            source_id=new.source_id,
            template=new.template,
            language=language_of(new.language) if new.email else None,
            recipient_user_id=new.recipient_user_id,
            recipient_email=new.email,
            recipient_digest=recipient_digest(new.email) if new.email else None,
            context=dict(new.context),
            status=status.value,
            attempts=0,
            next_attempt_at=now if new.email else None,
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
                recipient_email=address.email,
                recipient_digest=recipient_digest(address.email),
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
    recipient_email: str
    context: dict[str, Any]
    attempts: int


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
            recipient_email=row.recipient_email,
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
) -> None:
    """Sent or failed: erase the address and the template values (they hold the link)."""
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
