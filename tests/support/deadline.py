"""A deadline for asynchronous tests that says where a hung test was waiting.

A test that awaits something that never comes (a broker that stopped answering, a
connection nobody closes) would otherwise hold the whole suite until CI gives up, with
nothing to show for it. When an async test outlives its deadline, every pending task's
chain of awaits is written to stderr (pytest shows it under the failed test) and the
test's own task is cancelled, so it fails alone and the suite goes on.
"""

from __future__ import annotations

import asyncio
import sys
import traceback
from collections.abc import Iterator
from types import CodeType, FrameType
from typing import Any, TextIO


def _await_chain(awaitable: Any) -> Iterator[FrameType]:
    """The frames of a coroutine and of everything it is awaiting, outermost first."""
    seen = 0
    while awaitable is not None and seen < 200:
        seen += 1
        frame = (
            getattr(awaitable, "cr_frame", None)
            or getattr(awaitable, "gi_frame", None)
            or getattr(awaitable, "ag_frame", None)
        )
        if frame is not None:
            yield frame
        awaitable = (
            getattr(awaitable, "cr_await", None)
            or getattr(awaitable, "gi_yieldfrom", None)
            or getattr(awaitable, "ag_await", None)
        )


def dump_pending_tasks(loop: asyncio.AbstractEventLoop, out: TextIO = sys.stderr) -> None:
    """Write where every pending task of `loop` is waiting."""
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    print(f"--- {len(tasks)} pending asyncio tasks ---", file=out)
    for task in tasks:
        print(f"task {task.get_name()}: {task.get_coro()!r}", file=out)
        frames = [(frame, frame.f_lineno) for frame in _await_chain(task.get_coro())]
        for line in traceback.StackSummary.extract(frames).format():
            print("  " + line.rstrip().replace("\n", "\n  "), file=out)
    out.flush()


def tasks_running(loop: asyncio.AbstractEventLoop, code: CodeType) -> list[asyncio.Task[Any]]:
    """The pending tasks whose outermost coroutine runs `code` (a test function's body)."""
    return [
        task
        for task in asyncio.all_tasks(loop)
        if not task.done() and getattr(task.get_coro(), "cr_code", None) is code
    ]


def arm(loop: asyncio.AbstractEventLoop, code: CodeType, seconds: float) -> asyncio.TimerHandle:
    """After `seconds`, dump the pending tasks and cancel the test running `code`."""

    def expire() -> None:
        print(f"test still running after {seconds:.0f} s: cancelling it", file=sys.stderr)
        dump_pending_tasks(loop)
        for task in tasks_running(loop, code):
            task.cancel(f"the test exceeded its {seconds:.0f} s deadline")

    return loop.call_later(seconds, expire)
