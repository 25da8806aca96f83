"""The directory's projection: the public topics -> facts, places and search hits.

It consumes exactly what agencies see (fiches.providers.v1, fiches.practices.v1,
fiches.offers.v1), so the directory shows the published versions and never an edit
version. Per batch, the handlers record the facts; then every fiche the batch touched gets
its search document and terms rebuilt, together with the fiches linked to it: a provider's
hit lists the practices they work at (and is found by their postcodes), and a practice's
hit shows its offer blocks (and is found by its providers' languages). A depublished
provider therefore leaves both their own hit and every practice's offer block.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.base import Event
from contracts.events.fiches import (
    OfferLinked,
    OfferUnlinked,
    PracticeFicheDepublished,
    PracticeFichePublished,
    PracticeFicheUpdated,
    ProviderFicheDepublished,
    ProviderFichePublished,
    ProviderFicheUpdated,
)
from directory.adapters.first_build import INDEX_BUILDERS, FirstBuild
from directory.adapters.id_lists import id_chunks
from directory.adapters.pending import defer, one_writer, take
from directory.adapters.planner_statistics import PlannerStatistics
from directory.adapters.prefix_totals import raise_generation
from directory.adapters.response_cache import projection_committed
from directory.adapters.tables import search_offers
from directory.domain.geo import Geocoder, NoGeocoder
from directory.handlers.facts import record_facts
from directory.handlers.rebuild import prepare_rebuild, write_rebuild
from directory.handlers.rebuild_ahead import BuiltAhead, build_next, take_waiting
from directory.handlers.rebuild_chunks import RebuildChunks
from servicekit.id_lists import one_of
from servicekit.messaging.inbox import TRANSIENT_ERRORS
from servicekit.waiting import within

log = logging.getLogger(__name__)


async def _raise_generation(session: AsyncSession) -> int:
    """Cached answers are superseded by this batch: in the database for every replica,
    and in this process as soon as the batch commits. The new generation (what was built
    ahead is checked against it: handlers/rebuild_ahead.py). The HSDS prefix totals are
    counted again first if a writer that did not keep them committed (prefix_totals.py)."""
    raised = await raise_generation(session)
    sa.event.listen(session.sync_session, "after_commit", _committed, once=True)
    return raised


def _committed(_: Any) -> None:
    projection_committed()


def _builds_ahead(session: AsyncSession) -> bool:
    """Whether the idle flush builds its next chunk ahead: on PostgreSQL. On SQLite (one
    writer) it does not: there the depublications read ahead waited longer for the map
    (bench/depublication_end_to_end.py, one run each: p99 11.1 s against 5.8 s during an
    import), for a gain measured on PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


@dataclass
class Touched:
    """The fiches a batch touched: changed ones (their linked fiches are rebuilt with
    them) and the two ends of each offer link."""

    changed_providers: set[str] = field(default_factory=set)
    changed_practices: set[str] = field(default_factory=set)
    providers: set[str] = field(default_factory=set)
    practices: set[str] = field(default_factory=set)

    @classmethod
    def by(cls, events: Sequence[Event]) -> Touched:
        touched = cls()
        for event in events:
            if isinstance(
                event, ProviderFichePublished | ProviderFicheUpdated | ProviderFicheDepublished
            ):
                touched.changed_providers.add(event.fiche_id)
            elif isinstance(
                event, PracticeFichePublished | PracticeFicheUpdated | PracticeFicheDepublished
            ):
                touched.changed_practices.add(event.practice_id)
            elif isinstance(event, OfferLinked | OfferUnlinked):
                touched.providers.add(event.provider_fiche_id)
                touched.practices.add(event.practice_id)
        return touched


async def _with_linked(session: AsyncSession, touched: Touched) -> tuple[set[str], set[str]]:
    """The (providers, practices) to rebuild for what a batch touched: the touched fiches,
    and the fiches linked to a changed one (a practice's resources name its providers, a
    provider's hits its practices)."""
    providers = touched.providers | touched.changed_providers
    practices = touched.practices | touched.changed_practices
    for chunk in id_chunks(touched.changed_providers):
        rows = await session.execute(
            sa.select(search_offers.c.practice_id).where(
                one_of(session, search_offers.c.provider_fiche_id, chunk)
            )
        )
        practices.update(rows.scalars())
    for chunk in id_chunks(touched.changed_practices):
        rows = await session.execute(
            sa.select(search_offers.c.provider_fiche_id).where(
                one_of(session, search_offers.c.practice_id, chunk)
            )
        )
        providers.update(rows.scalars())
    return providers, practices


# Writes, one function per table -------------------------------------------------------


class DirectoryProjection:
    """Handlers of fiches' public events that keep the directory's read model."""

    def __init__(
        self,
        geocoder: Geocoder | None = None,
        *,
        defer_from: int | None = None,
        rebuild_chunk: int | None = None,
        rebuild_seconds: float | None = None,
        index_builders: int = INDEX_BUILDERS,
    ) -> None:
        self.geocoder = geocoder or NoGeocoder()
        self.defer_from = defer_from
        """A batch this large means the consumer is behind: rebuild its fiches later."""
        self.chunks = RebuildChunks(rebuild_chunk, rebuild_seconds) if rebuild_chunk else None
        """Most waiting fiches rebuilt in one transaction (None: all of them), sized by
        the time a chunk takes when `rebuild_seconds` is given. Short transactions let
        the read-ahead group's depublications in between: on SQLite, a single writer,
        they would otherwise wait for the whole catch-up's rebuild."""
        self._maybe_pending = True  # a previous run may have left fiches waiting
        self._caught_up = asyncio.Event()
        """Set when a batch found the consumer caught up and fiches still wait: the idle
        flush goes on with them at once, without waiting for an idle second first."""
        self._built_ahead: BuiltAhead | None = None
        """The next chunk of waiting fiches, built by the last idle flush transaction."""
        self._batches = 0
        self._last_batch = time.monotonic()
        self.statistics = PlannerStatistics()
        """Refreshed while a catch-up's rebuild makes the tables it reads grow."""
        self.first_build = FirstBuild(index_builders=index_builders)
        """A catch-up from an empty map writes the term tables bare, indexed at its end."""

    @property
    def rebuild_chunk(self) -> int | None:
        """Waiting fiches the next rebuild transaction takes (None: all of them)."""
        return self.chunks.size if self.chunks is not None else None

    def handlers(self) -> dict[type[Event], Any]:
        """The public events the directory reads. Each is recorded with the rest of its
        batch, in bulk, when the batch ends (`after_batch`)."""
        return {
            event_type: self._recorded_with_the_batch
            for event_type in (
                ProviderFichePublished,
                ProviderFicheUpdated,
                ProviderFicheDepublished,
                PracticeFichePublished,
                PracticeFicheUpdated,
                PracticeFicheDepublished,
                OfferLinked,
                OfferUnlinked,
            )
        }

    async def _recorded_with_the_batch(self, session: AsyncSession, event: Event) -> None:
        return None

    async def apply(self, session: AsyncSession, events: Sequence[Event]) -> None:
        """Apply events as one consumed batch would (tools and tests)."""
        handlers = self.handlers()
        for event in events:
            await handlers[type(event)](session, event)
        await self.after_batch(session, events)

    # Batches ------------------------------------------------------------------------

    async def after_batch(self, session: AsyncSession, events: Sequence[Event]) -> None:
        """Record the batch's facts, then rebuild the hits and standard resources of every
        fiche the batch touched, and of the fiches linked to it. A batch of `defer_from`
        events or more means the consumer is behind: its fiches wait in
        `projection_pending` for the first batch that finds it caught up (or the idle
        flush), which rebuilds each of them once. On an empty map (PostgreSQL) the batch
        that finds the consumer caught up leaves its fiches waiting too and wakes the idle
        flush, which decides whether its rebuild is a first build
        (adapters/first_build.py)."""
        self._batches += 1
        try:
            await one_writer(session)
            await record_facts(session, events, self.geocoder)
            await _raise_generation(session)
            providers, practices = await _with_linked(session, Touched.by(events))
            behind = self.defer_from is not None and len(events) >= self.defer_from
            if behind or (self.defer_from is not None and await self.first_build.may_come(session)):
                self._maybe_pending = True
                # The linked fiches wait too, noted now: a waiting fiche is rebuilt alone,
                # so a practice is rebuilt once per catch-up, not once per chunk holding
                # one of its providers.
                await defer(session, providers=providers, practices=practices)
                if not behind:  # caught up on an empty map: the idle flush goes on at once
                    self._wake_the_flush_on_commit(session)
                return
            waiting_providers, waiting_practices = await take(session, self.rebuild_chunk)
            if self._took_a_full_chunk(waiting_providers, waiting_practices):
                self._maybe_pending = True  # the rest is the idle flush's, at once
                self._wake_the_flush_on_commit(session)
            await self.rebuild(
                session,
                providers=providers | waiting_providers,
                practices=practices | waiting_practices,
            )
        finally:
            self._batches -= 1
            self._last_batch = time.monotonic()

    async def after_read_ahead_batch(self, session: AsyncSession, events: Sequence[Event]) -> None:
        """A batch of depublications read ahead of their turn: recorded and rebuilt at
        once, whether or not the in-order group is catching up; the fiches waiting for the
        catch-up's rebuild stay waiting."""
        await one_writer(session)
        await record_facts(session, events, self.geocoder)
        await _raise_generation(session)
        await self._rebuild_touched(session, Touched.by(events))

    async def rebuild_pending(
        self, session: AsyncSession, reader: async_sessionmaker[AsyncSession] | None = None
    ) -> int:
        """Rebuild the fiches waiting in `projection_pending`; how many there were. With a
        `reader`, the next chunk is built on one of its sessions while this one writes,
        for the next call to write (handlers/rebuild_ahead.py)."""
        await one_writer(session)
        ahead, self._built_ahead = self._built_ahead, None
        providers, practices, prepared = await take_waiting(session, ahead, self.rebuild_chunk)
        if not (providers or practices):
            return 0
        generation = await _raise_generation(session)
        building = await build_next(session, reader, self.rebuild_chunk) if reader else None
        try:
            # Their linked fiches were noted with them (`after_batch`): none to add here.
            if prepared is None:
                await self.rebuild(session, providers=providers, practices=practices)
            else:
                await write_rebuild(session, prepared)
            if building is not None:
                self._built_ahead = await building.built(generation)
        finally:
            if building is not None:
                building.cancel()
        return len(providers) + len(practices)

    async def flush_when_idle(
        self, sessions: async_sessionmaker[AsyncSession], idle_s: float = 1.0
    ) -> None:
        """Rebuild what a catch-up left waiting once no batch came for `idle_s` (the last
        batch of a backlog may itself be a full one), or at once when a batch found the
        consumer caught up with fiches still waiting: that batch was the backlog's end, and
        waiting for an idle second added 1.1-1.9 s to a catch-up of 100,000 events
        (bench/directory.py). Runs until cancelled."""
        more = caught_up = False
        while True:
            if more:
                await asyncio.sleep(0)  # a chunk at a time, without a pause
            else:
                await self._pause(idle_s)
            # Woken by a caught-up batch, it goes on until a chunk is not full.
            caught_up = (caught_up and more) or self._caught_up.is_set()
            self._caught_up.clear()
            more = False
            if not self._may_flush(idle_s, caught_up):
                continue
            self._maybe_pending = False  # a batch deferring from now on sets it again
            chunk = self.rebuild_chunk
            try:
                await self.first_build.before_rebuilding(sessions)
                started = time.monotonic()
                async with sessions() as session, session.begin():
                    reader = sessions if _builds_ahead(session) else None
                    rebuilt = await self.rebuild_pending(session, reader=reader)
                if self.chunks is not None:
                    self.chunks.took(rebuilt, time.monotonic() - started)
                # More wait when the chunk was full, or when the next one was built ahead
                # (it was sized before this chunk's time resized the chunks).
                more = (chunk is not None and rebuilt >= chunk) or self._built_ahead is not None
                self._maybe_pending = self._maybe_pending or more
                if more:
                    self.statistics.chunk_rebuilt(rebuilt)
                    await self.statistics.refresh_if_due(sessions)
                else:
                    await self.first_build.after_rebuilding(sessions)
            except Exception as error:
                self._maybe_pending = True
                self._built_ahead = None  # built beside a transaction that did not commit
                log.warning(
                    "rebuilding the waiting fiches failed; retrying",
                    extra={"error_type": type(error).__name__},
                    exc_info=not isinstance(error, TRANSIENT_ERRORS),
                )
                continue
            if rebuilt:
                log.info(
                    "rebuilt the fiches a catch-up left waiting",
                    extra={"fiches": rebuilt, "next_chunk": self.rebuild_chunk},
                )

    def _wake_the_flush_on_commit(self, session: AsyncSession) -> None:
        """Once this batch commits, the idle flush takes the next chunk (not before: on
        SQLite its transaction would read the waiting fiches this batch took, and fail)."""
        sa.event.listen(
            session.sync_session, "after_commit", lambda _: self._caught_up.set(), once=True
        )

    def _may_flush(self, idle_s: float, caught_up: bool) -> bool:
        """Whether fiches may wait and no batch runs, nor came within `idle_s` (unless the
        last one found the consumer caught up)."""
        idle = caught_up or time.monotonic() - self._last_batch >= idle_s
        return self._maybe_pending and not self._batches and idle

    async def _pause(self, idle_s: float) -> None:
        """Wait `idle_s`, or less if a batch finds the consumer caught up meanwhile."""
        with contextlib.suppress(TimeoutError):
            await within(self._caught_up.wait(), idle_s)

    def _took_a_full_chunk(self, providers: set[str], practices: set[str]) -> bool:
        return self.rebuild_chunk is not None and (
            len(providers) + len(practices) >= self.rebuild_chunk
        )

    async def _rebuild_touched(self, session: AsyncSession, touched: Touched) -> None:
        providers, practices = await _with_linked(session, touched)
        await self.rebuild(session, providers=providers, practices=practices)

    # Hits ----------------------------------------------------------------------------

    async def rebuild(
        self, session: AsyncSession, *, providers: Iterable[str], practices: Iterable[str]
    ) -> None:
        """Replace the hits, terms and standard resources of these fiches with what their
        facts say now."""
        prepared = await prepare_rebuild(session, providers=providers, practices=practices)
        await write_rebuild(session, prepared)
