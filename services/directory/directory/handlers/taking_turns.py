"""Building a chunk in short stretches, so the transaction writing the previous one keeps
PostgreSQL busy.

The idle flush builds its next chunk (Python) while its transaction writes the current one
(PostgreSQL), both on one event loop (handlers/rebuild_ahead.py). A build step over a
whole chunk (400 practices' resources, 2,000 providers' hits) ran for tens of milliseconds
without awaiting anything, and every statement of the writing transaction that was
answered meanwhile waited for it to end before the next could be sent: PostgreSQL sat
idle. Iterating through `taking_turns` lets the loop run every few items.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import TypeVar

T = TypeVar("T")

ITEMS_PER_TURN = 25
"""Items built between two turns of the event loop: a few milliseconds of building at most
(a catch-up's rebuild spends 0.5-0.6 ms of the directory's CPU per practice, its reads and
writes included; a provider takes a fraction of that)."""


async def taking_turns(items: Iterable[T], per_turn: int = ITEMS_PER_TURN) -> AsyncIterator[T]:
    """The items, letting the event loop run after every `per_turn` of them."""
    for number, item in enumerate(items, start=1):
        yield item
        if number % per_turn == 0:
            await asyncio.sleep(0)
