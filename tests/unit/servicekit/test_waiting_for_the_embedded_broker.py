"""Waiting for the embedded broker to answer: retried while it settles, never past its
deadline, at once when its process exited, and never through a cancellation."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, cast

import pytest

from servicekit.embedded_broker import (
    EmbeddedBroker,
    EmbeddedBrokerUnavailable,
    _wait_until_answering,
    free_loopback_port,
)


class FakeProcess:
    def __init__(self, returncode: int | None) -> None:
        self.returncode = returncode

    def poll(self) -> int | None:
        return self.returncode


def broker(returncode: int | None = None) -> EmbeddedBroker:
    # Nothing listens on the port: every probe is a refused connection.
    process = cast(Any, FakeProcess(returncode))
    return EmbeddedBroker(process=process, port=free_loopback_port(), log_path=Path("b.log"))


async def test_a_broker_that_never_answers_fails_after_the_deadline_with_the_last_error() -> None:
    started = time.monotonic()

    with pytest.raises(EmbeddedBrokerUnavailable) as unavailable:
        await _wait_until_answering(broker(), timeout_s=0.5)

    assert 0.5 <= time.monotonic() - started < 5
    assert "did not answer on 127.0.0.1:" in str(unavailable.value)
    assert "ConnectionRefusedError" in str(unavailable.value)


async def test_a_broker_whose_process_exited_fails_at_once_with_its_exit_code() -> None:
    started = time.monotonic()

    with pytest.raises(EmbeddedBrokerUnavailable, match=r"exited with code 3; see b.log"):
        await _wait_until_answering(broker(returncode=3), timeout_s=30)

    assert time.monotonic() - started < 1


async def test_cancelling_the_wait_is_not_retried() -> None:
    # A port that accepts connections but never answers a Kafka request: the cancellation
    # arrives while a probe awaits the broker, not between probes.
    silent = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    process = cast(Any, FakeProcess(None))
    waiting = asyncio.create_task(
        _wait_until_answering(EmbeddedBroker(process, port, None), timeout_s=30)
    )
    try:
        await asyncio.sleep(0.5)
        started = time.monotonic()
        waiting.cancel()

        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert time.monotonic() - started < 1
    finally:
        silent.close()


async def test_topics_are_created_once_a_settling_broker_accepts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from skaart import monolith

    calls: list[int] = []

    async def ensure_topics(_kafka: Any) -> list[str]:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("not yet")
        return ["registry.professionals.v1"]

    monkeypatch.setattr(monolith, "ensure_topics", ensure_topics)

    created = await monolith.prepare_broker_topics(cast(Any, None))

    assert created == ["registry.professionals.v1"]
    assert len(calls) == 3
