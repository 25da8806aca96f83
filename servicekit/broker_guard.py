"""Runs the embedded broker so that it never outlives the process that started it.

`python -I -S servicekit/broker_guard.py PARENT_PID BINARY [ARGS...]` (`guard_command`)
starts `BINARY ARGS` and stops it when any of these happens:

- the guard is asked to stop (SIGTERM or SIGINT): the broker gets SIGTERM, then SIGKILL
  after 10 s;
- the parent (`PARENT_PID`, the platform) is gone, however it ended, `kill -9` included:
  the guard sees it re-parented (it polls `getppid()` every 0.2 s) and stops the broker
  as above;
- the guard itself is killed (`kill -9`): on Linux the kernel sends the broker SIGKILL
  (`prctl(PR_SET_PDEATHSIG)`, set in the broker's process just before it starts). On
  other systems this last case is not covered: stop the broker by hand (`broker.log`
  in the data folder names its port).

The guard starts in its own session (see `servicekit.embedded_broker`), so a Ctrl+C in
the platform's terminal does not reach the broker: the platform stops its services
first, then the broker. A watchdog process rather than PR_SET_PDEATHSIG on the broker
directly: that signal follows the *thread* that started the child, and the platform may
start the broker from any thread; the guard is single-threaded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType

POLL_S = 0.2
STOP_PATIENCE_S = 10.0
_PR_SET_PDEATHSIG = 1


def _die_with_the_guard(guard_pid: int) -> None:
    """In the broker's process, before it starts: SIGKILL when the guard dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != guard_pid:
        # The guard died before the request was in place: nothing would stop us later.
        os._exit(1)


def run(parent_pid: int, command: list[str]) -> int:
    """Run `command` until it exits, the guard is told to stop, or the parent is gone."""
    stop_requested = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    guard_pid = os.getpid()
    # preexec_fn is unsafe only in a multi-threaded parent; the guard has one thread.
    broker = subprocess.Popen(command, preexec_fn=lambda: _die_with_the_guard(guard_pid))
    while broker.poll() is None:
        if stop_requested or os.getppid() != parent_pid:
            break
        time.sleep(POLL_S)
    else:
        return broker.returncode
    broker.terminate()
    try:
        broker.wait(STOP_PATIENCE_S)
    except subprocess.TimeoutExpired:
        broker.kill()
        broker.wait()
    return 0


def guard_command(parent_pid: int, command: list[str]) -> list[str]:
    """The command line that runs `command` under a guard watching `parent_pid`.

    The guard needs only the standard library: it runs as a script, isolated and without
    site-packages, so it starts in a few milliseconds.
    """
    return [sys.executable, "-I", "-S", os.path.abspath(__file__), str(parent_pid), *command]


def main() -> None:
    """Entry point: `python servicekit/broker_guard.py PARENT_PID BINARY [ARGS...]`."""
    if len(sys.argv) < 3:
        sys.exit("usage: python servicekit/broker_guard.py PARENT_PID BINARY [ARGS...]")
    sys.exit(run(int(sys.argv[1]), sys.argv[2:]))


if __name__ == "__main__":
    main()
