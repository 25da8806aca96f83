"""`skaart up` as an operator runs it: Ctrl+C stops cleanly, kill -9 leaves no broker behind.

The platform runs as a real process with the embedded broker, in a session of its own
as a terminal would run it; Ctrl+C is SIGINT to that whole process group.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from servicekit.embedded_broker import free_loopback_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux process groups"),
]

# The `skaart` command of the interpreter running the tests, wherever it is installed.
SKAART = [sys.executable, "-m", "skaart.cli"]


@dataclass
class Platform:
    process: subprocess.Popen[bytes]
    log: Path
    port: int

    def records(self) -> list[dict[str, Any]]:
        """The JSON log records written so far (the start-up panel is skipped)."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                found.append(json.loads(line))
        return found

    def broker_processes(self) -> list[psutil.Process]:
        """The broker's guard and the broker (descendants of the platform)."""
        return psutil.Process(self.process.pid).children(recursive=True)


def wait_until(condition: Any, deadline_s: float, what: str) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {deadline_s:.0f}s")


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def all_gone(processes: list[psutil.Process]) -> bool:
    return not [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def start_platform(data_dir: Path, log: Path, *options: str) -> Platform:
    """`skaart up` on a free port, in a session of its own; returns once it is ready."""
    port = free_loopback_port()
    env = {
        **os.environ,
        "SKAART_DATA_DIR": str(data_dir),
        "SKAART_HTTP_PORT": str(port),
        "SKAART_HTTP_HOST": "127.0.0.1",
        "SKAART_LOG_FORMAT": "json",
        "SKAART_ENVIRONMENT": "development",
    }
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    with log.open("ab") as output:
        process = subprocess.Popen(
            [*SKAART, "up", *options],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives it
        )
    started = Platform(process, log, port)
    try:
        wait_until(lambda: ready(port) or process.poll() is not None, 180, "the platform got ready")
    except BaseException:
        stop_for_good(started)
        raise
    assert process.poll() is None, log.read_text()
    return started


def stop_for_good(platform: Platform) -> None:
    if platform.process.poll() is None:
        os.killpg(platform.process.pid, signal.SIGKILL)
        platform.process.wait()


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    running = start_platform(tmp_path / "data", tmp_path / "platform.log", "--no-demo")
    try:
        yield running
    finally:
        stop_for_good(running)


def published_fiches(port: int) -> int:
    response = httpx.get(
        f"http://127.0.0.1:{port}/api/fiches/providers", params={"limit": 1}, timeout=5
    )
    response.raise_for_status()
    return int(response.json()["total"])


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_stopping_stops_the_services_then_the_broker_without_connection_errors(
    platform: Platform, stop: str
) -> None:
    brokers = platform.broker_processes()
    assert brokers, "the embedded broker should run under the platform"
    logged_before = len(platform.records())

    if stop == "ctrl-c":
        sent = signal.SIGINT
        os.killpg(platform.process.pid, sent)  # Ctrl+C: the terminal's whole group
    else:
        sent = signal.SIGTERM
        os.kill(platform.process.pid, sent)  # a service manager stopping it
    wait_until(lambda: platform.process.poll() is not None, 120, "the platform stopped")

    # Once shut down cleanly, the server ends the way the signal asked (killed by it, or
    # the shell's 128 + signal number); no traceback either way.
    log = platform.log.read_text()
    assert platform.process.returncode in (0, -sent, 128 + sent), log[-3000:]
    assert "Application shutdown complete." in log
    assert "Traceback" not in log
    stopping = platform.records()[logged_before:]
    assert [r for r in stopping if r["message"] == "service stopped"], "nothing logged"
    troubles = [
        r
        for r in stopping
        if r["level"] in ("warning", "error", "critical") or r["logger"].startswith("aiokafka")
    ]
    assert troubles == []
    wait_until(lambda: all_gone(brokers), 30, "the broker stopped")


def test_kill_9_leaves_no_broker_and_the_restart_announces_every_professional_again(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    log = tmp_path / "platform.log"
    first = start_platform(data, log, "--demo-count", "40")
    try:
        # The demo professionals arrive through the simulated source's feed.
        totals: list[int] = []

        def settled() -> bool:
            totals.append(published_fiches(first.port))
            return len(totals) > 10 and totals[-1] > 0 and len(set(totals[-10:])) == 1

        wait_until(settled, 120, "the demo fiches were published")
        published = totals[-1]
        brokers = first.broker_processes()
        assert brokers, "the embedded broker should run under the platform"

        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait()

        wait_until(lambda: all_gone(brokers), 60, "the broker went away with its platform")
    finally:
        stop_for_good(first)

    # Every event fiches had not consumed went with the broker; the worst case is that
    # it consumed none: its database is gone too. registry-sync's store is intact.
    for leftover in data.glob("fiches.db*"):  # with its -wal and -shm files
        leftover.unlink()
    second = start_platform(data, log, "--demo-count", "40")
    try:
        wait_until(
            lambda: published_fiches(second.port) == published,
            120,
            "fiches caught up from the re-announcement",
        )
        messages = [r["message"] for r in second.records()]
        assert any(m.startswith("the broker is new") for m in messages)
    finally:
        stop_for_good(second)


def test_the_demo_practices_reach_the_public_map_near_a_place_in_fhir_and_in_hsds(
    tmp_path: Path,
) -> None:
    """`skaart up` publishes demo practices once the demo providers reach fiches; the
    directory, fed by the public topics only, shows them as the README's links ask."""
    running = start_platform(
        tmp_path / "data", tmp_path / "platform.log", "--demo-count", "40", "--demo-practices", "5"
    )
    base = f"http://127.0.0.1:{running.port}"
    try:

        def organizations() -> int:
            answer = httpx.get(f"{base}/hsds/organizations", timeout=5)
            answer.raise_for_status()
            return int(answer.json()["total_items"])

        wait_until(lambda: organizations() == 5, 120, "the 5 demo practices reached HSDS")

        # The first demo place is in 9000 Gent: found near it, and as a FHIR Organization.
        near = httpx.get(
            f"{base}/api/directory/search",
            params={"near": "9000", "radius_km": 5, "type": "practice"},
            timeout=5,
        ).json()["items"]
        assert len(near) == 1 and near[0]["distance_km"] <= 5, near
        bundle = httpx.get(f"{base}/fhir/Organization", params={"address-city": "Gent"}).json()
        assert [e["resource"]["name"] for e in bundle["entry"]] == [near[0]["name"]]
        services = httpx.get(f"{base}/hsds/services", timeout=5).json()
        assert services["total_items"] >= 5  # each practice offers its provider's professions
        assert "Traceback" not in running.log.read_text()
    finally:
        stop_for_good(running)
