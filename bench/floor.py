"""The floor of a public read on this machine: the same SQL, on a raw driver, in the same server.

For the benchmarks only (bench/directory.py, bench/fiches_search.py); nothing here is part
of the service.

1. `record` runs every distinct question of a benchmark's mix once through the directory
   app in this process (response cache off) and notes, per question, the SQL statements
   and parameters the endpoint sent to PostgreSQL: those SQLAlchemy's asyncpg dialect
   handed to the driver, and those the service runs on asyncpg directly
   (`directory.adapters.driver_rows`, noted at `asyncpg.Connection.fetch`). Before the
   latter were noted (the recordings of 2026-11-29 12:40-16:00), the floor of a question
   answered by the driver alone ran no statement at all.
2. The benchmark's server mounts `GET /bench/floor/<the question's path and query>`
   (`mount`, from load_runner when SKAART_BENCH_FLOOR names the recording): it runs that
   question's statements in order on a raw asyncpg pool (sized and configured as the read
   engine: autocommit, its session settings `READ_SESSION_SETTINGS`: read-only, generic
   plans kept since 2026-12-01 late afternoon, custom before), and answers with the stored JSON
   texts of the last statement's rows, joined: no SQLAlchemy, no parameter parsing, no
   response building.

So the floor row is what a request costs when everything the service adds around its
queries is taken away, measured under the same connections with the same questions.
"""

from __future__ import annotations

import asyncio
import contextvars
import pickle
from pathlib import Path
from typing import Any

PREFIX = "/bench/floor"

Recording = dict[str, list[tuple[str, tuple[Any, ...]]]]

_current: contextvars.ContextVar[list[tuple[str, tuple[Any, ...]]] | None] = contextvars.ContextVar(
    "floor_recording", default=None
)


def _note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
    found = _current.get()
    if found is not None:
        found.append((statement, tuple(parameters or ())))


def _noting_fetch(fetch: Any) -> Any:
    async def noted(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        _note(None, None, query, args)
        return await fetch(self, query, *args, **kwargs)

    return noted


async def record(url: str, paths: list[str], *, passes: int = 1, workers: int = 4) -> Recording:
    """Per distinct path, the statements its endpoint ran (on its last of `passes` runs:
    the search's second run skips the selectivity counts, as a warm server does)."""
    import httpx
    import sqlalchemy as sa
    from load_runner import build_app

    app = build_app(url, response_cache_entries=0)
    distinct = list(dict.fromkeys(paths))
    recording: Recording = {}
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", _note)
    import asyncpg

    driver_fetch = asyncpg.Connection.fetch
    asyncpg.Connection.fetch = _noting_fetch(driver_fetch)
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in distinct:
        queue.put_nowait(path)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def worker() -> None:
                while not queue.empty():
                    path = queue.get_nowait()
                    for _ in range(passes):
                        statements: list[tuple[str, tuple[Any, ...]]] = []
                        token = _current.set(statements)
                        try:
                            response = await client.get(path)
                        finally:
                            _current.reset(token)
                        if response.status_code != 200:
                            raise RuntimeError(f"{path}: HTTP {response.status_code}")
                        if not statements:
                            raise RuntimeError(f"{path}: no statement noted")
                    recording[path] = statements

            await asyncio.gather(*(worker() for _ in range(workers)))
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", _note)
        asyncpg.Connection.fetch = driver_fetch
        await app.state.component.runtime.stop()  # its connections: PostgreSQL has few
    return recording


def save(recording: Recording, folder: Path) -> Path:
    target = folder / "floor.pickle"
    target.write_bytes(pickle.dumps(recording))
    return target


def floor_paths(paths: list[str]) -> list[str]:
    """The same questions, asked of the floor endpoint."""
    return [PREFIX + path for path in paths]


async def _as_it_is(_connection: Any) -> None:
    return None


def mount(app: Any, url: str, recording_file: str, *, pool_size: int = 10) -> None:
    """GET /bench/floor/...: the recorded statements of that question, on raw asyncpg."""
    import asyncpg
    from starlette.requests import Request
    from starlette.responses import Response

    from directory.adapters.read_engine import READ_SESSION_SETTINGS

    # The file this benchmark run wrote itself (`save`).
    recording: Recording = pickle.loads(Path(recording_file).read_bytes())  # noqa: S301
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    pools: list[asyncpg.Pool] = []

    async def pool() -> asyncpg.Pool:
        if not pools:
            pools.append(
                await asyncpg.create_pool(
                    dsn,
                    min_size=1,
                    max_size=2 * pool_size,
                    server_settings=dict(READ_SESSION_SETTINGS),
                    # As the read engine's pool: a connection goes back as it is. asyncpg's
                    # default reset (UNLISTEN, RESET ALL, ...) is one more round trip.
                    reset=_as_it_is,
                )
            )
        return pools[0]

    async def floor(request: Request) -> Response:
        question = request.url.path[len(PREFIX) :] + "?" + request.url.query
        statements = recording[question]
        rows: list[Any] = []
        async with (await pool()).acquire() as connection:
            for sql, parameters in statements:
                rows = await connection.fetch(sql, *parameters)
        texts = [
            value
            for row in rows
            for key, value in row.items()
            if key in ("content", "document") and isinstance(value, str)
        ]
        return Response(("[" + ",".join(texts) + "]").encode(), media_type="application/json")

    app.add_route(PREFIX + "/{rest:path}", floor, methods=["GET"])
