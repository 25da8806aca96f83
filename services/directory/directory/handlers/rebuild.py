"""Rebuilding fiches from their facts, in two steps: prepare, then write.

`prepare_rebuild` reads the facts of some fiches and builds everything the read model
holds for them: search documents and terms, FHIR and HSDS resources with their stored text.
It only reads facts, so it may run on another connection than the transaction that
writes, as long as no facts can change meanwhile (the idle flush builds its next chunk
that way, while it writes the current one: handlers/rebuild_ahead.py). `write_rebuild`
replaces what the read model held for those fiches with what was prepared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from directory.adapters.id_lists import id_chunks, insert_rows
from directory.adapters.name_prefixes import forget_search_prefixes, write_search_prefixes
from directory.adapters.tables import (
    search_documents,
    search_offers,
    search_practices,
    search_providers,
    search_terms,
)
from directory.domain.documents import PRACTICE, PROVIDER, Built, build_practice, build_provider
from directory.handlers.standards import (
    OwnedResources,
    build_standards,
    read_providers,
    store_standards,
)
from directory.handlers.taking_turns import taking_turns
from servicekit.id_lists import one_of


@dataclass(frozen=True)
class PreparedRebuild:
    """What the read model will hold for some fiches, built from their facts."""

    providers: list[str]
    practices: list[str]
    built: list[Built]
    """The search hits of those that are published."""
    term_rows: list[dict[str, str]]
    standards: list[OwnedResources]


async def prepare_rebuild(
    session: AsyncSession, *, providers: Iterable[str], practices: Iterable[str]
) -> PreparedRebuild:
    """Read these fiches' facts and build their hits, terms and standard resources."""
    providers, practices = sorted(set(providers)), sorted(set(practices))
    built: list[Built] = []
    # Read once for the search hits (the published) and the Practitioners (all).
    provider_facts: dict[str, dict[str, Any]] = {}
    for chunk in id_chunks(providers):
        found = await read_providers(session, chunk)
        provider_facts.update(found)
        built.extend(await _build_providers(session, [p for p in found.values() if p["published"]]))
    for chunk in id_chunks(practices):
        built.extend(await _build_practices(session, chunk))
    standards = await build_standards(
        session, providers=providers, practices=practices, provider_facts=provider_facts
    )
    term_rows = [row async for b in taking_turns(built, 200) for row in b.term_rows()]
    return PreparedRebuild(providers, practices, built, term_rows, standards)


async def write_rebuild(session: AsyncSession, prepared: PreparedRebuild) -> None:
    """Replace the hits, terms and standard resources of the prepared fiches."""
    for chunk in id_chunks(prepared.providers):
        await _forget(session, PROVIDER, chunk)
    for chunk in id_chunks(prepared.practices):
        await _forget(session, PRACTICE, chunk)
    await insert_rows(session, search_documents, [b.document_row() for b in prepared.built])
    # The search terms, and the name prefixes stored beside them.
    await insert_rows(session, search_terms, prepared.term_rows)
    await write_search_prefixes(session, prepared.term_rows)
    await store_standards(session, prepared.standards)


async def _forget(session: AsyncSession, kind: str, ids: list[str]) -> None:
    """Delete these fiches' rows from every table `rebuild` writes.

    A fiche has terms and prefixes only if it has a document (`rebuild` writes all three
    for each fiche it builds), so only the fiches whose document this deletes are looked
    up in the two larger tables. In a first build (a directory catching up from empty)
    that is none of them: those deletes found nothing, yet were the largest part of
    PostgreSQL's work in a catch-up of 100,000 events (bench/directory.py). The prefix
    rows go by the terms deleted (adapters/name_prefixes.py)."""
    deleted = await session.execute(
        sa.delete(search_documents)
        .where(search_documents.c.kind == kind, one_of(session, search_documents.c.fiche_id, ids))
        .returning(search_documents.c.fiche_id)
    )
    built_before = list(deleted.scalars())
    if not built_before:
        return
    terms = search_terms
    deleted_terms = await session.execute(
        sa.delete(terms)
        .where(terms.c.kind == kind, one_of(session, terms.c.fiche_id, built_before))
        .returning(terms.c.term, terms.c.sort_key, terms.c.kind, terms.c.fiche_id)
    )
    await forget_search_prefixes(session, list(deleted_terms))


async def _build_providers(session: AsyncSession, providers: list[dict[str, Any]]) -> list[Built]:
    """The search hits of these published providers (their facts, `read_providers`)."""
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
            one_of(session, search_offers.c.provider_fiche_id, [p["fiche_id"] for p in providers]),
            search_practices.c.published,
        )
    )
    for row in linked:
        at.setdefault(row.provider_fiche_id, {})[row.practice_id] = (
            row.practice_id,
            row.name,
            row.facts,
        )
    return [
        build_provider(p, list(at.get(p["fiche_id"], {}).values()))
        async for p in taking_turns(providers)
    ]


async def _build_practices(session: AsyncSession, ids: list[str]) -> list[Built]:
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
        async for p in taking_turns(practices)
    ]
