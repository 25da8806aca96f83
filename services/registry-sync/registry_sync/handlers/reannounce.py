"""Announcing the stored state of every professional again, for consumers that lost it.

When the broker loses its topics (the embedded broker keeps nothing across a restart; a
Kafka cluster can be rebuilt), events that were published but not yet consumed are gone,
and an import of the same file publishes nothing: registry-sync's own state already
matches the source. `skaart registry resync` (and monolithic mode, on a fresh broker)
puts the current state of every person on the outbox again; consumers apply it
idempotently (see `domain.changes.reannouncement_events`).

People are read in chunks by `professional_id` (keyset pagination), each chunk with its
events in one transaction: no long-running read beside the writes, and a resync stopped
half-way can simply be run again.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from registry_sync.adapters import tables
from registry_sync.domain.changes import ProfessionalFacts, reannouncement_events
from servicekit.database import as_utc
from servicekit.messaging.outbox import Outbox


@dataclass
class ReannounceSummary:
    """What a resync put on the outbox."""

    professionals: int = 0
    removed: int = 0
    events: int = 0


async def reannounce_professionals(
    sessions: async_sessionmaker[AsyncSession], outbox: Outbox, *, chunk_size: int = 1000
) -> ReannounceSummary:
    """Queue the stored state of every professional (removed ones too) on the outbox."""
    table = tables.professionals
    summary = ReannounceSummary()
    after = ""
    while True:
        async with sessions() as session, session.begin():
            rows = (
                await session.execute(
                    sa.select(
                        table.c.professional_id,
                        table.c.nrn_hash,
                        table.c.source_version,
                        table.c.facts,
                        table.c.removed,
                    )
                    .where(table.c.professional_id > after)
                    .order_by(table.c.professional_id)
                    .limit(chunk_size)
                )
            ).all()
            if not rows:
                break
            events = []
            for row in rows:
                events.extend(
                    reannouncement_events(
                        row.professional_id,
                        row.nrn_hash,
                        ProfessionalFacts.from_json(row.facts),
                        as_utc(row.source_version),
                        removed=bool(row.removed),
                    )
                )
                summary.professionals += 1
                summary.removed += bool(row.removed)
            summary.events += await outbox.add_all(session, events)
            after = rows[-1].professional_id
        outbox.notify_committed()
    return summary


async def has_professionals(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Whether registry-sync knows anyone (a resync of nothing is not worth doing)."""
    async with sessions() as session:
        return (
            await session.scalar(sa.select(tables.professionals.c.professional_id).limit(1))
        ) is not None
