"""Keeping the FHIR and HSDS resources of the fiches a batch touched.

Every touched provider's Practitioner and every touched practice's Organization,
Locations, HealthcareServices, PractitionerRoles (FHIR) and organization, locations,
services, services at locations (HSDS) are built again from the facts. A resource whose
content did not change keeps its version and time, so `_history?_since=` and
`modified_after` return real changes only. A resource the facts no longer produce (an
unlinked offer, a removed address) is kept, inactive, never deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from directory.adapters.id_lists import id_chunks, insert_rows
from directory.adapters.name_prefixes import forget_standard_prefixes, write_standard_prefixes
from directory.adapters.tables import (
    practice_places,
    search_offers,
    search_practices,
    search_providers,
    standard_resources,
    standard_terms,
)
from directory.domain import fhir, hsds
from directory.domain.resources import FHIR, HSDS, Resource, stored_text
from directory.handlers.taking_turns import taking_turns
from servicekit.id_lists import one_of


def _inactive(standard: str, content: dict[str, Any]) -> dict[str, Any]:
    if standard == FHIR:
        return fhir.inactive(content)
    return {**content, "status": "inactive"} if "status" in content else content


async def read_providers(session: AsyncSession, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The facts of these providers by fiche id, published or not (a depublished one's
    Practitioner shows inactive)."""
    rows = await session.execute(
        sa.select(search_providers).where(one_of(session, search_providers.c.fiche_id, ids))
    )
    return {row.fiche_id: dict(row._mapping) for row in rows}


async def _practice_resources(session: AsyncSession, ids: list[str]) -> list[Resource]:
    practices = [
        dict(row._mapping)
        for row in await session.execute(
            sa.select(search_practices).where(one_of(session, search_practices.c.practice_id, ids))
        )
    ]
    if not practices:
        return []
    places: dict[str, dict[int, tuple[float, float]]] = {}
    for row in await session.execute(
        sa.select(practice_places).where(one_of(session, practice_places.c.practice_id, ids))
    ):
        places.setdefault(row.practice_id, {})[row.position] = (row.latitude, row.longitude)
    links = list(
        await session.execute(
            sa.select(
                search_offers.c.practice_id,
                search_offers.c.provider_fiche_id,
                search_offers.c.profession,
            ).where(one_of(session, search_offers.c.practice_id, ids))
        )
    )
    providers = await read_providers(session, [link.provider_fiche_id for link in links])
    offers: dict[str, list[fhir.Offer]] = {}
    for link in links:
        offers.setdefault(link.practice_id, []).append(
            fhir.Offer(
                link.provider_fiche_id, link.profession, providers.get(link.provider_fiche_id)
            )
        )
    built: list[Resource] = []
    async for practice in taking_turns(practices):
        here = places.get(practice["practice_id"], {})
        linked = offers.get(practice["practice_id"], [])
        built += fhir.practice_resources(practice, here, linked)
        built += hsds.practice_records(practice, here, linked)
    return built


Key = tuple[str, str, str]
"""(standard, type, id) of a stored resource."""


#: A standard term row's key: what deleting it returns, to delete its prefix rows by.
_TERM_KEY = (
    standard_terms.c.standard,
    standard_terms.c.type,
    standard_terms.c.term,
    standard_terms.c.id,
)

#: The standards a provider's resources belong to (its Practitioner), and a practice's.
PROVIDER_STANDARDS = (FHIR,)
PRACTICE_STANDARDS = (FHIR, HSDS)


def _owned_by(
    session: AsyncSession, owners: list[str], standards: tuple[str, ...]
) -> sa.ColumnElement[bool]:
    """The resources of these fiches, as the owner index (standard, owner) finds them: the
    standard is named so the index is probed per owner. Without it PostgreSQL read the
    whole index for every chunk (370 ms at 140,000 resources against 9 ms), which grew with
    the map and made a catch-up's rebuild quadratic. Only the standards the owners have
    resources in: each one is a probe per owner (a catch-up's providers, 60,000 of them,
    spent 2 s probing HSDS for resources a provider never has)."""
    table = standard_resources
    return sa.and_(table.c.standard.in_(standards), one_of(session, table.c.owner, owners))


async def _existing(
    session: AsyncSession, owners: list[str], standards: tuple[str, ...]
) -> dict[Key, Any]:
    table = standard_resources
    rows = await session.execute(
        sa.select(
            table.c.standard,
            table.c.type,
            table.c.id,
            table.c.active,
            table.c.version,
            table.c.content,
        ).where(_owned_by(session, owners, standards))
    )
    return {(row.standard, row.type, row.id): row for row in rows}


def _now() -> datetime:
    # Milliseconds, as served in meta.lastUpdated and HSDS last_modified: what a client
    # was shown is what is stored, so its `_since` (at or after) or `modified_after` of a
    # time it was shown finds exactly the changes stamped at that moment and later.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


async def _retire(
    session: AsyncSession, existing: dict[Key, Any], produced: set[Key], now: datetime
) -> None:
    """Resources the facts no longer produce stay, inactive (one statement for all)."""
    gone = [
        {
            "k_standard": key[0],
            "k_type": key[1],
            "k_id": key[2],
            "version": old.version + 1,
            "content": stored_text(
                old.standard, _inactive(old.standard, orjson.loads(old.content))
            ),
        }
        for key, old in existing.items()
        if key not in produced and old.active
    ]
    if not gone:
        return
    table = standard_resources
    await session.execute(
        sa.update(table)
        .where(
            table.c.standard == sa.bindparam("k_standard"),
            table.c.type == sa.bindparam("k_type"),
            table.c.id == sa.bindparam("k_id"),
        )
        .values(active=False, last_updated=now),
        gone,
    )
    await _forget_hsds_terms(session, [(g["k_standard"], g["k_type"], g["k_id"]) for g in gone])


async def _forget_hsds_terms(session: AsyncSession, keys: list[Key]) -> None:
    """HSDS serves active records only, so an inactive record keeps no terms: an HSDS
    filter then finds (and counts) active records from the term index alone."""
    by_type: dict[str, list[str]] = {}
    for standard, type_, id_ in keys:
        if standard == HSDS:
            by_type.setdefault(type_, []).append(id_)
    terms = standard_terms
    for type_, ids in by_type.items():
        for chunk in id_chunks(ids):
            deleted = await session.execute(
                sa.delete(terms)
                .where(
                    terms.c.standard == HSDS,
                    terms.c.type == type_,
                    one_of(session, terms.c.id, chunk),
                )
                .returning(*_TERM_KEY)
            )
            await forget_standard_prefixes(session, list(deleted))


def _delete_groups(
    replaced: dict[tuple[str, str], list[str]], most: int = 5_000
) -> list[dict[tuple[str, str], list[str]]]:
    """The ids to delete per (standard, type), in groups of at most `most` ids (SQLite
    binds each id as a parameter). No ids, no group: an empty group would be an OR of
    nothing, a DELETE without a condition."""
    groups: list[dict[tuple[str, str], list[str]]] = [{}]
    size = 0
    for key, ids in replaced.items():
        for start in range(0, len(ids), most):
            chunk = ids[start : start + most]
            if size + len(chunk) > most and groups[-1]:
                groups.append({})
                size = 0
            groups[-1][key] = chunk
            size += len(chunk)
    return [group for group in groups if group]


async def _delete_keys(
    session: AsyncSession,
    table: sa.Table,
    resources: list[Resource],
    returning: tuple[sa.Column[Any], ...] = (),
) -> list[Any]:
    """Delete these resources' rows from `table`: one statement per group of ids (for
    every type at once), each round trip costs more than the rows. No resources: no
    statement (`_delete_groups` gives none). The deleted rows' `returning` columns come
    back, if any are named."""
    replaced: dict[tuple[str, str], list[str]] = {}
    for resource in resources:
        replaced.setdefault((resource.standard, resource.type), []).append(resource.id)
    deleted: list[Any] = []
    for group in _delete_groups(replaced):
        statement = sa.delete(table).where(
            sa.or_(
                *(
                    sa.and_(
                        table.c.standard == standard,
                        table.c.type == type_,
                        one_of(session, table.c.id, ids),
                    )
                    for (standard, type_), ids in group.items()
                )
            )
        )
        if returning:
            deleted += await session.execute(statement.returning(*returning))
        else:
            await session.execute(statement)
    return deleted


def _stored_before(resources: list[Resource], existing: dict[Key, Any]) -> list[Resource]:
    """The resources that have rows to replace: those stored before. A resource's id is
    its owner's fiche id or derived from it (`derived_id`), so it never changes owner and
    `existing` (read by owner) holds every stored one. A resource not stored before has no
    terms either: its rows are written only with it. Deleting the rows of new resources
    found nothing, and in a first build it was most of the rebuild's time in PostgreSQL."""
    return [r for r in resources if (r.standard, r.type, r.id) in existing]


async def _write_resources(
    session: AsyncSession,
    writes: list[tuple[Resource, str, int]],
    now: datetime,
    existing: dict[Key, Any],
) -> None:
    """Replace the changed resources' rows."""
    table = standard_resources
    await _delete_keys(session, table, _stored_before([r for r, _, _ in writes], existing))
    await insert_rows(
        session,
        table,
        [
            {
                "standard": r.standard,
                "type": r.type,
                "id": r.id,
                "owner": r.owner,
                "active": r.active,
                "version": version,
                "last_updated": now,
                "latitude": r.latitude,
                "longitude": r.longitude,
                "content": text,
            }
            for r, text, version in writes
        ],
    )


def _terms_of(resource: Resource) -> frozenset[str]:
    """The terms stored for a resource (an inactive HSDS record keeps none)."""
    return (
        frozenset(resource.terms) if resource.active or resource.standard != HSDS else frozenset()
    )


async def _write_terms(
    session: AsyncSession, resources: list[Resource], existing: dict[Key, Any]
) -> None:
    """Replace these resources' terms and the name prefixes stored beside them."""
    stored_before = _stored_before(resources, existing)
    deleted = await _delete_keys(session, standard_terms, stored_before, returning=_TERM_KEY)
    await forget_standard_prefixes(session, deleted)
    terms = [
        {"standard": r.standard, "type": r.type, "term": term, "id": r.id}
        for r in resources
        for term in sorted(_terms_of(r))
    ]
    await insert_rows(session, standard_terms, terms)
    await write_standard_prefixes(session, terms)


async def _existing_terms(
    session: AsyncSession, owners: list[str], standards: tuple[str, ...]
) -> dict[Key, set[str]]:
    terms, resources = standard_terms, standard_resources
    rows = await session.execute(
        sa.select(terms.c.standard, terms.c.type, terms.c.id, terms.c.term)
        .join(
            resources,
            sa.and_(
                resources.c.standard == terms.c.standard,
                resources.c.type == terms.c.type,
                resources.c.id == terms.c.id,
            ),
        )
        .where(_owned_by(session, owners, standards))
    )
    found: dict[Key, set[str]] = {}
    for row in rows:
        found.setdefault((row.standard, row.type, row.id), set()).add(row.term)
    return found


@dataclass(frozen=True)
class OwnedResources:
    """The resources built for some fiches (their owners), each with its stored text."""

    owners: list[str]
    resources: list[Resource]
    standards: tuple[str, ...]
    """The standards these owners have resources in (where their stored ones are looked up)."""
    texts: list[str]
    """`stored_text` of each resource, in the same order: encoded when built."""

    @classmethod
    async def of(
        cls, owners: list[str], resources: list[Resource], standards: tuple[str, ...]
    ) -> OwnedResources:
        texts = [stored_text(r.standard, r.content) async for r in taking_turns(resources, 100)]
        return cls(owners, resources, standards, texts)


async def _store(session: AsyncSession, built: OwnedResources) -> None:
    """Write what changed among these owners' resources; keep what is gone, inactive. A
    resource whose content is the same keeps its version, but its terms follow the facts
    (a service's content names its location, its terms carry the location's postcode)."""
    existing = await _existing(session, built.owners, built.standards)
    stored_terms = await _existing_terms(session, built.owners, built.standards) if existing else {}
    now = _now()
    writes: list[tuple[Resource, str, int]] = []
    retermed: list[Resource] = []
    produced: set[Key] = set()
    for resource, text in zip(built.resources, built.texts, strict=True):
        key = (resource.standard, resource.type, resource.id)
        produced.add(key)
        old = existing.get(key)
        if old is None or old.content != text or old.active != resource.active:
            writes.append((resource, text, (old.version + 1) if old is not None else 1))
            retermed.append(resource)
        elif stored_terms.get(key, set()) != _terms_of(resource):
            retermed.append(resource)
    await _retire(session, existing, produced, now)
    if writes:
        await _write_resources(session, writes, now, existing)
    if retermed:
        await _write_terms(session, retermed, existing)


async def build_standards(
    session: AsyncSession,
    *,
    providers: Iterable[str],
    practices: Iterable[str],
    provider_facts: dict[str, dict[str, Any]],
) -> list[OwnedResources]:
    """The FHIR and HSDS resources of these providers and practices, built from their
    facts (read-only: `session` may be another connection than the one that writes).
    `provider_facts`: those providers' facts, as the caller read them for their search
    hits too (`read_providers`), so they are not read and decoded twice."""
    built: list[OwnedResources] = []
    for chunk in id_chunks(providers):
        found = [provider_facts[fiche] for fiche in chunk if fiche in provider_facts]
        practitioners = [fhir.practitioner(p) async for p in taking_turns(found, 100)]
        built.append(await OwnedResources.of(chunk, practitioners, PROVIDER_STANDARDS))
    for chunk in id_chunks(practices):
        resources = await _practice_resources(session, chunk)
        built.append(await OwnedResources.of(chunk, resources, PRACTICE_STANDARDS))
    return built


async def store_standards(session: AsyncSession, built: list[OwnedResources]) -> None:
    """Write built resources where they changed (`build_standards` made them)."""
    for owned in built:
        await _store(session, owned)
