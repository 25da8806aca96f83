"""Waiting with a timeout without losing a cancellation.

On Python 3.11, `asyncio.wait_for` returns normally when the task is cancelled in the
instant its inner wait completes (CPython gh-86296, fixed in 3.12): a `while True` loop
around it then never sees the cancellation, and a service's shutdown, which cancels its
background loops and awaits them, hangs forever. `asyncio.timeout` does not lose it, so
every timed wait in the platform goes through here (ruff bans `asyncio.wait_for`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def wait_until_set(event: asyncio.Event, timeout_s: float) -> bool:
    """Wait for `event` at most `timeout_s` seconds; True when it was set."""
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        return False
    return True


async def within(awaitable: Awaitable[T], timeout_s: float) -> T:
    """Await `awaitable`, raising TimeoutError after `timeout_s` seconds."""
    async with asyncio.timeout(timeout_s):
        return await awaitable
