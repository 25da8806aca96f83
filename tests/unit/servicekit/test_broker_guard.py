"""The embedded broker's guard: the broker never outlives the process that started it.

A stand-in for the broker (`sleep`) is started by the guard under a throwaway parent
process; then the parent, or the guard itself, is killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

# A parent that starts the guard (around `sleep 600`), prints the guard's pid, and waits.
PARENT = """
import os, subprocess, sys, time
from servicekit.broker_guard import guard_command
guard = subprocess.Popen(guard_command(os.getpid(), ["sleep", "600"]), start_new_session=True)
print(guard.pid, flush=True)
time.sleep(600)
"""


def gone(processes: list[psutil.Process], deadline_s: float = 30.0) -> bool:
    """Whether every process has exited (zombies count as exited) within the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        alive = [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return True
        time.sleep(0.1)
    return False


def start_parent() -> tuple[subprocess.Popen[str], psutil.Process, psutil.Process]:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    guard = psutil.Process(int(parent.stdout.readline()))
    deadline = time.monotonic() + 30
    # Until the child has not only forked but also become the broker (`exec`).
    while time.monotonic() < deadline:
        children = guard.children()
        if children and children[0].cmdline()[:1] == ["sleep"]:
            return parent, guard, children[0]
        time.sleep(0.05)
    raise AssertionError("the guard did not start the broker within 30 s")


def test_kill_9_of_the_parent_stops_the_guard_and_the_broker() -> None:
    parent, guard, broker = start_parent()

    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()

    assert gone([guard, broker])


def test_kill_9_of_the_guard_kills_the_broker() -> None:
    parent, guard, broker = start_parent()
    try:
        guard.kill()
        assert gone([broker])
    finally:
        parent.kill()
        parent.wait()


def test_a_terminated_guard_stops_the_broker_and_exits() -> None:
    parent, guard, broker = start_parent()
    try:
        guard.terminate()
        assert gone([guard, broker])
    finally:
        parent.kill()
        parent.wait()
