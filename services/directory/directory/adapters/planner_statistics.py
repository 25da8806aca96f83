"""Fresh planner statistics while a catch-up rebuilds (PostgreSQL).

A directory catching up from empty records the facts of its whole backlog, then rebuilds
the fiches in chunks. PostgreSQL still plans with the statistics of the empty tables:
reading a chunk's stored resources by owner scanned every resource through another index
(110 ms instead of 1 ms at 158,000 resources), and reading a chunk's offers joined with
their providers took 40-100 ms, about 8 s of a 100,000-event catch-up. Autovacuum
analyzes a table at most once a minute (and it is off on the machines the benchmarks run
on), so the rebuild analyzes the tables it reads by itself: before its first full chunk,
and again each time the fiches rebuilt since have doubled (and at least `MOST_OFTEN` more
were rebuilt), so a catch-up of any size costs a handful of ANALYZEs (0.3-0.6 s each at
100,000 events, when the tables hold 60,000 providers and 158,000 resources).

The ANALYZE runs in its own short transaction, outside the rebuild's: it waits at most
`LOCK_WAIT` for a table (a vacuum holding it) and a failure is logged, never the
rebuild's.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.adapters.tables import (
    practice_places,
    search_offers,
    search_practices,
    search_providers,
    standard_resources,
)

log = logging.getLogger(__name__)

READ_BY_THE_REBUILD = tuple(
    table.name
    for table in (
        search_providers,
        search_practices,
        search_offers,
        practice_places,
        standard_resources,
    )
)
"""The tables a rebuild reads by lists of ids; the index tables it only writes to (and
deletes from by key) are left to autovacuum."""

LOCK_WAIT = "2s"
FIRST_AFTER = 1
"""Fiches rebuilt before the first ANALYZE is due (the first full chunk's)."""
MOST_OFTEN = 5_000
"""Fewest fiches rebuilt between two ANALYZEs: doubling alone from a first chunk of about
200 ran eight in a 100,000-event catch-up, 3.2 s of PostgreSQL's time."""


class PlannerStatistics:
    """When the tables a catch-up's rebuild reads were last analyzed, counted in fiches."""

    def __init__(self) -> None:
        self.rebuilt = 0
        """Fiches rebuilt by full chunks so far (by this process)."""
        self.due_at = FIRST_AFTER
        self.analyzed = 0
        """How many times the tables were analyzed (for tests and logs)."""

    def chunk_rebuilt(self, fiches: int) -> None:
        """A full chunk of `fiches` was rebuilt: a catch-up is under way."""
        self.rebuilt += fiches

    @property
    def due(self) -> bool:
        return self.rebuilt >= self.due_at

    async def refresh_if_due(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """ANALYZE the tables the rebuild reads, if enough was rebuilt since (PostgreSQL)."""
        if not self.due:
            return
        self.due_at = max(2 * self.rebuilt, self.rebuilt + MOST_OFTEN)
        async with sessions() as session:
            if session.get_bind().dialect.name != "postgresql":
                return
            try:
                async with session.begin():
                    await session.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
                    await session.execute(sa.text(f"ANALYZE {', '.join(READ_BY_THE_REBUILD)}"))
            except sa.exc.DBAPIError as error:
                log.warning(
                    "could not refresh the planner statistics; the rebuild goes on with the "
                    "old ones, slower. If this recurs, look in pg_locks for what holds "
                    "those tables (a long VACUUM, a LOCK TABLE) longer than the 2 s it waits",
                    extra={"error_type": type(error.orig).__name__},
                )
                return
        self.analyzed += 1
        log.info("refreshed the planner statistics", extra={"fiches_rebuilt": self.rebuilt})
