"""Recording a batch of public events as facts, in bulk.

The events of a batch are folded per fiche in the order they came (an older revision
than the one known is ignored; a depublication keeps the facts, marked unpublished, so
links survive a republication and a late older version is still recognised), then each
table is written once: one read of what is known, one delete and one insert per table.
Per-event statements cost ~1 ms each; a catching-up directory applies batches of thousands,
and the rows go in with one driver-level executemany per table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
    search_offers,
    search_practices,
    search_providers,
)
from directory.domain.documents import PRACTICE_FACTS
from directory.domain.geo import Geocoder
from servicekit.database import as_utc
from servicekit.id_lists import one_of
from servicekit.messaging.bulk import copy_rows

_CHUNK = 500


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = list(values)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


async def _known(
    session: AsyncSession, table: sa.Table, key: sa.Column[Any], ids: set[str]
) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(ids)):
        # Locked (PostgreSQL) until the batch commits: the read-ahead group and the
        # in-order group change the same rows, and neither may overwrite the other's.
        query = sa.select(table).where(one_of(session, key, chunk)).with_for_update()
        for row in await session.execute(query):
            found[row._mapping[key.name]] = dict(row._mapping)
    return found


async def _replace(
    session: AsyncSession, table: sa.Table, key: sa.Column[Any], rows: dict[str, dict[str, Any]]
) -> None:
    for chunk in _chunks(sorted(rows)):
        await session.execute(sa.delete(table).where(one_of(session, key, chunk)))
    await copy_rows(await session.connection(), table, list(rows.values()))


def _older_than_shown(
    known: dict[str, Any] | None,
    event: ProviderFichePublished
    | ProviderFicheUpdated
    | PracticeFichePublished
    | PracticeFicheUpdated,
) -> bool:
    """Whether a published version is older than what the directory already shows.

    An older revision; or a version from before a depublication already recorded. The
    read-ahead group (`directory.depublications`) records a depublication before the
    in-order group has applied the versions queued ahead of it: those must not put the
    fiche back on the map. A republication comes later than its depublication, and shows.
    """
    if known is None:
        return False
    if known["revision"] > event.revision:
        return True
    return not known["published"] and as_utc(known["updated_at"]) > event.occurred_at


def _provider_row(event: ProviderFichePublished | ProviderFicheUpdated) -> dict[str, Any]:
    return {
        "fiche_id": event.fiche_id,
        "published": True,
        "revision": event.revision,
        "official_first_name": event.official_first_name,
        "official_last_name": event.official_last_name,
        "preferred_name": event.preferred_name,
        "professions": [p.profession for p in event.professions],
        "languages": [language.lower() for language in event.languages],
        "updated_at": event.occurred_at,
        "public_professions": [
            {
                "profession": p.profession,
                "riziv_number": p.riziv_number,
                "qualification_code": p.qualification_code,
            }
            for p in event.professions
        ],
    }


async def _providers(session: AsyncSession, events: Sequence[Event]) -> None:
    mine = [
        e
        for e in events
        if isinstance(e, ProviderFichePublished | ProviderFicheUpdated | ProviderFicheDepublished)
    ]
    if not mine:
        return
    table = search_providers
    state = await _known(session, table, table.c.fiche_id, {e.fiche_id for e in mine})
    changed: dict[str, dict[str, Any]] = {}
    for event in mine:
        known = state.get(event.fiche_id)
        if isinstance(event, ProviderFicheDepublished):
            if known is None:
                continue  # never seen published: nothing to take off the map
            row = {**known, "published": False, "updated_at": event.occurred_at}
        elif _older_than_shown(known, event):
            continue
        else:
            row = _provider_row(event)
        state[event.fiche_id] = changed[event.fiche_id] = row
    await _replace(session, table, table.c.fiche_id, changed)


async def _practices(session: AsyncSession, events: Sequence[Event], geocoder: Geocoder) -> None:
    mine = [
        e
        for e in events
        if isinstance(e, PracticeFichePublished | PracticeFicheUpdated | PracticeFicheDepublished)
    ]
    if not mine:
        return
    table = search_practices
    state = await _known(session, table, table.c.practice_id, {e.practice_id for e in mine})
    changed: dict[str, dict[str, Any]] = {}
    addresses: dict[str, list[Any]] = {}
    for event in mine:
        known = state.get(event.practice_id)
        if isinstance(event, PracticeFicheDepublished):
            if known is None:
                continue
            row = {**known, "published": False, "updated_at": event.occurred_at}
            addresses[event.practice_id] = []  # off the map
        elif _older_than_shown(known, event):
            continue
        else:
            row = {
                "practice_id": event.practice_id,
                "published": True,
                "revision": event.revision,
                "name": event.name,
                "facts": event.model_dump(mode="json", include=set(PRACTICE_FACTS)),
                "updated_at": event.occurred_at,
            }
            addresses[event.practice_id] = list(event.addresses)
        state[event.practice_id] = changed[event.practice_id] = row
    await _replace(session, table, table.c.practice_id, changed)
    places = []
    for practice_id, where in addresses.items():
        for position, address in enumerate(where):
            placed = await geocoder.locate(address.postcode, address.municipality, address.street)
            if placed is not None:
                places.append(
                    {
                        "practice_id": practice_id,
                        "position": position,
                        "latitude": placed.point.latitude,
                        "longitude": placed.point.longitude,
                        "precision": placed.precision,
                    }
                )
    for chunk in _chunks(sorted(addresses)):
        await session.execute(
            sa.delete(practice_places).where(one_of(session, practice_places.c.practice_id, chunk))
        )
    await copy_rows(await session.connection(), practice_places, places)


async def _offers(session: AsyncSession, events: Sequence[Event]) -> None:
    mine = [e for e in events if isinstance(e, OfferLinked | OfferUnlinked)]
    if not mine:
        return
    table = search_offers
    known: set[tuple[str, str, str]] = set()
    for chunk in _chunks(sorted({e.practice_id for e in mine})):
        rows = await session.execute(
            sa.select(table.c.practice_id, table.c.provider_fiche_id, table.c.profession).where(
                one_of(session, table.c.practice_id, chunk)
            )
        )
        known.update((r.practice_id, r.provider_fiche_id, r.profession) for r in rows)
    final = set(known)
    for event in mine:
        key = (event.practice_id, event.provider_fiche_id, event.profession)
        if isinstance(event, OfferLinked):
            final.add(key)
        else:
            final.discard(key)
    for practice_id, provider_id, profession in sorted(known - final):
        await session.execute(
            sa.delete(table).where(
                table.c.practice_id == practice_id,
                table.c.provider_fiche_id == provider_id,
                table.c.profession == profession,
            )
        )
    added = [
        {"practice_id": p, "provider_fiche_id": f, "profession": c}
        for p, f, c in sorted(final - known)
    ]
    await copy_rows(await session.connection(), table, added)


async def record_facts(session: AsyncSession, events: Sequence[Event], geocoder: Geocoder) -> None:
    """The facts of a batch of public events, written in bulk."""
    await _providers(session, events)
    await _practices(session, events, geocoder)
    await _offers(session, events)
