"""A cache of the public read answers, invalidated by the projection.

Every answer of the public reads (search, FHIR, HSDS) is a function of the read model,
which only the projection changes. So an answer stays right until the projection commits
its next batch: answers are kept per request URL with the *generation* of the read model
they were computed at, and served while that generation is current.

The generation is two numbers. `projection_committed()` is called by the projection of
this process when its transaction commits, so a read after a write in the same process is
never stale. The database row `projection_generation` is raised by every projection's
batch, whichever replica runs it; each replica reads it at most every `poll_s` (one
request pays one tiny query), so a change made elsewhere is seen within `poll_s`.

Stale while revalidating: when the generation moved, the first request for a URL computes
the answer again; requests for the same URL that arrive meanwhile get the previous answer
if it is younger than `max_stale_s`, else wait for the one being computed (no stampede).
A depublished provider therefore leaves every answer within `poll_s + max_stale_s` plus
one computation (well under the second the directory promises).

An in-process LRU rather than a shared cache (Redis): a hit costs no network round trip,
which is the point at 50 connections on two cores, and the generation check keeps
replicas consistent without one; each replica warms its own cache.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import sqlalchemy as sa
from starlette.responses import Response, StreamingResponse

from directory.adapters.read_engine import Reads
from directory.adapters.tables import projection_generation

log = logging.getLogger(__name__)

_committed_here = 0


def projection_committed() -> None:
    """The projection of this process committed a batch: every cached answer is old."""
    global _committed_here
    _committed_here += 1


Generation = tuple[int, int]


@dataclass(frozen=True)
class CachedAnswer:
    generation: Generation
    computed_at: float
    status_code: int
    media_type: str | None
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    """What the endpoint said beside its body (a FHIR read's ETag and Last-Modified)."""

    def response(self) -> Response:
        return Response(
            self.body,
            status_code=self.status_code,
            media_type=self.media_type,
            headers=dict(self.headers) if self.headers else None,
        )


_BODY_HEADERS = frozenset({"content-length", "content-type"})


def _cacheable(response: Response) -> bool:
    return response.status_code == 200 and not isinstance(response, StreamingResponse)


class ResponseCache:
    """Answers by request URL, at most `entries` of them and `max_bytes` in all."""

    def __init__(
        self,
        engine: Reads,
        *,
        entries: int,
        max_bytes: int,
        poll_s: float = 0.25,
        max_stale_s: float = 0.5,
    ) -> None:
        self.engine = engine
        self.entries = entries
        self.max_bytes = max_bytes
        self.poll_s = poll_s
        self.max_stale_s = max_stale_s
        self._answers: OrderedDict[str, CachedAnswer] = OrderedDict()
        self._bytes = 0
        self._computing: dict[str, asyncio.Future[CachedAnswer | None]] = {}
        self._database_generation = 0
        self._polled_at = float("-inf")
        self._polling = False
        self.hits = self.stale_hits = self.misses = 0

    async def generation(self) -> Generation:
        """The read model's generation as this replica knows it (polled every poll_s)."""
        if not self._polling and time.monotonic() - self._polled_at >= self.poll_s:
            self._polling = True
            try:
                async with self.engine.connect() as connection:
                    found = await connection.scalar(
                        sa.select(projection_generation.c.generation).where(
                            projection_generation.c.id == 1
                        )
                    )
                self._database_generation = int(found or 0)
            except (sa.exc.SQLAlchemyError, OSError):
                # Answers are then computed afresh below; the next request polls again.
                log.warning("the projection's generation could not be read", exc_info=True)
                self._database_generation = -1 - abs(self._database_generation)
            finally:
                self._polling = False
                self._polled_at = time.monotonic()
        return (_committed_here, self._database_generation)

    async def respond(self, key: str, compute: Callable[[], Awaitable[Response]]) -> Response:
        """The cached answer for `key` while current, else `compute()`'s (kept if a 200)."""
        generation = await self.generation()
        cached = self._answers.get(key)
        if cached is not None and cached.generation == generation:
            self._answers.move_to_end(key)
            self.hits += 1
            return cached.response()
        pending = self._computing.get(key)
        if pending is not None:
            if cached is not None and time.monotonic() - cached.computed_at < self.max_stale_s:
                self.stale_hits += 1
                return cached.response()
            answer = await asyncio.shield(pending)
            if answer is not None:
                self.hits += 1
                return answer.response()
        return await self._compute(key, generation, compute)

    async def _compute(
        self, key: str, generation: Generation, compute: Callable[[], Awaitable[Response]]
    ) -> Response:
        self.misses += 1
        pending: asyncio.Future[CachedAnswer | None] = asyncio.get_running_loop().create_future()
        self._computing[key] = pending
        answer: CachedAnswer | None = None
        try:
            response = await compute()
            if _cacheable(response):
                answer = CachedAnswer(
                    generation,
                    time.monotonic(),
                    response.status_code,
                    response.media_type,
                    bytes(response.body),
                    tuple(
                        (name, value)
                        for name, value in response.headers.items()
                        if name not in _BODY_HEADERS
                    ),
                )
                self._keep(key, answer)
            return response
        finally:
            pending.set_result(answer)
            if self._computing.get(key) is pending:
                del self._computing[key]

    def _keep(self, key: str, answer: CachedAnswer) -> None:
        if len(answer.body) > self.max_bytes // 16:
            return  # one huge page must not evict everything else
        old = self._answers.pop(key, None)
        if old is not None:
            self._bytes -= len(old.body)
        self._answers[key] = answer
        self._bytes += len(answer.body)
        while self._answers and (len(self._answers) > self.entries or self._bytes > self.max_bytes):
            _, evicted = self._answers.popitem(last=False)
            self._bytes -= len(evicted.body)
