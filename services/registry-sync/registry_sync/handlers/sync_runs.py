"""Recording sync runs: what each import or pull did, for the operator."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from registry_sync import metrics
from registry_sync.adapters import tables
from registry_sync.handlers.sync_summary import ImportSummary


async def start_run(
    sessions: async_sessionmaker[AsyncSession], summary: ImportSummary, started: datetime
) -> None:
    """Record a run as running."""
    async with sessions() as session, session.begin():
        await session.execute(
            sa.insert(tables.sync_runs).values(
                run_id=summary.run_id,
                source=summary.source,
                status="running",
                started_at=started,
                counts={},
                errors=[],
            )
        )


async def record_refused_run(
    sessions: async_sessionmaker[AsyncSession],
    summary: ImportSummary,
    started: datetime,
    refusal: BaseException,
) -> None:
    """Record a run refused before anything was applied, with why and its errors."""
    async with sessions() as session, session.begin():
        await session.execute(
            sa.insert(tables.sync_runs).values(
                run_id=summary.run_id,
                source=summary.source[:500],
                status="refused",
                started_at=started,
                finished_at=datetime.now(UTC),
                counts=summary.counts(),
                errors=summary.errors(),
                error=f"{type(refusal).__name__}: {refusal}"[:2000],
            )
        )


async def finish_run(
    sessions: async_sessionmaker[AsyncSession],
    summary: ImportSummary,
    *,
    status: str,
    error: BaseException | None = None,
) -> None:
    """Record how a run ended, its counts and its errors."""
    runs = tables.sync_runs
    finished = datetime.now(UTC)
    async with sessions() as session, session.begin():
        await session.execute(
            sa.update(runs)
            .where(runs.c.run_id == summary.run_id)
            .values(
                status=status,
                finished_at=finished,
                counts=summary.counts(),
                errors=summary.errors(),
                error=f"{type(error).__name__}: {error}"[:2000] if error else None,
            )
        )
    if status == "succeeded":
        metrics.LAST_SUCCESSFUL_SYNC.labels(_source_kind(summary.source)).set(finished.timestamp())


def _source_kind(source: str) -> str:
    return "feed" if source.startswith(("http://", "https://")) else "file"
