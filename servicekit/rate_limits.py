"""Rate limits in fixed windows, shared by every replica through Redis.

A request names one or more allowances (say, per manager and per practice, or per client
address); every key is checked before any is counted, so a refused request uses no
allowance, and the refusal says which allowance refused and when it renews (for a
`Retry-After`). In Redis the check and the count are one script (atomic across replicas).

Hand-written rather than with the `limits` library: `limits` checks and counts one key per
call, so "all keys or none" across replicas would need its test and hit as two round
trips with a race between them; its asynchronous Redis storage defaults to another
client library (coredis) and opens its own connection pool. See docs/architecture.md.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from servicekit.redis_client import redis_client

if TYPE_CHECKING:
    from redis.asyncio import Redis


@dataclass(frozen=True)
class Allowance:
    """One limited thing: its key, how many per window, and the window."""

    key: str
    limit: int
    window_s: int


@dataclass(frozen=True)
class Exceeded:
    """Which allowance refused, and when it renews."""

    allowance: Allowance
    retry_after_s: int


class RateLimiter(Protocol):
    """Counts `amount` against every allowance, or none of them and says which refused."""

    async def consume(self, allowances: Sequence[Allowance], amount: int) -> Exceeded | None: ...

    async def close(self) -> None: ...


_CONSUME = """
local amount = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local used = tonumber(redis.call('GET', key) or '0')
  if used + amount > tonumber(ARGV[2 * i]) then
    local ttl = redis.call('PTTL', key)
    if ttl < 0 then ttl = tonumber(ARGV[2 * i + 1]) * 1000 end
    return {i, ttl}
  end
end
for i, key in ipairs(KEYS) do
  if redis.call('INCRBY', key, amount) == amount then
    redis.call('EXPIRE', key, ARGV[2 * i + 1])
  end
end
return {0, 0}
"""


class RedisRateLimiter:
    """Fixed windows in Redis; every key starts with the configured prefix.

    `close` closes the client: give it one it may own (`from_url` builds one), or do not
    call `close` when the client is shared with something that closes it.
    """

    def __init__(self, client: Redis, prefix: str) -> None:
        self.client: Any = client
        self._prefix = prefix
        self._script = self.client.register_script(_CONSUME)

    @classmethod
    def from_url(cls, redis_url: str, prefix: str) -> RedisRateLimiter:
        """A limiter with a client of its own, from the platform's one client factory
        (bounded waits: a Redis that stops answering fails a request, never hangs it)."""
        return cls(redis_client(redis_url), prefix)

    async def consume(self, allowances: Sequence[Allowance], amount: int) -> Exceeded | None:
        keys = [self._prefix + allowance.key for allowance in allowances]
        args: list[int] = [amount]
        for allowance in allowances:
            args += [allowance.limit, allowance.window_s]
        refused_index, ttl_ms = await self._script(keys=keys, args=args)
        if int(refused_index) == 0:
            return None
        return Exceeded(allowances[int(refused_index) - 1], max(1, math.ceil(int(ttl_ms) / 1000)))

    async def close(self) -> None:
        await self.client.aclose()


class InProcessRateLimiter:
    """The same windows in this process's memory: development without Redis only."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, float]] = {}

    async def consume(self, allowances: Sequence[Allowance], amount: int) -> Exceeded | None:
        now = time.monotonic()
        windows = [self._current(allowance, now) for allowance in allowances]
        for allowance, (used, ends) in zip(allowances, windows, strict=True):
            if used + amount > allowance.limit:
                return Exceeded(allowance, max(1, math.ceil(ends - now)))
        for allowance, (used, ends) in zip(allowances, windows, strict=True):
            self._windows[allowance.key] = (used + amount, ends)
        return None

    def _current(self, allowance: Allowance, now: float) -> tuple[int, float]:
        """How much of the allowance's window is used, and when it ends (a fresh one if over)."""
        used, ends = self._windows.get(allowance.key, (0, now + allowance.window_s))
        return (used, ends) if ends > now else (0, now + allowance.window_s)

    async def close(self) -> None:
        self._windows.clear()
