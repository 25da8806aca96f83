"""Pulling the source's delta feed: page by page from the stored cursor, each page atomic.

For every page, one transaction holds the new state of the people it changes, their
outbox events and the new cursor. So the cursor only moves past changes that are
committed: a crash or a failed page leaves it after the last complete page, and the next
pull asks for the failed page again. Applying a change twice publishes nothing the second
time (its version is no longer newer than what is stored), which is what makes a re-pull
safe.

Invalid changes: strict mode (the default) refuses the page they are in, so the cursor
stays before it and the feed is stuck there until the source corrects it or someone pulls
leniently; lenient mode applies the page's valid changes and records the invalid ones in
the run's errors.

Two pullers of the same feed (two replicas, or `skaart registry pull` beside the running
service) do not apply a page twice: the cursor is moved first in the page's transaction,
and only from the cursor the page was asked for (compare and set). The second one finds
the cursor moved, drops its copy of the page and continues from the stored cursor.

Metrics: `skaart_registry_feed_lag_seconds` is 0 once a pull has reached the end of the
feed (`has_more` false); while a pull is still catching up, after each page, it is the age
of the newest `version` in that page, an estimate of how far behind the source the platform
is. An unreachable feed does not move it: watch the age of
`skaart_registry_last_successful_sync_timestamp_seconds{kind="feed"}` for that.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from registry_sync import metrics
from registry_sync.adapters import tables
from registry_sync.adapters.delta_feed import (
    ChangeError,
    DeltaFeedClient,
    FeedError,
    FeedInvalid,
    FeedPage,
    describe_cursor,
)
from registry_sync.config import RegistrySyncSettings
from registry_sync.domain.pseudonyms import NrnHasher
from registry_sync.domain.source_record import SourceProfessional
from registry_sync.handlers.apply_records import apply_records
from registry_sync.handlers.sync_runs import finish_run, start_run
from registry_sync.handlers.sync_summary import ImportSummary
from servicekit.messaging.outbox import Outbox

__all__ = [
    "PageRejected",
    "PullResult",
    "feed_client",
    "load_cursor",
    "poll_forever",
    "pull_changes",
]

log = logging.getLogger(__name__)

#: Longest wait between two polls after repeated failures.
MAX_POLL_BACKOFF_S = 300.0


class PageRejected(FeedError):
    """Strict mode: a page holds invalid changes; it was not applied, the cursor stays."""

    def __init__(
        self, feed_url: str, page: FeedPage, errors: list[ChangeError], max_errors: int
    ) -> None:
        self.page = page
        self.errors = errors
        shown = "\n".join(f"  {error}" for error in errors[:max_errors])
        more = len(errors) - max_errors
        super().__init__(
            f"Delta feed {feed_url}: {page.invalid} invalid change(s) in the page after "
            f"cursor {describe_cursor(page.since)}; that page was not applied and the cursor "
            "stays before it (earlier pages are applied).\n"
            + shown
            + (f"\n  … and {more} more problem(s)" if more > 0 else "")
            + "\nAsk the source's operators to correct these changes, or pull with --lenient "
            "(REGISTRY_SYNC_FEED_LENIENT=true) to skip them; skipped changes are listed in "
            "the run's errors."
        )


@dataclass
class PullResult:
    """What one pull did."""

    summary: ImportSummary
    pages: int
    """Pages applied."""
    cursor: str | None
    """Where the feed is read up to now (None: nothing read yet)."""
    recorded: bool
    """Whether a sync run was recorded: a pull that finds nothing new records none."""


def feed_client(
    settings: RegistrySyncSettings,
    url: str | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> DeltaFeedClient:
    """A client of `url` (default: the configured feed) with the configured limits."""
    base = url or settings.feed_url
    if not base:
        raise ValueError(
            "no delta feed URL: set REGISTRY_SYNC_FEED_URL (or pass --url) to the base URL of "
            "the source's feed, without /changes"
        )
    return DeltaFeedClient(
        base,
        timeout_s=settings.feed_timeout_s,
        max_attempts=settings.feed_max_attempts,
        transport=transport,
    )


async def load_cursor(sessions: async_sessionmaker[AsyncSession], feed_url: str) -> str | None:
    """The stored cursor of a feed; None when it was never read."""
    table = tables.feed_cursors
    async with sessions() as session:
        cursor = await session.scalar(sa.select(table.c.cursor).where(table.c.feed_url == feed_url))
        return str(cursor) if cursor is not None else None


async def _move_cursor(
    connection: AsyncConnection, feed_url: str, expected: str | None, new: str
) -> bool:
    """Move the cursor from `expected` to `new`; False if someone else moved it first."""
    table = tables.feed_cursors
    now = datetime.now(UTC)
    if expected is None:
        # First page ever: a concurrent first pull makes this insert fail on the primary
        # key, failing that pull (and its page) as a whole; its next poll starts from here.
        await connection.execute(
            sa.insert(table).values(feed_url=feed_url, cursor=new, updated_at=now)
        )
        return True
    result = await connection.execute(
        sa.update(table)
        .where(table.c.feed_url == feed_url, table.c.cursor == expected)
        .values(cursor=new, updated_at=now)
    )
    return result.rowcount == 1


def _distinct_people(records: Iterable[SourceProfessional]) -> Iterator[list[SourceProfessional]]:
    # A page may change one person twice; apply_records reads the stored state once per
    # call, so each call gets a person at most once, in feed order, and every change
    # (a stop, then a comeback) still publishes its own events.
    batch: list[SourceProfessional] = []
    seen: set[str] = set()
    for record in records:
        if record.ssin in seen:
            yield batch
            batch, seen = [], set()
        batch.append(record)
        seen.add(record.ssin)
    if batch:
        yield batch


async def _apply_page(
    page: FeedPage,
    *,
    feed_url: str,
    sessions: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    hasher: NrnHasher,
    summary: ImportSummary,
) -> bool:
    """Apply one page and move the cursor past it, in one transaction.

    False (nothing applied) when the stored cursor is no longer the one the page was
    asked for: another puller applied it.
    """
    async with sessions() as session, session.begin():
        # The cursor first: on PostgreSQL the row lock makes a concurrent puller of the same
        # page wait here, then find the cursor moved; SQLite has a single writer anyway.
        if not await _move_cursor(
            await session.connection(), feed_url, page.since, page.next_cursor
        ):
            return False
        for batch in _distinct_people(page.records):
            await apply_records(session, batch, hasher=hasher, outbox=outbox, summary=summary)
    outbox.notify_committed()
    return True


def _set_lag(page: FeedPage) -> None:
    if not page.has_more:
        metrics.FEED_LAG.set(0)
        return
    if page.records:
        newest = max(record.version for record in page.records)
        metrics.FEED_LAG.set(max(0.0, (datetime.now(UTC) - newest).total_seconds()))


@dataclass
class _PagePuller:
    """One pull's pages, applied one after the other (see `pull_changes`)."""

    client: DeltaFeedClient
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    hasher: NrnHasher
    summary: ImportSummary
    lenient: bool
    max_errors: int
    cursor: str | None
    pages: int = 0

    async def apply(self, page: FeedPage) -> None:
        """Apply one page and move on from its cursor (or from the one another puller set)."""
        feed_url = self.client.feed_url
        summary = self.summary
        if page.has_more and page.size == 0 and page.next_cursor == page.since:
            raise FeedInvalid(
                f"Delta feed {feed_url}: the page after cursor {describe_cursor(page.since)}"
                " is empty and says has_more without moving the cursor, so pulling on would "
                "never end. Report this to the source's operators; nothing was applied."
            )
        if page.invalid and not self.lenient:
            # Recorded with the failed run, change by change, like a refused file.
            summary.rejected += page.invalid
            summary.rejected_lines.extend(page.errors[: self.max_errors])
            raise PageRejected(feed_url, page, list(page.errors), self.max_errors)
        if await _apply_page(
            page,
            feed_url=feed_url,
            sessions=self.sessions,
            outbox=self.outbox,
            hasher=self.hasher,
            summary=summary,
        ):
            # An empty last page (nothing after the cursor) is not a page applied:
            # a puller that arrives after another one finished would count it.
            self.pages += 1 if page.size else 0
            self.cursor = page.next_cursor
            summary.lines += page.size
            summary.rejected += page.invalid
            room = max(0, self.max_errors - len(summary.rejected_lines))
            summary.rejected_lines.extend(page.errors[:room])
            _set_lag(page)
        else:
            self.cursor = await load_cursor(self.sessions, feed_url)
            summary.notes.append(
                f"the page after cursor {describe_cursor(page.since)} was applied by another "
                "puller meanwhile; continued from the cursor it stored"
            )
            log.info("delta feed %s: another puller moved the cursor; following", feed_url)


async def pull_changes(
    client: DeltaFeedClient,
    *,
    sessions: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    hasher: NrnHasher,
    page_size: int = 500,
    lenient: bool = False,
    max_errors: int = 20,
) -> PullResult:
    """Pull every change after the stored cursor, page by page, until the feed has no more.

    Raises FeedError subclasses: FeedUnavailable, FeedRefused, FeedInvalid (from the
    client) and PageRejected (strict mode, invalid changes). Pages before the failing one
    stay applied; the run is recorded as failed.
    """
    feed_url = client.feed_url
    summary = ImportSummary(run_id=str(uuid.uuid4()), source=feed_url)
    started = datetime.now(UTC)
    cursor = await load_cursor(sessions, feed_url)
    try:
        page = await client.fetch_page(cursor, page_size)
    except Exception as error:
        # A feed that cannot be read is worth a run record: that is where operators look.
        await start_run(sessions, summary, started)
        await finish_run(sessions, summary, status="failed", error=error)
        raise
    nothing_new = page.size == 0 and not page.has_more
    if nothing_new and (cursor is None or page.next_cursor == cursor):
        # Caught up: not worth a run record every few seconds, but it is a successful sync.
        metrics.FEED_LAG.set(0)
        metrics.LAST_SUCCESSFUL_SYNC.labels("feed").set(datetime.now(UTC).timestamp())
        return PullResult(summary, pages=0, cursor=cursor, recorded=False)
    await start_run(sessions, summary, started)
    puller = _PagePuller(client, sessions, outbox, hasher, summary, lenient, max_errors, cursor)
    try:
        while True:
            await puller.apply(page)
            if not page.has_more:
                break
            page = await client.fetch_page(puller.cursor, page_size)
    except BaseException as error:
        await finish_run(sessions, summary, status="failed", error=error)
        raise
    await finish_run(sessions, summary, status="succeeded")
    return PullResult(summary, pages=puller.pages, cursor=puller.cursor, recorded=True)


async def poll_forever(
    settings: RegistrySyncSettings,
    *,
    sessions: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    hasher: NrnHasher,
    client: DeltaFeedClient | None = None,
) -> None:
    """Pull the configured feed every `feed_poll_interval_s` until cancelled.

    The loop owns `client` (default: one for the configured feed) and closes it when it
    stops, so a service that stops leaves no connection to the source open.

    A failed pull is logged and the next one waits longer (doubling, at most
    MAX_POLL_BACKOFF_S): the service keeps running while the source is away, and picks up
    where the cursor stands once it is back.
    """
    interval = settings.feed_poll_interval_s
    feed = client or feed_client(settings)
    failures = 0
    try:
        # The first pull waits one interval: the service (and, in monolithic mode, the
        # simulated source on the same HTTP port) finishes starting first.
        await asyncio.sleep(interval)
        while True:
            try:
                result = await pull_changes(
                    feed,
                    sessions=sessions,
                    outbox=outbox,
                    hasher=hasher,
                    page_size=settings.feed_page_size,
                    lenient=settings.feed_lenient,
                    max_errors=settings.max_reported_errors,
                )
            except Exception as error:
                failures += 1
                # The exponent is capped: after days of failures 2**n would overflow a float.
                delay = min(interval * 2 ** min(failures, 16), max(MAX_POLL_BACKOFF_S, interval))
                _log_failed_pull(feed.feed_url, error, failures, delay)
            else:
                failures = 0
                delay = interval
                if result.recorded:
                    _log_pull(feed.feed_url, result)
            await asyncio.sleep(delay)
    finally:
        await feed.aclose()


def _log_failed_pull(feed_url: str, error: Exception, failures: int, delay: float) -> None:
    # FeedError messages are written for this log; anything else (a database error) gets
    # its traceback. Neither carries a national register number.
    log.error(
        "delta feed pull failed (%d in a row); next attempt in %.0fs: %s",
        failures,
        delay,
        error if isinstance(error, FeedError) else f"{type(error).__name__}: {error}",
        exc_info=not isinstance(error, FeedError),
        extra={"feed": feed_url},
    )


def _log_pull(feed_url: str, result: PullResult) -> None:
    summary = result.summary
    log.info(
        "delta feed pull: %d change(s) in %d page(s), %d registered, "
        "%d updated, %d removed, %d rejected, %d event(s) queued",
        summary.lines,
        result.pages,
        summary.registered,
        summary.updated,
        summary.removed,
        summary.rejected,
        summary.events_published,
        extra={"feed": feed_url, "run_id": summary.run_id},
    )
