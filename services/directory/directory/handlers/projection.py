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
from directory.adapters.tables import (
    practice_places,
    search_documents,
    search_offers,
    search_practices,
    search_providers,
    search_terms,
)
from directory.domain.documents import (
    PRACTICE,
    PRACTICE_FACTS,
    PROVIDER,
    Built,
    build_practice,
    build_provider,
)
from directory.domain.geo import Geocoder, NoGeocoder
from directory.handlers.standards import rebuild_standards

_CHUNK = 500


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    items = sorted(set(values))
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class DirectoryProjection:
    """Handlers of fiches' public events that keep the directory's read model."""

    def __init__(self, geocoder: Geocoder | None = None) -> None:
        self.geocoder = geocoder or NoGeocoder()

    def handlers(self) -> dict[type[Event], Any]:
        """The handler of each public event the directory reads."""
        return {
            ProviderFichePublished: self.provider_published,
            ProviderFicheUpdated: self.provider_published,
            ProviderFicheDepublished: self.provider_depublished,
            PracticeFichePublished: self.practice_published,
            PracticeFicheUpdated: self.practice_published,
            PracticeFicheDepublished: self.practice_depublished,
            OfferLinked: self.offer_linked,
            OfferUnlinked: self.offer_unlinked,
        }

    async def apply(self, session: AsyncSession, events: Sequence[Event]) -> None:
        """Apply events as one consumed batch would (tools and tests)."""
        handlers = self.handlers()
        for event in events:
            await handlers[type(event)](session, event)
        await self.after_batch(session, events)

    # Facts ---------------------------------------------------------------------------

    async def provider_published(
        self, session: AsyncSession, event: ProviderFichePublished | ProviderFicheUpdated
    ) -> None:
        table = search_providers
        known = await session.scalar(
            sa.select(table.c.revision).where(table.c.fiche_id == event.fiche_id)
        )
        if known is not None and known > event.revision:
            return  # an older version than the one shown
        await session.execute(sa.delete(table).where(table.c.fiche_id == event.fiche_id))
        await session.execute(
            sa.insert(table).values(
                fiche_id=event.fiche_id,
                published=True,
                revision=event.revision,
                official_first_name=event.official_first_name,
                official_last_name=event.official_last_name,
                preferred_name=event.preferred_name,
                professions=[p.profession for p in event.professions],
                languages=[language.lower() for language in event.languages],
                updated_at=event.occurred_at,
                public_professions=[
                    {"profession": p.profession, "riziv_number": p.riziv_number}
                    for p in event.professions
                ],
            )
        )

    async def provider_depublished(
        self, session: AsyncSession, event: ProviderFicheDepublished
    ) -> None:
        await session.execute(
            sa.update(search_providers)
            .where(search_providers.c.fiche_id == event.fiche_id)
            .values(published=False, updated_at=event.occurred_at)
        )

    async def practice_published(
        self, session: AsyncSession, event: PracticeFichePublished | PracticeFicheUpdated
    ) -> None:
        table = search_practices
        known = await session.scalar(
            sa.select(table.c.revision).where(table.c.practice_id == event.practice_id)
        )
        if known is not None and known > event.revision:
            return
        await session.execute(sa.delete(table).where(table.c.practice_id == event.practice_id))
        await session.execute(
            sa.insert(table).values(
                practice_id=event.practice_id,
                published=True,
                revision=event.revision,
                name=event.name,
                facts=event.model_dump(mode="json", include=set(PRACTICE_FACTS)),
                updated_at=event.occurred_at,
            )
        )
        await self._place(session, event)

    async def practice_depublished(
        self, session: AsyncSession, event: PracticeFicheDepublished
    ) -> None:
        await session.execute(
            sa.update(search_practices)
            .where(search_practices.c.practice_id == event.practice_id)
            .values(published=False, updated_at=event.occurred_at)
        )
        await session.execute(
            sa.delete(practice_places).where(practice_places.c.practice_id == event.practice_id)
        )

    async def _place(
        self, session: AsyncSession, event: PracticeFichePublished | PracticeFicheUpdated
    ) -> None:
        """Put every address of the published version on the map (those the geocoder knows)."""
        await session.execute(
            sa.delete(practice_places).where(practice_places.c.practice_id == event.practice_id)
        )
        rows = []
        for position, address in enumerate(event.addresses):
            placed = await self.geocoder.locate(
                address.postcode, address.municipality, address.street
            )
            if placed is not None:
                rows.append(
                    {
                        "practice_id": event.practice_id,
                        "position": position,
                        "latitude": placed.point.latitude,
                        "longitude": placed.point.longitude,
                        "precision": placed.precision,
                    }
                )
        if rows:
            await session.execute(sa.insert(practice_places), rows)

    async def offer_linked(self, session: AsyncSession, event: OfferLinked) -> None:
        key = (
            (search_offers.c.practice_id == event.practice_id)
            & (search_offers.c.provider_fiche_id == event.provider_fiche_id)
            & (search_offers.c.profession == event.profession)
        )
        if await session.scalar(sa.select(sa.func.count()).where(key)):
            return
        await session.execute(
            sa.insert(search_offers).values(
                practice_id=event.practice_id,
                provider_fiche_id=event.provider_fiche_id,
                profession=event.profession,
            )
        )

    async def offer_unlinked(self, session: AsyncSession, event: OfferUnlinked) -> None:
        await session.execute(
            sa.delete(search_offers).where(
                search_offers.c.practice_id == event.practice_id,
                search_offers.c.provider_fiche_id == event.provider_fiche_id,
                search_offers.c.profession == event.profession,
            )
        )

    # Hits ----------------------------------------------------------------------------

    async def after_batch(self, session: AsyncSession, events: Sequence[Event]) -> None:
        """Rebuild the hits of every fiche the batch touched, and of the fiches linked to it."""
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
                    search_offers.c.provider_fiche_id.in_(chunk)
                )
            )
            practices.update(rows.scalars())
        for chunk in _chunks(changed_practices):
            rows = await session.execute(
                sa.select(search_offers.c.provider_fiche_id).where(
                    search_offers.c.practice_id.in_(chunk)
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
            await session.execute(sa.insert(search_documents), [b.document_row() for b in built])
            terms = [row for b in built for row in b.term_rows()]
            if terms:
                await session.execute(sa.insert(search_terms), terms)
        await rebuild_standards(session, providers=providers, practices=practices)

    async def _forget(self, session: AsyncSession, kind: str, ids: list[str]) -> None:
        for table in (search_documents, search_terms):
            await session.execute(
                sa.delete(table).where(table.c.kind == kind, table.c.fiche_id.in_(ids))
            )

    async def _build_providers(self, session: AsyncSession, ids: list[str]) -> list[Built]:
        rows = await session.execute(
            sa.select(search_providers).where(
                search_providers.c.fiche_id.in_(ids), search_providers.c.published
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
                search_offers.c.provider_fiche_id.in_([p["fiche_id"] for p in providers]),
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
                search_practices.c.practice_id.in_(ids), search_practices.c.published
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
                search_offers.c.practice_id.in_([p.practice_id for p in practices]),
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
