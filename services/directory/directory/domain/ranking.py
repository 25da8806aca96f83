"""Which filters a search has, and where its query starts: the rarest filter first."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from directory.domain.text import prefix_is_stored, prefix_range


@dataclass(frozen=True)
class SearchFilters:
    """A validated public search (every value already normalised)."""

    name_words: tuple[str, ...] = ()
    profession: str | None = None
    qualification: str | None = None
    postcode: str | None = None
    municipality: str | None = None
    target_group: str | None = None
    language: str | None = None
    kind: str | None = None
    exact_terms: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        pairs = (
            ("p", self.profession),
            ("q", self.qualification),
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
    stored: bool = False
    """A name prefix of 3 to 7 characters: `low` is also a row of `search_prefixes`."""

    @property
    def is_prefix(self) -> bool:
        return self.high is not None


def conditions(filters: SearchFilters) -> list[Condition]:
    found = [Condition(term) for term in filters.exact_terms]
    found += [
        Condition(*prefix_range(f"n:{word}"), stored=prefix_is_stored(word))
        for word in filters.name_words
    ]
    return found


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
