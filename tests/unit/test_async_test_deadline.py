"""The suite's deadline for async tests: a hung test is cancelled and says where it waited."""

from __future__ import annotations

import asyncio
import io

from tests.support.deadline import arm, dump_pending_tasks


async def _waits_for_a_reply_that_never_comes(never: asyncio.Event) -> None:
    await never.wait()


async def test_a_test_past_its_deadline_is_cancelled_and_the_others_go_on() -> None:
    loop = asyncio.get_running_loop()
    never = asyncio.Event()
    hung = asyncio.create_task(_waits_for_a_reply_that_never_comes(never))
    bystander = asyncio.create_task(asyncio.sleep(0.5))
    arm(loop, _waits_for_a_reply_that_never_comes.__code__, 0.05)

    done, _ = await asyncio.wait({hung}, timeout=5)

    assert hung in done and hung.cancelled()
    assert not bystander.done(), "only the test's own task is cancelled"
    await bystander


async def test_the_dump_shows_the_whole_chain_of_awaits() -> None:
    never = asyncio.Event()
    hung = asyncio.create_task(_waits_for_a_reply_that_never_comes(never))
    await asyncio.sleep(0)
    out = io.StringIO()

    dump_pending_tasks(asyncio.get_running_loop(), out)

    hung.cancel()
    text = out.getvalue()
    assert "_waits_for_a_reply_that_never_comes" in text
    assert "in wait" in text, "the dump follows the await into asyncio.Event.wait"
