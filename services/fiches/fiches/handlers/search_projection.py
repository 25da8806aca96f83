"""The public search read model, kept from fiches' own public events.

It consumes exactly what agencies see (fiches.providers.v1, fiches.practices.v1,
fiches.offers.v1), so search shows the published versions and never an edit version.
Per batch, the handlers record the facts; then every fiche the batch touched gets its
search document and terms rebuilt, together with the fiches linked to it: a provider's
hit lists the practices they work at (and is found by their postcodes), and a practice's
hit shows its offer blocks (and is found by its providers' languages). A depublished
provider therefore leaves both their own hit and every practice's offer block.
"""

from __future__ import annotations

import functools
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from contracts.base import Event
from contracts.events.fiches import (
    OFFERS_TOPIC,
    PRACTICES_TOPIC,
    PROVIDERS_TOPIC,
    OfferLinked,
    OfferUnlinked,
    PracticeFicheDepublished,
    PracticeFichePublished,
    PracticeFicheUpdated,
    ProviderFicheDepublished,
    ProviderFichePublished,
    ProviderFicheUpdated,
)
from fiches.adapters.search_tables import (
    search_documents,
    search_offers,
    search_practices,
    search_providers,
    search_terms,
)
from fiches.domain.provider_fiche import display_name
from servicekit.messaging.inbox import Subscription

PROVIDER = "provider"
PRACTICE = "practice"

_CHUNK = 500

# Published practice facts kept for the search hit (e-mail addresses never travel on the
# topic, so they cannot appear here either).
_PRACTICE_FACTS = (
    "names",
    "addresses",
    "phone_numbers",
    "websites",
    "target_groups",
    "age_categories",
    "wijken",
    "contact_persons",
    "opening_hours",
    "extra_offer",
)


# --- Normalisation ---------------------------------------------------------------------


def words(text: str | None) -> list[str]:
    """Lower-case ASCII words of a text: accents dropped, anything else splits words.

    `Sint-Niklaas` -> [sint, niklaas]; `Céline` -> [celine].
    """
    if not text:
        return []
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    cleaned = "".join(c if ("a" <= c <= "z" or "0" <= c <= "9") else " " for c in plain)
    return cleaned.split()


def normalized(text: str | None) -> str:
    """A value as one term: its words, space-joined (`Sint-Niklaas` -> `sint niklaas`)."""
    return " ".join(words(text))


def prefix_range(prefix: str) -> tuple[str, str]:
    """[low, high) of every term starting with `prefix` (terms are [a-z0-9 :], byte order)."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _terms(prefix: str, values: Iterable[str | None]) -> set[str]:
    return {f"{prefix}:{value}" for value in (normalized(v) for v in values) if value}


def _preferred(items: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    return next((i for i in items if i.get("preferred")), items[0] if items else None)


# --- Building one fiche's hit ----------------------------------------------------------


@dataclass(frozen=True)
class Built:
    """One published fiche as the search reads it."""

    kind: str
    fiche_id: str
    sort_key: str
    document: str
    terms: frozenset[str]

    def document_row(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "fiche_id": self.fiche_id,
            "sort_key": self.sort_key,
            "document": self.document,
        }

    def term_rows(self) -> Iterator[dict[str, str]]:
        for term in sorted(self.terms):
            yield {
                "term": term,
                "kind": self.kind,
                "fiche_id": self.fiche_id,
                "sort_key": self.sort_key,
            }


def provider_display_name(provider: dict[str, Any]) -> str:
    """The name the provider goes by, else their official name."""
    return display_name(
        provider.get("preferred_name"),
        provider["official_first_name"],
        provider["official_last_name"],
    )


def practice_summary(practice_id: str, facts: dict[str, Any], name: str) -> dict[str, Any]:
    """How a practice appears inside a provider's hit."""
    address = _preferred(facts.get("addresses") or [])
    return {
        "practice_id": practice_id,
        "name": name,
        "postcode": address["postcode"] if address else None,
        "municipality": address["municipality"] if address else None,
    }


def build_provider(
    provider: dict[str, Any], practices: Sequence[tuple[str, str, dict[str, Any]]]
) -> Built:
    """A published provider's hit; `practices`: (id, name, facts) of published practices
    where their offer is linked."""
    fiche_id = provider["fiche_id"]
    professions = sorted(set(provider["professions"]))
    languages = sorted(set(provider["languages"]))
    ordered = sorted(practices, key=lambda p: (normalized(p[1]), p[0]))
    document = {
        "type": PROVIDER,
        "id": fiche_id,
        "name": provider_display_name(provider),
        "official_first_name": provider["official_first_name"],
        "official_last_name": provider["official_last_name"],
        "preferred_name": provider.get("preferred_name"),
        "professions": professions,
        "languages": languages,
        "practices": [practice_summary(pid, facts, name) for pid, name, facts in ordered],
    }
    terms = _terms(
        "n",
        [
            *words(provider["official_first_name"]),
            *words(provider["official_last_name"]),
            *words(provider.get("preferred_name")),
        ],
    )
    terms |= _terms("p", professions) | _terms("l", languages)
    for _, _, facts in practices:
        terms |= _location_terms(facts)
    return Built(
        kind=PROVIDER,
        fiche_id=fiche_id,
        sort_key=normalized(f"{provider['official_last_name']} {provider['official_first_name']}")[
            :380
        ],
        document=orjson.dumps(document).decode(),
        terms=frozenset(terms),
    )


def _location_terms(facts: dict[str, Any]) -> set[str]:
    addresses = facts.get("addresses") or []
    return (
        _terms("pc", [a.get("postcode") for a in addresses])
        | _terms("m", [a.get("municipality") for a in addresses])
        | _terms("t", facts.get("target_groups") or [])
    )


def build_practice(
    practice_id: str,
    name: str,
    facts: dict[str, Any],
    offers: Sequence[tuple[str, dict[str, Any]]],
) -> Built:
    """A published practice's hit; `offers`: (profession, provider) of published providers."""
    blocks: dict[str, list[dict[str, Any]]] = {}
    languages: set[str] = set()
    for profession, provider in offers:
        blocks.setdefault(profession, []).append(
            {"fiche_id": provider["fiche_id"], "name": provider_display_name(provider)}
        )
        languages.update(provider["languages"])
    document: dict[str, Any] = {
        "type": PRACTICE,
        "id": practice_id,
        "name": name,
        **{key: facts.get(key, []) for key in _PRACTICE_FACTS},
        "offer_blocks": [
            {
                "profession": profession,
                "providers": sorted(people, key=lambda p: (normalized(p["name"]), p["fiche_id"])),
            }
            for profession, people in sorted(blocks.items())
        ],
    }
    terms = _terms("n", [w for n in facts.get("names") or [] for w in words(n.get("name"))])
    terms |= _terms("n", words(name))
    terms |= _terms("p", [*blocks, *(facts.get("extra_offer") or [])])
    terms |= _terms("l", languages) | _location_terms(facts)
    return Built(
        kind=PRACTICE,
        fiche_id=practice_id,
        sort_key=normalized(name)[:380],
        document=orjson.dumps(document).decode(),
        terms=frozenset(terms),
    )


# --- Querying ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFilters:
    """A validated public search (every value already normalised)."""

    name_words: tuple[str, ...] = ()
    profession: str | None = None
    postcode: str | None = None
    municipality: str | None = None
    target_group: str | None = None
    language: str | None = None
    kind: str | None = None
    exact_terms: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        pairs = (
            ("p", self.profession),
            ("pc", self.postcode),
            ("m", self.municipality),
            ("t", self.target_group),
            ("l", self.language),
        )
        object.__setattr__(
            self, "exact_terms", tuple(f"{p}:{v}" for p, v in pairs if v is not None)
        )


COUNT_CAP = 2_000
"""Matches counted per filter when choosing where a search starts (enough to tell rare
from common; counting further would cost more than it saves)."""


@dataclass(frozen=True)
class Condition:
    """One filter on the term index: a term (`pc:9000`) or a prefix range of name words."""

    low: str
    high: str | None = None

    @property
    def is_prefix(self) -> bool:
        return self.high is not None

    def on(self, terms: Any) -> sa.ColumnElement[bool]:
        if self.high is None:
            return terms.c.term == self.low
        return sa.and_(terms.c.term >= self.low, terms.c.term < self.high)


def conditions(filters: SearchFilters) -> list[Condition]:
    found = [Condition(term) for term in filters.exact_terms]
    found += [Condition(*prefix_range(f"n:{word}")) for word in filters.name_words]
    return found


def count_statement(filters: SearchFilters) -> sa.Select[Any]:
    """How many fiches each condition matches, each count stopped at COUNT_CAP."""
    counts = []
    for condition in conditions(filters):
        matching = sa.select(sa.literal(1)).where(condition.on(search_terms))
        if filters.kind is not None:
            matching = matching.where(search_terms.c.kind == filters.kind)
        counts.append(
            sa.select(sa.func.count())
            .select_from(matching.limit(COUNT_CAP).subquery())
            .scalar_subquery()
        )
    return sa.select(*counts)


def choose_driver(filters: SearchFilters, counts: Sequence[int] | None) -> int | None:
    """Which condition a search starts from (its index), or None to walk the name order.

    The rarest condition goes first: its fiches are read (an exact term: already in page
    order) and the others are probed per fiche, so the work is bounded by the rarest
    condition's size and, for an exact term, stops once a page is full. Walking the name
    order and probing is only for a search without filters: measured at 300,000
    providers, a common name prefix walked that way took 1.4 s, because names sharing a
    prefix sit together in the name order (`q=wij` scans everything up to W).
    """
    found = conditions(filters)
    if not found:
        return None
    if counts is None:
        return 0
    return min(range(len(found)), key=lambda i: (counts[i], found[i].is_prefix))


def needs_counts(filters: SearchFilters) -> bool:
    """A single exact term needs no counting: it is the start whatever its size."""
    found = conditions(filters)
    return len(found) > 1 or any(c.is_prefix for c in found)


def _on(terms: Any, number: int, is_prefix: bool) -> sa.ColumnElement[bool]:
    """Condition `number` of a statement shape, its values left as bind parameters."""
    if not is_prefix:
        return terms.c.term == sa.bindparam(f"low{number}")
    return sa.and_(
        terms.c.term >= sa.bindparam(f"low{number}"), terms.c.term < sa.bindparam(f"high{number}")
    )


def _probe(number: int, is_prefix: bool, kind: Any, fiche_id: Any) -> sa.Exists:
    terms = search_terms.alias(f"t{number}")
    return sa.exists().where(
        _on(terms, number, is_prefix), terms.c.kind == kind, terms.c.fiche_id == fiche_id
    )


@functools.lru_cache(maxsize=512)
def _statement_shape(
    prefixes: tuple[bool, ...], driver: int | None, with_kind: bool
) -> sa.Select[Any]:
    """The search statement for one combination of filters, built once per process.

    Only the shape (which conditions, which is the start, whether a kind is asked) makes
    the statement; the values are bind parameters. Building it per request (aliases,
    column collections) cost about a third of a search's CPU under load.
    """
    docs = search_documents
    limit, offset = (
        sa.bindparam("limit", type_=sa.Integer),
        sa.bindparam("offset", type_=sa.Integer),
    )
    if driver is None:
        walk = sa.select(docs.c.document)
        if with_kind:
            walk = walk.where(docs.c.kind == sa.bindparam("kind"))
        for number, is_prefix in enumerate(prefixes):
            walk = walk.where(_probe(number, is_prefix, docs.c.kind, docs.c.fiche_id))
        return (
            walk.order_by(docs.c.sort_key, docs.c.kind, docs.c.fiche_id).limit(limit).offset(offset)
        )
    start = search_terms.alias("start")
    page = sa.select(start.c.sort_key, start.c.kind, start.c.fiche_id).where(
        _on(start, driver, prefixes[driver])
    )
    if with_kind:
        page = page.where(start.c.kind == sa.bindparam("kind"))
    for number, is_prefix in enumerate(prefixes):
        if number != driver:
            page = page.where(_probe(number, is_prefix, start.c.kind, start.c.fiche_id))
    if prefixes[driver]:
        page = page.distinct()  # a name may have two words with the same prefix
    hits = (
        page.order_by(start.c.sort_key, start.c.kind, start.c.fiche_id)
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    return (
        sa.select(docs.c.document)
        .join_from(hits, docs, (docs.c.kind == hits.c.kind) & (docs.c.fiche_id == hits.c.fiche_id))
        .order_by(hits.c.sort_key, hits.c.kind, hits.c.fiche_id)
    )


def search_query(
    filters: SearchFilters, driver: int | None, *, limit: int, offset: int
) -> tuple[sa.Select[Any], dict[str, Any]]:
    """The statement for the filters' shape and the values to execute it with."""
    found = conditions(filters)
    values: dict[str, Any] = {"limit": limit, "offset": offset}
    if filters.kind is not None:
        values["kind"] = filters.kind
    for number, condition in enumerate(found):
        values[f"low{number}"] = condition.low
        if condition.high is not None:
            values[f"high{number}"] = condition.high
    shape = _statement_shape(tuple(c.is_prefix for c in found), driver, filters.kind is not None)
    return shape, values


def search_statement(
    filters: SearchFilters, driver: int | None, *, limit: int, offset: int
) -> sa.Select[Any]:
    """Published hits matching every filter, by name, then kind and id (a stable order),
    with the values bound (for EXPLAIN; searches execute `search_query`'s pair)."""
    statement, values = search_query(filters, driver, limit=limit, offset=offset)
    return statement.params(values)


class SelectivityCache:
    """Recent capped match counts per condition, so most searches skip the counting query.

    Counts only choose where a search starts: a stale one costs speed, never a wrong hit.
    """

    def __init__(self, size: int = 20_000, ttl_s: float = 300.0) -> None:
        self._size = size
        self._ttl_s = ttl_s
        self._counts: dict[tuple[str | None, Condition], tuple[float, int]] = {}

    def get(self, kind: str | None, condition: Condition) -> int | None:
        found = self._counts.get((kind, condition))
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, kind: str | None, condition: Condition, count: int) -> None:
        if len(self._counts) >= self._size:
            self._counts.clear()  # simple and bounded; refilled by the next searches
        self._counts[(kind, condition)] = (time.monotonic() + self._ttl_s, count)


async def run_search(
    connection: AsyncConnection,
    filters: SearchFilters,
    *,
    limit: int,
    offset: int,
    cache: SelectivityCache | None = None,
) -> list[str]:
    """The JSON documents of one page of hits."""
    counts: list[int] | None = None
    if needs_counts(filters):
        found = conditions(filters)
        cached = [cache.get(filters.kind, c) if cache else None for c in found]
        if all(count is not None for count in cached):
            counts = [int(count or 0) for count in cached]
        else:
            counts = list((await connection.execute(count_statement(filters))).one())
            if cache is not None:
                for condition, count in zip(found, counts, strict=True):
                    cache.put(filters.kind, condition, count)
    statement, values = search_query(
        filters, choose_driver(filters, counts), limit=limit, offset=offset
    )
    return list((await connection.execute(statement, values)).scalars())


# --- The subscription -------------------------------------------------------------------


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    items = sorted(set(values))
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class SearchProjection:
    """Handlers of fiches' public events that keep the search read model."""

    name = "search-projection"

    def subscription(self) -> Subscription:
        return Subscription(
            name=self.name,
            topics=(PROVIDERS_TOPIC, PRACTICES_TOPIC, OFFERS_TOPIC),
            handlers={
                ProviderFichePublished: self.provider_published,
                ProviderFicheUpdated: self.provider_published,
                ProviderFicheDepublished: self.provider_depublished,
                PracticeFichePublished: self.practice_published,
                PracticeFicheUpdated: self.practice_published,
                PracticeFicheDepublished: self.practice_depublished,
                OfferLinked: self.offer_linked,
                OfferUnlinked: self.offer_unlinked,
            },
            description="fiches' own published fiches and offers -> the public search model",
            after_batch=self.after_batch,
        )

    async def apply(self, session: AsyncSession, events: Sequence[Event]) -> None:
        """Apply events as one consumed batch would (tools and tests)."""
        handlers = self.subscription().handlers
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
                facts=event.model_dump(mode="json", include=set(_PRACTICE_FACTS)),
                updated_at=event.occurred_at,
            )
        )

    async def practice_depublished(
        self, session: AsyncSession, event: PracticeFicheDepublished
    ) -> None:
        await session.execute(
            sa.update(search_practices)
            .where(search_practices.c.practice_id == event.practice_id)
            .values(published=False, updated_at=event.occurred_at)
        )

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
        """Replace the hits and terms of these fiches with what their facts say now."""
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
