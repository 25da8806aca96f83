"""registry-sync's outbox, published from a process of its own while a command fills it.

`skaart registry import` starts it when a broker is configured, once a few chunks of
events are committed (a small import publishes at the end from its own process). Why a
process and not a task beside the import: the relay's own work (reading the rows back,
grouping them by partition, building record batches) was about 40% of a first import's
CPU, and in the command's process it took turns with the import on one core. In a process
of its own it runs on the other core while the import applies the next chunk. Nothing
else changes: the relay lock still allows one relay per database (with a running platform
beside the command, this process stays on standby and the platform's relay publishes),
rows are published in id order, at least once.

Protocol, kept small so that a parent that dies cannot leave it running: the parent keeps
this process's stdin open while it writes; when stdin closes (the parent is done, or died)
nothing more comes, so the process publishes what is left and exits. It prints one line on
stdout: `published` when it led, `standby` when another relay did. Without a reachable
broker it prints `unreachable <reason>` and exits at once; the parent then says so and
publishes (or explains) at the end, as without this process. A process that fails (its
error goes to the command's stderr) is `failed <exit code>` to the parent, which says so
and publishes what is left itself.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass

from registry_sync.config import RegistrySyncSettings
from registry_sync.entrypoints.runtime import SERVICE, registry_runtime
from servicekit.gc_tuning import tune_for_long_running_service
from servicekit.settings import KafkaSettings, PlatformSettings

PUBLISHED, STANDBY, UNREACHABLE, FAILED = "published", "standby", "unreachable", "failed"
BULK_NICENESS = 10
"""How much a large import lowers its CPU priority (`nice`; it cannot raise it again)."""


async def _stdin_closed() -> None:
    """Returns once the parent closed our stdin (it is done writing, or it died)."""
    await asyncio.to_thread(sys.stdin.buffer.read)


async def publish_until_stdin_closes() -> str:
    """Publish registry-sync's outbox until stdin closes, then what is left; the outcome."""
    from aiokafka.errors import KafkaError

    from servicekit.messaging.kafka_clients import create_producer
    from servicekit.messaging.relay import OutboxRelay

    kafka = KafkaSettings()
    runtime = registry_runtime(PlatformSettings(), kafka, RegistrySyncSettings())
    producer = create_producer(kafka, client_id=f"{SERVICE}-import-publisher")
    try:
        await producer.start()
    except KafkaError as error:
        await producer.stop()
        await runtime.engine.dispose()
        return f"{UNREACHABLE} {type(error).__name__}"
    relay = OutboxRelay(
        service=SERVICE, table=runtime.tables.outbox, sessions=runtime.sessions, producer=producer
    )
    try:
        # `run` polls every 100 ms (the command's commits cannot wake it across processes)
        # and retries with backoff when the broker or the database fails for a moment.
        running = asyncio.create_task(relay.run(), name="import-publisher")
        closed = asyncio.create_task(_stdin_closed())
        await asyncio.wait({running, closed}, return_when=asyncio.FIRST_COMPLETED)
        relay.stop()
        await running
        while await relay.publish_pending():
            pass
        return PUBLISHED if relay.is_active else STANDBY
    finally:
        await relay.release()
        await producer.stop()
        await runtime.engine.dispose()


@dataclass
class PublisherProcess:
    """The command's side: start the publishing process, then tell it the writing is done."""

    process: asyncio.subprocess.Process

    @classmethod
    async def start(cls) -> PublisherProcess:
        """Start it (its settings are the command's environment); it does not wait for it."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "skaart.outbox_publisher",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=os.environ.copy(),
        )
        return cls(process)

    async def finish(self) -> str:
        """Close its stdin and wait until it published what is left; its outcome line.

        `failed <exit code>` when it failed (its error is on stderr, which it shares with
        the command); what it did not publish is still in the outbox.
        """
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        output = await self.process.stdout.read()
        await self.process.wait()
        lines = output.decode(errors="replace").strip().splitlines()
        if lines and self.process.returncode == 0:
            return lines[-1]
        return f"{FAILED} {self.process.returncode}"


class PublisherForLargeImports:
    """Starts the publishing process once the command has committed `after_commits` chunks.

    Register `committed` with `Outbox.on_commit`. A second process pays for its start
    (about a second of loading), which a small import does not win back: with fewer
    chunks the command publishes at the end from its own process, as before (a 1% change
    of 100,000 people took 1.9 s that way and 3.2 s with the process). A re-import that
    changes nothing starts none, and an import's check pass (which holds every stored
    digest in memory) is over before the second process adds its own memory.
    """

    def __init__(self, after_commits: int = 5) -> None:
        self._after_commits = after_commits
        self._commits = 0
        self._starting: asyncio.Task[PublisherProcess] | None = None

    def committed(self) -> None:
        self._commits += 1
        if self._starting is None and self._commits >= self._after_commits:
            # From here on this is bulk work: the command, and the process it starts (which
            # inherits it), yield the CPU to the services on the same machine, so a stop
            # read ahead by fiches is not queued behind the import on a shared host.
            os.nice(BULK_NICENESS)
            self._starting = asyncio.get_running_loop().create_task(PublisherProcess.start())

    async def finish(self) -> str | None:
        """The process's outcome (see `PublisherProcess.finish`); None if none started."""
        if self._starting is None:
            return None
        return await (await self._starting).finish()


def main() -> None:
    tune_for_long_running_service()
    outcome = asyncio.run(publish_until_stdin_closes())
    print(outcome, flush=True)


if __name__ == "__main__":
    main()
