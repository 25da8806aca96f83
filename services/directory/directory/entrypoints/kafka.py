"""The directory's consumer group on the three public topics, as an agency would read them."""

from __future__ import annotations

from contracts.events.fiches import (
    OFFERS_TOPIC,
    PRACTICES_TOPIC,
    PROVIDERS_TOPIC,
    PracticeFicheDepublished,
    ProviderFicheDepublished,
)
from directory.handlers.projection import DirectoryProjection
from servicekit.messaging.inbox import READ_AHEAD_BATCH_SIZE, Subscription, kept_apart

PUBLIC_TOPICS = (PROVIDERS_TOPIC, PRACTICES_TOPIC, OFFERS_TOPIC)

BATCH_SIZE = 2_000
"""Most records per batch: a catching-up directory records facts in few transactions."""

DEFER_FROM = BATCH_SIZE // 2
"""A batch at least half full means the consumer is behind (a live directory gets a few
events per poll): its fiches are rebuilt once the backlog is applied (`projection_pending`)."""


REBUILD_CHUNK = 2_000
"""Most waiting fiches a caught-up projection rebuilds in one transaction (the rest in the
next ones): the read-ahead group's depublications get in between."""

REBUILD_SECONDS = 0.5
"""Aimed-at duration of one of those transactions: the chunk is sized by the time the last
one took (handlers/rebuild_chunks.py), so a depublication read ahead waits about this long
at most for the rebuild, on a fast machine or a loaded one. A fixed 2,000 held the read
model for up to 10 s on a loaded 2-core machine (bench/depublication_end_to_end.py: 11.6 s
from the registry's stop to the directory); a fixed 200 cost a sixth of a catch-up of
100,000 events once a fiche took 0.6 ms to rebuild (bench/directory.py)."""


def projection_subscription(projection: DirectoryProjection) -> Subscription:
    """Group `directory.projection`: the public topics -> the directory's read model."""
    return Subscription(
        name="projection",
        topics=PUBLIC_TOPICS,
        handlers=projection.handlers(),
        description="fiches' public topics (published fiches and offers) -> the public "
        "directory: search, FHIR, HSDS",
        after_batch=projection.after_batch,
        batch_size=BATCH_SIZE,
    )


def depublications_subscription(projection: DirectoryProjection) -> Subscription:
    """Group `directory.depublications`: depublications read ahead of their turn.

    After a national import the in-order group has hundreds of thousands of publications
    to apply; a depublication queued behind them would keep a provider who may no longer
    practise on the map for minutes. This group skips every other record by its type
    header (no decoding), so it stays at the head of the topics, and applies a
    depublication as the in-order group would (the fiche leaves search, FHIR and HSDS).
    The in-order group applies it again in its turn, and skips the versions queued before
    it (`facts._older_than_shown`).
    """
    return Subscription(
        name="depublications",
        topics=(PROVIDERS_TOPIC, PRACTICES_TOPIC),
        handlers={
            event_type: handler
            for event_type, handler in projection.handlers().items()
            if event_type in (ProviderFicheDepublished, PracticeFicheDepublished)
        },
        description="Takes depublished fiches off the directory ahead of queued publications.",
        # At once, never deferred, and leaving the catch-up's waiting fiches to it.
        after_batch=projection.after_read_ahead_batch,
        # A record it cannot apply is the in-order group's to park: one dead letter each.
        parks_failures=False,
        # Most records are skipped unread: large batches keep it ahead, also when it
        # takes turns with the in-order group (SQLite).
        batch_size=READ_AHEAD_BATCH_SIZE,
    )


def subscriptions(projection: DirectoryProjection, database_url: str) -> list[Subscription]:
    """The directory's consumer groups. Both change the same rows: kept apart by
    PostgreSQL's row locks, or, on SQLite, by taking turns (`kept_apart`)."""
    return kept_apart(
        database_url, projection_subscription(projection), depublications_subscription(projection)
    )
