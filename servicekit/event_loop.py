"""The event loop a long-running command runs its coroutine on.

`skaart serve` leaves the loop to uvicorn, which takes uvloop when it is installed (a
dependency everywhere but Windows). `skaart up` runs the whole platform in one coroutine
it starts itself: `run_main` gives it the same loop, so the monolith serves as a service
does in production.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_main(main: Coroutine[Any, Any, T]) -> T:
    """`main` to completion on uvloop where it is installed, else on Python's own loop;
    Ctrl+C cancels it as `asyncio.run` does (both run it in an `asyncio.Runner`)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)
