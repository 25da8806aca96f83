"""Building a chunk lets the transaction writing the previous one have the event loop."""

from __future__ import annotations

import asyncio

from directory.handlers.taking_turns import taking_turns


async def test_the_event_loop_runs_other_work_between_turns_of_a_long_build() -> None:
    seen_by_the_other_task: list[int] = []
    built: list[int] = []

    async def other_work() -> None:  # as the writing transaction's next statement would
        while True:
            seen_by_the_other_task.append(len(built))
            await asyncio.sleep(0)

    other = asyncio.create_task(other_work())
    await asyncio.sleep(0)  # it has started
    try:
        async for item in taking_turns(range(100), per_turn=10):
            built.append(item)  # no await of its own: CPU work
    finally:
        other.cancel()

    assert built == list(range(100)), "every item, in order"
    # The other task ran after every tenth item, not only once the build was over.
    assert {10, 20, 30, 40, 50, 60, 70, 80, 90} <= set(seen_by_the_other_task)


async def test_a_short_build_needs_no_turn() -> None:
    """Fewer items than a turn's worth: built without letting other work in (a chunk of a
    few fiches pays nothing for the turns)."""
    turns_of_the_other_task: list[None] = []

    async def other_work() -> None:
        while True:
            turns_of_the_other_task.append(None)
            await asyncio.sleep(0)

    other = asyncio.create_task(other_work())
    await asyncio.sleep(0)  # it has started
    before = len(turns_of_the_other_task)
    try:
        built = [item async for item in taking_turns("abc", per_turn=10)]
        ran_meanwhile = len(turns_of_the_other_task) - before
    finally:
        other.cancel()

    assert built == ["a", "b", "c"]
    assert ran_meanwhile == 0
