"""Redis for revoked sessions and rate limits, or an in-process stand-in in development.

The Redis stores are given their client (built by `servicekit.redis_client`, in the
composition root) and close it when they close. Rate limits are counted by
`servicekit.rate_limits` (the same fixed windows as every service's), over the store's
client or in the process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from servicekit.auth import LOGGED_OUT_MARK, SessionEnded, revoked_session_key
from servicekit.rate_limits import Allowance, Exceeded, InProcessRateLimiter, RedisRateLimiter

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)
T = TypeVar("T")


class KeyValueStore(Protocol):
    """The few Redis operations identity needs."""

    async def revoke_session(
        self, session_id: str, ttl_s: int, reason: SessionEnded | None = None
    ) -> None:
        """Mark a session logged out (or ended for `reason`) for `ttl_s` seconds (the
        verifiers' key)."""

    async def is_session_revoked(self, session_id: str) -> bool:
        """Whether the session was logged out or ended."""

    async def session_ended(self, session_id: str) -> SessionEnded | None:
        """Why the session was revoked (a logout reads as `logged_out`); None if it was not."""

    async def consume(self, allowances: Sequence[Allowance], amount: int) -> Exceeded | None:
        """Count `amount` against every allowance, or none and say which refused
        (`servicekit.rate_limits.RateLimiter`)."""

    async def put(self, key: str, value: str, ttl_s: int) -> None:
        """Keep a value for `ttl_s` seconds (one-time login hand-over codes)."""

    async def take(self, key: str) -> str | None:
        """The value, removed in the same step (so it is taken at most once)."""

    async def close(self) -> None:
        """Release connections."""


class RedisStore:
    """Redis, shared with the services that verify access tokens."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self.client = client
        self._prefix = prefix
        # Shares the store's client (closed with the store, not by the limiter).
        self._limiter = RedisRateLimiter(client, prefix)

    async def revoke_session(
        self, session_id: str, ttl_s: int, reason: SessionEnded | None = None
    ) -> None:
        mark = reason.mark() if reason else LOGGED_OUT_MARK
        await self.client.set(revoked_session_key(session_id), mark, ex=ttl_s)

    async def is_session_revoked(self, session_id: str) -> bool:
        return bool(await self.client.exists(revoked_session_key(session_id)))

    async def session_ended(self, session_id: str) -> SessionEnded | None:
        return SessionEnded.from_mark(await self.client.get(revoked_session_key(session_id)))

    async def consume(self, allowances: Sequence[Allowance], amount: int) -> Exceeded | None:
        return await self._limiter.consume(allowances, amount)

    async def put(self, key: str, value: str, ttl_s: int) -> None:
        await self.client.set(self._prefix + key, value.encode(), ex=ttl_s)

    async def take(self, key: str) -> str | None:
        value = await self.client.getdel(self._prefix + key)
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    async def close(self) -> None:
        await self.client.aclose()


class MemoryStore:
    """Development stand-in: one process only; other services do not see its revocations."""

    def __init__(self) -> None:
        self._expiry: dict[str, float] = {}
        self._limiter = InProcessRateLimiter()
        self._marks: dict[str, bytes] = {}
        self._values: dict[str, str] = {}

    def _alive(self, key: str) -> bool:
        expires = self._expiry.get(key)
        if expires is None or expires <= time.monotonic():
            self._expiry.pop(key, None)
            self._marks.pop(key, None)
            self._values.pop(key, None)
            return False
        return True

    async def revoke_session(
        self, session_id: str, ttl_s: int, reason: SessionEnded | None = None
    ) -> None:
        key = revoked_session_key(session_id)
        self._expiry[key] = time.monotonic() + ttl_s
        self._marks[key] = reason.mark() if reason else LOGGED_OUT_MARK

    async def is_session_revoked(self, session_id: str) -> bool:
        return self._alive(revoked_session_key(session_id))

    async def session_ended(self, session_id: str) -> SessionEnded | None:
        key = revoked_session_key(session_id)
        return SessionEnded.from_mark(self._marks.get(key)) if self._alive(key) else None

    async def consume(self, allowances: Sequence[Allowance], amount: int) -> Exceeded | None:
        return await self._limiter.consume(allowances, amount)

    async def put(self, key: str, value: str, ttl_s: int) -> None:
        self._expiry[key] = time.monotonic() + ttl_s
        self._values[key] = value

    async def take(self, key: str) -> str | None:
        if not self._alive(key):
            return None
        self._expiry.pop(key, None)
        return self._values.pop(key, None)

    async def close(self) -> None:
        return None


class RedisOrMemoryStore:
    """Development default: Redis while it answers, else the in-process stand-in.

    A laptop without Redis can still log in (monolithic mode); the switch is logged, as
    other services then do not see logouts until their tokens expire. Each operation
    goes to Redis directly (no PING first); the first one Redis cannot take makes the
    switch for good, and is then done in the stand-in.
    """

    def __init__(self, client: Redis, prefix: str) -> None:
        self._redis: RedisStore | None = RedisStore(client, prefix)
        self._memory = MemoryStore()

    async def _run(self, operation: Callable[[KeyValueStore], Awaitable[T]]) -> T:
        if self._redis is not None:
            import redis.exceptions

            try:
                return await operation(self._redis)
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
                log.warning(
                    "Redis does not answer: revoked sessions and rate limits stay in this "
                    "process (development only; start Redis or set AUTH_REDIS_URL to share them)"
                )
                redis_store, self._redis = self._redis, None
                await redis_store.close()
        return await operation(self._memory)

    async def revoke_session(
        self, session_id: str, ttl_s: int, reason: SessionEnded | None = None
    ) -> None:
        await self._run(lambda store: store.revoke_session(session_id, ttl_s, reason))

    async def is_session_revoked(self, session_id: str) -> bool:
        return await self._run(lambda store: store.is_session_revoked(session_id))

    async def session_ended(self, session_id: str) -> SessionEnded | None:
        return await self._run(lambda store: store.session_ended(session_id))

    async def consume(self, allowances: Sequence[Allowance], amount: int) -> Exceeded | None:
        return await self._run(lambda store: store.consume(allowances, amount))

    async def put(self, key: str, value: str, ttl_s: int) -> None:
        await self._run(lambda store: store.put(key, value, ttl_s))

    async def take(self, key: str) -> str | None:
        return await self._run(lambda store: store.take(key))

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.close()
