"""A monolith (`skaart up`, demo data, embedded broker, development identity provider) in a
child process on a free port, for the browser tests: the same program a developer runs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

#: A fresh monolith creates five databases, starts the broker and imports the demo
#: register: about 25 s on a quiet laptop, far more on a loaded CI box.
START_DEADLINE_S = 300


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class RunningMonolith:
    base_url: str
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _wait_until_ready(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"skaart up exited early:\n{log_path.read_text()[-4000:]}")
        try:
            answer = httpx.get(base_url + "/readyz", timeout=5)
            # Ready, and the demo register is in fiches' search (the demo people exist).
            if answer.status_code == 200 and _demo_loaded(base_url):
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(
        f"skaart up not ready in {START_DEADLINE_S} s:\n{log_path.read_text()[-4000:]}"
    )


def _demo_loaded(base_url: str) -> bool:
    answer = httpx.get(base_url + "/api/fiches/providers", params={"limit": 1}, timeout=5)
    return answer.status_code == 200 and answer.json()["total"] > 0


@contextmanager
def running_monolith(folder: Path) -> Iterator[RunningMonolith]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "skaart-up.log"
    environment = {
        **os.environ,
        "SKAART_ENVIRONMENT": "development",
        "SKAART_HTTP_PORT": str(port),
        "SKAART_DATA_DIR": str(folder / "data"),
        "IDENTITY_PUBLIC_BASE_URL": base_url,
        "IDENTITY_OIDC_ISSUER": base_url + "/dev/idp",
        # Every browser and API client of the tests is 127.0.0.1: the per-address limits
        # would stop the suite's logins and activation mails, not an attacker.
        "IDENTITY_LOGIN_ATTEMPTS_PER_IP": "10000",
        "IDENTITY_EMAIL_REQUESTS_PER_IP": "10000",
        # Mailed invitation and export links open this monolith's portal pages.
        "INVITATIONS_PUBLIC_BASE_URL": base_url,
        "FICHES_EXPORT_PUBLIC_BASE_URL": base_url,
        # Own key spaces in the shared Redis: runs do not see each other's sessions.
        "PORTAL_REDIS_KEY_PREFIX": f"test:{uuid.uuid4().hex}:portal:",
        "IDENTITY_REDIS_KEY_PREFIX": f"test:{uuid.uuid4().hex}:identity:",
    }
    environment.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    skaart = Path(sys.executable).parent / "skaart"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(skaart), "up"], cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_ready(base_url, process, log_path)
        yield RunningMonolith(base_url, log_path)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
