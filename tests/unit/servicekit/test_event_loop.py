"""`skaart up` runs on the loop uvicorn gives `skaart serve`: uvloop where installed."""

from __future__ import annotations

import asyncio
import sys

import pytest

from servicekit.event_loop import run_main


async def _loop_module() -> str:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop()).__module__


def test_the_main_coroutine_runs_on_uvloop_when_it_is_installed() -> None:
    pytest.importorskip("uvloop")
    assert run_main(_loop_module()).startswith("uvloop")


def test_without_uvloop_it_runs_on_pythons_own_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop raises ImportError
    assert run_main(_loop_module()).startswith("asyncio")
