"""Timed waits keep a cancellation, so a service's background loops always stop.

Python 3.11's `asyncio.wait_for` drops a cancellation that lands in the instant its inner
wait completes; a `while True` loop around it then runs on and the service's shutdown
hangs (seen as a CI run that never finished). These tests cancel such loops at random
moments many times.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

import pytest

from servicekit.runtime import ServiceRuntime, cancel_and_wait
from servicekit.waiting import wait_until_set, within


async def _poll_until_cancelled(wake: asyncio.Event) -> None:
    while True:
        await wait_until_set(wake, 0.001)
        wake.clear()


async def test_a_polling_loop_is_stopped_by_every_cancellation() -> None:
    chance = random.Random(86296)
    kept_running = 0
    for _ in range(600):
        wake = asyncio.Event()
        loop_task = asyncio.create_task(_poll_until_cancelled(wake))
        await asyncio.sleep(chance.random() * 0.003)
        if chance.random() < 0.5:
            wake.set()
        loop_task.cancel()
        done, _ = await asyncio.wait({loop_task}, timeout=0.5)
        if not done:
            kept_running += 1
            while not loop_task.done():
                loop_task.cancel()
                await asyncio.sleep(0.001)
    assert kept_running == 0


async def test_wait_until_set_says_whether_the_event_came() -> None:
    event = asyncio.Event()
    assert await wait_until_set(event, 0.01) is False
    event.set()
    assert await wait_until_set(event, 0.01) is True


async def test_within_returns_the_result_or_times_out() -> None:
    assert await within(asyncio.sleep(0, result=7), 1) == 7
    with pytest.raises(TimeoutError):
        await within(asyncio.sleep(5), 0.01)


async def _ignores_the_first_cancellation(stopped: asyncio.Event) -> None:
    with contextlib.suppress(asyncio.CancelledError):  # lost, as wait_for on 3.11 can
        await asyncio.sleep(60)
    try:
        await asyncio.sleep(60)
    finally:
        stopped.set()


async def test_stopping_cancels_again_a_task_that_lost_its_cancellation() -> None:
    stopped = asyncio.Event()
    task = asyncio.create_task(_ignores_the_first_cancellation(stopped))
    await asyncio.sleep(0)

    await cancel_and_wait([task], service="test", patience_s=5)

    assert task.done() and stopped.is_set()


async def _stops_only_when_released(release: asyncio.Event) -> None:
    while not release.is_set():
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            continue


async def test_a_task_that_never_stops_is_named_and_left_behind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()
    stubborn = asyncio.create_task(_stops_only_when_released(release), name="stubborn-loop")
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    started = loop.time()

    with caplog.at_level(logging.ERROR, logger="servicekit.runtime"):
        await cancel_and_wait([stubborn], service="test", patience_s=0.3)

    assert loop.time() - started < 2
    assert not stubborn.done()
    (record,) = [r for r in caplog.records if r.getMessage() == "background tasks did not stop"]
    assert record.tasks == ["stubborn-loop"]
    release.set()
    stubborn.cancel()
    await asyncio.wait({stubborn}, timeout=1)
    assert stubborn.done()


async def test_stopping_closes_every_client_even_when_one_fails(
    idle_runtime: ServiceRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = idle_runtime
    closed: list[str] = []

    async def close_first() -> None:
        closed.append("first")

    async def close_broken() -> None:
        raise ConnectionResetError("the server went away")

    runtime.close_on_stop("first", close_first)
    runtime.close_on_stop("broken", close_broken)

    with caplog.at_level(logging.WARNING, logger="servicekit.runtime"):
        await runtime.stop()

    # The failing closer ran first (last registered first) and did not stop the other.
    assert closed == ["first"]
    (record,) = [r for r in caplog.records if r.getMessage() == "a step of stopping failed"]
    assert (record.step, record.error) == ("broken", "ConnectionResetError")


async def test_stopping_keeps_to_its_budget_when_every_step_hangs(
    idle_runtime: ServiceRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = idle_runtime
    release = asyncio.Event()
    stubborn = asyncio.create_task(_stops_only_when_released(release), name="stubborn-loop")
    runtime._background_tasks.append(stubborn)
    await asyncio.sleep(0)  # started: a task cancelled before its first step just ends
    closed: list[str] = []

    async def close_quickly() -> None:
        closed.append("quick")

    async def hang() -> None:
        await asyncio.Event().wait()

    runtime.close_on_stop("quick", close_quickly)
    runtime.close_on_stop("hanging", hang)
    runtime.close_on_stop("hanging too", hang)
    loop = asyncio.get_running_loop()
    started = loop.time()

    with caplog.at_level(logging.WARNING, logger="servicekit.runtime"):
        await runtime.stop(budget_s=1.0)

    # Unbounded by a budget, the stubborn loop (10 s) and the two closers (10 s each) would
    # hold the stop for 30 s; a generous margin over the 1 s budget for a loaded machine.
    assert loop.time() - started < 8
    # The client registered first is closed last, after the budget ran out: still closed.
    assert closed == ["quick"]
    failed = [r.step for r in caplog.records if r.getMessage() == "a step of stopping failed"]
    assert failed == ["hanging too", "hanging"]
    assert [r for r in caplog.records if r.getMessage() == "background tasks did not stop"]
    release.set()
    stubborn.cancel()
    await asyncio.wait({stubborn}, timeout=1)
