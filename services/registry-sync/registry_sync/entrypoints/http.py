"""registry-sync's HTTP API for operators: the sync runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from registry_sync.adapters import tables
from servicekit.inputs import Limit
from servicekit.runtime import ServiceRuntime


class SyncRunRead(BaseModel):
    """One import or pull of the authentic source."""

    run_id: str
    source: str = Field(description="File path or feed URL.")
    status: str = Field(
        description="running, succeeded, failed, or refused (nothing applied: see errors)."
    )
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, Any]
    error: str | None = Field(description="Why the run failed, if it did.")
    errors: list[str] = Field(
        description="Rejected lines (lenient runs), refused lines (refused runs) and notes."
    )


def runs_router(runtime: ServiceRuntime) -> APIRouter:
    """`GET /api/registry-sync/runs` and `/runs/{run_id}`."""
    router = APIRouter(prefix="/api/registry-sync", tags=["registry-sync"])
    runs = tables.sync_runs

    @router.get("/runs", summary="Recent sync runs, newest first")
    async def list_runs(limit: Limit = 20) -> list[SyncRunRead]:
        async with runtime.sessions() as session:
            rows = await session.execute(
                sa.select(runs).order_by(runs.c.started_at.desc()).limit(min(limit, 200))
            )
            return [SyncRunRead.model_validate(row._mapping) for row in rows]

    @router.get("/runs/{run_id}", summary="One sync run")
    async def get_run(run_id: str) -> SyncRunRead:
        async with runtime.sessions() as session:
            row = (await session.execute(sa.select(runs).where(runs.c.run_id == run_id))).first()
        if row is None:
            raise HTTPException(
                404, f"no sync run with id {run_id}; list runs at /api/registry-sync/runs"
            )
        return SyncRunRead.model_validate(row._mapping)

    return router
