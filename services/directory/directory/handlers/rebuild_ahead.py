"""The idle flush builds its next chunk while it writes the current one.

A catch-up leaves tens of thousands of fiches waiting; the idle flush rebuilds them a chunk
per transaction. Building a chunk (reading its facts, Python) and writing it (PostgreSQL)
used to follow each other: at 100,000 events about a third and two thirds of each
transaction. Now each transaction, once it has taken its chunk, also looks at the next
one (`peek`) and builds it on a second connection while its own connection writes. The
next transaction writes what was built ahead, if nothing can have changed in between:

- The facts cannot change while a transaction holds the projection's lock (`one_writer`):
  every writer of facts takes it first. The next chunk is built, and that build awaited,
  before the transaction commits.
- Between two transactions they can. Every writer of facts (a batch, a depublication read
  ahead) and every other rebuild raises the generation (`projection_generation`) in its
  transaction. What was built ahead is used only if the generation is still the one the
  building transaction committed, and only for exactly the fiches it was built for;
  otherwise the transaction rebuilds what it took from the facts as they are then, as
  before. A transaction that fails drops what it built ahead (the projection does).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.adapters.pending import WaitingKey, peek, take, take_these
from directory.adapters.tables import projection_generation
from directory.domain.documents import PRACTICE, PROVIDER
from directory.handlers.rebuild import PreparedRebuild, prepare_rebuild


@dataclass(frozen=True)
class BuiltAhead:
    """A chunk of waiting fiches, built by the transaction before the one that writes it."""

    keys: frozenset[WaitingKey]
    generation: int
    """The generation the building transaction committed (its own raise)."""
    prepared: PreparedRebuild


@dataclass
class BuildingAhead:
    """The next chunk, being built on another connection."""

    keys: frozenset[WaitingKey]
    task: asyncio.Task[PreparedRebuild]

    async def built(self, generation: int) -> BuiltAhead:
        return BuiltAhead(self.keys, generation, await self.task)

    def cancel(self) -> None:
        if not self.task.done():
            self.task.cancel()


def _keys(providers: set[str], practices: set[str]) -> frozenset[WaitingKey]:
    return frozenset([(PROVIDER, p) for p in providers] + [(PRACTICE, p) for p in practices])


async def current_generation(session: AsyncSession) -> int:
    row = await session.execute(
        sa.select(projection_generation.c.generation).where(projection_generation.c.id == 1)
    )
    return int(row.scalar_one())


async def take_waiting(
    session: AsyncSession, ahead: BuiltAhead | None, limit: int | None
) -> tuple[set[str], set[str], PreparedRebuild | None]:
    """The waiting (providers, practices) this transaction rebuilds, removed from the table,
    and what was built ahead for exactly them when that still holds (else None)."""
    if ahead is not None and await current_generation(session) == ahead.generation:
        providers, practices = await take_these(session, ahead.keys)
        if _keys(providers, practices) == ahead.keys:
            return providers, practices, ahead.prepared
        return providers, practices, None  # some were rebuilt by another transaction
    providers, practices = await take(session, limit)
    return providers, practices, None


async def build_next(
    session: AsyncSession, reader: async_sessionmaker[AsyncSession], limit: int | None
) -> BuildingAhead | None:
    """Start building the chunk the next transaction will take, on a session of `reader`
    (None when nothing else waits)."""
    keys = frozenset(await peek(session, limit))
    if not keys:
        return None

    async def build() -> PreparedRebuild:
        async with reader() as read:
            return await prepare_rebuild(
                read,
                providers=[fiche for kind, fiche in keys if kind == PROVIDER],
                practices=[fiche for kind, fiche in keys if kind == PRACTICE],
            )

    return BuildingAhead(keys, asyncio.create_task(build()))
