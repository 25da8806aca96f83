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

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

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
from directory.adapters.id_lists import insert_rows, one_of
from directory.adapters.name_prefixes import write_search_prefixes
from directory.adapters.response_cache import projection_committed
from directory.adapters.tables import (
    projection_generation,
    search_documents,
    search_offers,
    search_practices,
    search_providers,
    search_terms,
)
from directory.domain.documents import (
    PRACTICE,
    PROVIDER,
    Built,
    build_practice,
    build_provider,
)
from directory.domain.geo import Geocoder, NoGeocoder
from directory.handlers.facts import record_facts
from directory.handlers.standards import rebuild_standards

_CHUNK = 500


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    items = sorted(set(values))
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


async def _raise_generation(session: AsyncSession) -> None:
    """Cached answers are superseded by this batch: in the database for every replica,
    and in this process as soon as the batch commits."""
    await session.execute(
        sa.update(projection_generation)
        .where(projection_generation.c.id == 1)
        .values(generation=projection_generation.c.generation + 1)
    )
    sa.event.listen(session.sync_session, "after_commit", _committed, once=True)


def _committed(_: Any) -> None:
    projection_committed()


class DirectoryProjection:
    """Handlers of fiches' public events that keep the directory's read model."""

    def __init__(self, geocoder: Geocoder | None = None) -> None:
        self.geocoder = geocoder or NoGeocoder()

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

    # Hits ----------------------------------------------------------------------------

    async def after_batch(self, session: AsyncSession, events: Sequence[Event]) -> None:
        """Record the batch's facts, then rebuild the hits and standard resources of every
        fiche the batch touched, and of the fiches linked to it."""
        await record_facts(session, events, self.geocoder)
        await _raise_generation(session)
        providers: set[str] = set()
        practices: set[str] = set()
        changed_providers: set[str] = set()
        changed_practices: set[str] = set()
        for event in events:
            if isinstance(
                event, ProviderFichePublished | ProviderFicheUpdated | ProviderFicheDepublished
            ):
                changed_providers.add(event.fiche_id)
            elif isinstance(
                event, PracticeFichePublished | PracticeFicheUpdated | PracticeFicheDepublished
            ):
                changed_practices.add(event.practice_id)
            elif isinstance(event, OfferLinked | OfferUnlinked):
                providers.add(event.provider_fiche_id)
                practices.add(event.practice_id)
        providers |= changed_providers
        practices |= changed_practices
        for chunk in _chunks(changed_providers):
            rows = await session.execute(
                sa.select(search_offers.c.practice_id).where(
                    one_of(session, search_offers.c.provider_fiche_id, chunk)
                )
            )
            practices.update(rows.scalars())
        for chunk in _chunks(changed_practices):
            rows = await session.execute(
                sa.select(search_offers.c.provider_fiche_id).where(
                    one_of(session, search_offers.c.practice_id, chunk)
                )
            )
            providers.update(rows.scalars())
        await self.rebuild(session, providers=providers, practices=practices)

    async def rebuild(
        self, session: AsyncSession, *, providers: Iterable[str], practices: Iterable[str]
    ) -> None:
        """Replace the hits, terms and standard resources of these fiches with what their
        facts say now."""
        providers, practices = set(providers), set(practices)
        built: list[Built] = []
        for chunk in _chunks(providers):
            await self._forget(session, PROVIDER, chunk)
            built.extend(await self._build_providers(session, chunk))
        for chunk in _chunks(practices):
            await self._forget(session, PRACTICE, chunk)
            built.extend(await self._build_practices(session, chunk))
        if built:
            await insert_rows(session, search_documents, [b.document_row() for b in built])
            terms = [row for b in built for row in b.term_rows()]
            if terms:
                await insert_rows(session, search_terms, terms)
                await write_search_prefixes(session, terms)
        await rebuild_standards(session, providers=providers, practices=practices)

    async def _forget(self, session: AsyncSession, kind: str, ids: list[str]) -> None:
        for table in (search_documents, search_terms):
            await session.execute(
                sa.delete(table).where(table.c.kind == kind, one_of(session, table.c.fiche_id, ids))
            )

    async def _build_providers(self, session: AsyncSession, ids: list[str]) -> list[Built]:
        rows = await session.execute(
            sa.select(search_providers).where(
                one_of(session, search_providers.c.fiche_id, ids), search_providers.c.published
            )
        )
        providers = [dict(row._mapping) for row in rows]
        if not providers:
            return []
        at: dict[str, dict[str, tuple[str, str, dict[str, Any]]]] = {}
        linked = await session.execute(
            sa.select(
                search_offers.c.provider_fiche_id,
                search_practices.c.practice_id,
                search_practices.c.name,
                search_practices.c.facts,
            )
            .join(search_practices, search_practices.c.practice_id == search_offers.c.practice_id)
            .where(
                one_of(
                    session, search_offers.c.provider_fiche_id, [p["fiche_id"] for p in providers]
                ),
                search_practices.c.published,
            )
        )
        for row in linked:
            at.setdefault(row.provider_fiche_id, {})[row.practice_id] = (
                row.practice_id,
                row.name,
                row.facts,
            )
        return [build_provider(p, list(at.get(p["fiche_id"], {}).values())) for p in providers]

    async def _build_practices(self, session: AsyncSession, ids: list[str]) -> list[Built]:
        rows = await session.execute(
            sa.select(search_practices).where(
                one_of(session, search_practices.c.practice_id, ids), search_practices.c.published
            )
        )
        practices = list(rows)
        if not practices:
            return []
        offers: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        linked = await session.execute(
            sa.select(search_offers.c.practice_id, search_offers.c.profession, search_providers)
            .join(
                search_providers,
                search_providers.c.fiche_id == search_offers.c.provider_fiche_id,
            )
            .where(
                one_of(session, search_offers.c.practice_id, [p.practice_id for p in practices]),
                search_providers.c.published,
            )
        )
        for row in linked:
            provider = dict(row._mapping)
            offers.setdefault(row.practice_id, []).append((row.profession, provider))
        return [
            build_practice(p.practice_id, p.name, p.facts, offers.get(p.practice_id, []))
            for p in practices
        ]
