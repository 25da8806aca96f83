"""How a batch subscriber fetches and parses: no idle sleep on top of a poll's own wait,
and FastStream's batch metadata built from the first record only (the inbox reads the
records as they came)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord

from servicekit.messaging import subscribers
from servicekit.messaging.subscribers import (
    _fetch_without_idle_sleep,
    _parse_batch_keeping_records,
)


class _Consumer:
    """A consumer whose polls answer from a script: (seconds to wait, records)."""

    def __init__(self, answers: list[tuple[float, dict[Any, list[Any]]]]) -> None:
        self.answers = answers
        self.polls: list[tuple[int, int]] = []

    async def getmany(self, *, timeout_ms: int, max_records: int) -> dict[Any, list[Any]]:
        self.polls.append((timeout_ms, max_records))
        waited, records = self.answers.pop(0)
        await _real_sleep(waited)
        return records


_real_sleep = asyncio.sleep


def _record(offset: int, headers: list[tuple[str, bytes | None]]) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("t", 0, offset, 0, 0, b"k", b"{}", None, 1, 2, headers)  # type: ignore[arg-type]


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The sleeps the fetch adds of its own (the fake consumer's waits are not counted)."""
    recorded: list[float] = []

    async def recording_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(subscribers.asyncio, "sleep", recording_sleep)
    return recorded


async def test_a_poll_that_waited_its_timeout_is_followed_by_no_sleep(sleeps: list[float]) -> None:
    subscriber = SimpleNamespace()
    _fetch_without_idle_sleep(subscriber, timeout_ms=50, max_records=7)
    consumer = _Consumer([(0.06, {})])
    assert await subscriber.get_msg(consumer) == ()
    assert sleeps == []
    assert consumer.polls == [(50, 7)]


async def test_a_poll_that_returned_empty_at_once_waits_out_its_timeout(
    sleeps: list[float],
) -> None:
    """No assignment (a rebalance): getmany may return at once; that must not spin."""
    subscriber = SimpleNamespace()
    _fetch_without_idle_sleep(subscriber, timeout_ms=200, max_records=7)
    assert await subscriber.get_msg(_Consumer([(0.0, {})])) == ()
    [slept] = sleeps
    assert 0.1 < slept <= 0.2


async def test_fetched_records_come_back_in_partition_order(sleeps: list[float]) -> None:
    subscriber = SimpleNamespace()
    _fetch_without_idle_sleep(subscriber, timeout_ms=50, max_records=7)
    answer = {"p0": ["a", "b"], "p1": ["c"]}
    assert await subscriber.get_msg(_Consumer([(0.0, answer)])) == ("a", "b", "c")
    assert sleeps == []


async def test_the_batch_message_keeps_every_record_as_it_came() -> None:
    first = _record(0, [("ce_type", b"\xff not text"), ("trace", None)])
    rest = [_record(offset, [("ce_id", b"%d" % offset)]) for offset in range(1, 4)]
    parsed_batches: list[tuple[Any, ...]] = []

    async def default_parser(records: tuple[Any, ...]) -> Any:
        parsed_batches.append(records)
        return SimpleNamespace(raw_message=records)

    records = (first, *rest)
    message = await _parse_batch_keeping_records(records, default_parser)  # type: ignore[arg-type]

    assert message.raw_message is records
    [(parsed,)] = parsed_batches  # FastStream parses one readable copy: the first record
    assert parsed.headers == [("ce_type", "\ufffd not text".encode()), ("trace", b"")]
