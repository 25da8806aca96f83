"""Fixed-window rate limits: the same behaviour in Redis (shared by every replica) and in
one process (development without Redis)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from servicekit.rate_limits import Allowance, InProcessRateLimiter, RateLimiter, RedisRateLimiter

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["in-process", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    if request.param == "in-process":
        in_process = InProcessRateLimiter()
        yield in_process
        await in_process.close()
        return
    prefix = f"test-rate-limits:{uuid.uuid4().hex}:"
    shared = RedisRateLimiter.from_url(REDIS_URL, prefix)
    try:
        yield shared
    finally:
        await shared.close()
        client = redis.Redis.from_url(REDIS_URL)
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_requests_pass_until_the_limit_then_are_refused_with_the_wait(
    limiter: RateLimiter,
) -> None:
    per_client = Allowance("login:ip:192.0.2.7", limit=3, window_s=60)

    passed = [await limiter.consume([per_client], 1) for _ in range(3)]
    refused = await limiter.consume([per_client], 1)

    assert passed == [None, None, None]
    assert refused is not None
    assert refused.allowance == per_client
    assert 0 < refused.retry_after_s <= 60


async def test_a_refused_request_uses_no_allowance_of_any_key(limiter: RateLimiter) -> None:
    manager = Allowance("rate:manager:m1", limit=10, window_s=60)
    practice = Allowance("rate:practice:p1", limit=2, window_s=60)

    assert await limiter.consume([manager, practice], 2) is None
    refused = await limiter.consume([manager, practice], 1)
    # The manager had room, but nothing was counted against it for the refused request.
    eight_more = await limiter.consume([manager], 8)
    over = await limiter.consume([manager], 1)

    assert refused is not None and refused.allowance == practice
    assert eight_more is None
    assert over is not None and over.allowance == manager


async def test_keys_are_counted_apart(limiter: RateLimiter) -> None:
    first = Allowance("login:ip:192.0.2.1", limit=1, window_s=60)
    second = Allowance("login:ip:192.0.2.2", limit=1, window_s=60)

    assert await limiter.consume([first], 1) is None
    assert await limiter.consume([second], 1) is None
    assert await limiter.consume([first], 1) is not None


async def test_a_new_window_gives_the_whole_allowance_again(limiter: RateLimiter) -> None:
    short = Allowance("rate:short", limit=1, window_s=1)

    assert await limiter.consume([short], 1) is None
    assert await limiter.consume([short], 1) is not None
    await asyncio.sleep(1.2)

    assert await limiter.consume([short], 1) is None
