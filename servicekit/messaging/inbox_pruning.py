"""Keeping the inbox small: its rows are needed only until the offsets moved past them.

An inbox row protects against one redelivery: the process died between the batch's
database commit and its offset commit, and the broker hands the batch out again from
the committed offset. A batch starts at the committed offset of each of its partitions
(the subscriber commits after each batch), so a row below that offset can never be
redelivered by the broker. Rows are kept a while longer all the same (`min_age_s`), so
an operator who rewinds a consumer group by a little still finds them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboxPruning:
    """How often the inbox is pruned, and how old a row must be to go."""

    interval_s: float = 300.0
    min_age_s: float = 3600.0


class InboxPruner:
    """Deletes one consumer's inbox rows below the committed offsets, now and then."""

    def __init__(
        self,
        consumer: str,
        sessions: async_sessionmaker[AsyncSession],
        inbox_table: sa.Table,
        pruning: InboxPruning,
    ) -> None:
        self._consumer = consumer
        self._sessions = sessions
        self._inbox = inbox_table
        self._pruning = pruning
        self._next_at = time.monotonic() + pruning.interval_s

    async def after_batch(self, records: Sequence[Any]) -> int:
        """Prune if it is time; the batch's first offsets are the committed ones.

        Returns the number of rows deleted. A failure is logged, never raised: a
        larger inbox is no reason to stop consuming.
        """
        if time.monotonic() < self._next_at or not records:
            return 0
        self._next_at = time.monotonic() + self._pruning.interval_s
        committed: dict[tuple[str, int], int] = {}
        for record in records:
            place = (record.topic, record.partition)
            committed[place] = min(committed.get(place, record.offset), record.offset)
        try:
            return await self._delete_below(committed)
        except Exception:
            log.warning("inbox pruning failed", exc_info=True, extra={"consumer": self._consumer})
            return 0

    async def _delete_below(self, committed: dict[tuple[str, int], int]) -> int:
        inbox = self._inbox
        cutoff = datetime.now(UTC) - timedelta(seconds=self._pruning.min_age_s)
        deleted = 0
        async with self._sessions() as session, session.begin():
            for (topic, partition), offset in committed.items():
                result = await session.execute(
                    sa.delete(inbox).where(
                        inbox.c.consumer == self._consumer,
                        inbox.c.topic == topic,
                        inbox.c.partition == partition,
                        inbox.c.offset < offset,
                        inbox.c.processed_at < cutoff,
                    )
                )
                deleted += result.rowcount or 0  # type: ignore[attr-defined]
        return deleted
