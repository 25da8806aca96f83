"""A service's running parts: database, outbox relay, subscribers; started and stopped together.

The same runtime runs alone in microservices mode (`skaart serve SERVICE`) and beside the
four others in monolithic mode (`skaart up`): each keeps its own database, producer and
consumer groups, so the components still talk only over the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from servicekit.database import (
    MigrationStatus,
    create_engine,
    migration_status,
    ping,
    session_factory,
    upgrade_database,
)
from servicekit.messaging.outbox import Outbox
from servicekit.settings import KafkaSettings
from servicekit.waiting import within

if TYPE_CHECKING:
    # The broker's clients are imported when the runtime starts, not with this module: a
    # one-shot command that only writes the database and its outbox (`skaart registry
    # import` without a broker) does not pay for loading them (docs/benchmarks.md).
    from aiokafka import AIOKafkaProducer
    from faststream.kafka import KafkaBroker

    from servicekit.messaging.inbox import InboxConsumer, Subscription
    from servicekit.messaging.relay import OutboxRelay

log = logging.getLogger(__name__)

STOP_BUDGET_S = 45.0
"""The longest `ServiceRuntime.stop()` takes, whatever hangs: each step waits at most its
own bound and never past this budget. A Deployment's terminationGracePeriodSeconds covers
it plus the preStop pause and uvicorn's HTTP drain (tests/deploy checks the sum), so a
service that stops slowly still releases its relay lock and closes its clients instead of
being killed halfway."""


class AnotherRelayPublishes(RuntimeError):
    """The outbox is published by another process's relay (a running platform)."""


@dataclass
class ServiceTables:
    """The service's metadata with its outbox and inbox tables."""

    metadata: sa.MetaData
    outbox: sa.Table
    inbox: sa.Table


@dataclass
class ServiceRuntime:
    """Database, outbox relay and subscribers of one service."""

    name: str
    database_url: str
    kafka: KafkaSettings
    tables: ServiceTables
    migrations_package: str
    subscriptions: list[Subscription] = field(default_factory=list)
    publishes: bool = True
    """False for a service that never writes its outbox (the directory): it runs no relay,
    which would otherwise poll an empty table ten times a second for as long as it runs."""
    engine: AsyncEngine = field(init=False)
    sessions: async_sessionmaker[AsyncSession] = field(init=False)
    outbox: Outbox = field(init=False)
    consumers: list[InboxConsumer] = field(init=False, default_factory=list)
    _producer: AIOKafkaProducer | None = field(init=False, default=None)
    _brokers: list[KafkaBroker] = field(init=False, default_factory=list)
    _relay: OutboxRelay | None = field(init=False, default=None)
    _relay_task: asyncio.Task[None] | None = field(init=False, default=None)
    _lag_task: asyncio.Task[None] | None = field(init=False, default=None)
    _background: list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]] = field(
        init=False, default_factory=list
    )
    _background_tasks: list[asyncio.Task[None]] = field(init=False, default_factory=list)
    _readiness_checks: dict[str, Callable[[], Awaitable[str]]] = field(
        init=False, default_factory=dict
    )
    _closers: list[tuple[str, Callable[[], Awaitable[None]]]] = field(
        init=False, default_factory=list
    )

    def __post_init__(self) -> None:
        self.engine = create_engine(self.database_url)
        self.sessions = session_factory(self.engine)
        self.outbox = Outbox(self.tables.outbox, source=f"/skaart/{self.name}")

    def subscribe(self, subscription: Subscription) -> None:
        """Add a consumer group (call before `start`)."""
        self.subscriptions.append(subscription)

    def run_in_background(self, name: str, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `loop()` while the service runs (a scheduled poller, a folder watcher).

        The loop is expected to run until cancelled and to handle its own errors; if it
        ends with an exception, the exception is logged.
        """
        self._background.append((name, loop))

    def close_on_stop(self, name: str, close: Callable[[], Awaitable[None]]) -> None:
        """Call `close()` (release a client's connections) when the service stops.

        Closers run after the background loops have stopped, last registered first; one
        that fails is logged and the others still run.
        """
        self._closers.append((name, close))

    def add_readiness_check(self, name: str, check: Callable[[], Awaitable[str]]) -> None:
        """Another dependency readiness reports on (`ok` or why not), e.g. Redis."""
        self._readiness_checks[name] = check

    def group_id(self, subscription: Subscription) -> str:
        """Consumer group of a subscription: `<service>.<subscription>`."""
        return f"{self.name}.{subscription.name}"

    async def migrate(self) -> MigrationStatus:
        """Bring the service's database to the newest migration; where it stood before."""
        return await upgrade_database(self.engine, self.migrations_package, self.tables.metadata)

    async def migration_status(self) -> MigrationStatus:
        """Where the service's database stands, without changing it."""
        return await migration_status(self.engine, self.migrations_package, self.tables.metadata)

    async def start(
        self, *, migrate: bool = True, relay: bool = True, background: bool = True
    ) -> None:
        """Migrate, then start the producer, the relay, the subscribers and background loops.

        One-shot commands pass `relay=False, background=False`: they publish with
        `publish_pending_now` and must not start the service's pollers.
        """
        from servicekit.messaging.kafka_clients import create_producer
        from servicekit.messaging.relay import OutboxRelay

        if migrate:
            await self.migrate()
        self._producer = create_producer(self.kafka, client_id=self.name)
        await self._producer.start()
        if relay and self.publishes:
            self._relay = OutboxRelay(
                service=self.name,
                table=self.tables.outbox,
                sessions=self.sessions,
                producer=self._producer,
            )
            self.outbox.on_commit(self._relay.wake)
            self._relay_task = asyncio.create_task(self._relay.run(), name=f"{self.name}-relay")
            self._lag_task = asyncio.create_task(self._measure_lag(), name=f"{self.name}-lag")
        if self.subscriptions:
            await self._start_subscribers()
        for name, loop in self._background if background else ():
            task = asyncio.create_task(loop(), name=f"{self.name}-{name}")
            task.add_done_callback(self._report_background_end)
            self._background_tasks.append(task)
        log.info("service started", extra={"service": self.name})

    async def _start_subscribers(self) -> None:
        """A FastStream broker per consumer group, each applying batches through the inbox."""
        from servicekit.messaging.dead_letters import DeadLetters
        from servicekit.messaging.inbox import InboxConsumer
        from servicekit.messaging.subscribers import create_broker, register_batch_subscriber

        # One FastStream broker per consumer group, started together: a broker starts
        # its subscribers one after the other, and each waits for its group join
        # (seconds on some brokers), so a service with five groups took five joins.
        for subscription in self.subscriptions:
            broker = create_broker(self.kafka, client_id=self.name)
            self._brokers.append(broker)
            consumer = InboxConsumer(
                service=self.name,
                subscription=subscription,
                sessions=self.sessions,
                inbox_table=self.tables.inbox,
                dead_letters=DeadLetters(
                    service=self.name, consumer=subscription.name, producer=self._producer
                ),
                max_attempts=self.kafka.handler_max_attempts,
                retry_backoff_s=self.kafka.handler_retry_backoff_s,
                on_committed=self.outbox.notify_committed,
            )
            self.consumers.append(consumer)
            register_batch_subscriber(
                broker,
                consumer,
                group_id=self.group_id(subscription),
                topics=subscription.topics,
                settings=self.kafka,
                description=subscription.description,
            )
        await asyncio.gather(*(broker.start() for broker in self._brokers))

    def _report_background_end(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "background task ended with an error",
                exc_info=task.exception(),
                extra={"service": self.name, "task": task.get_name()},
            )

    async def stop(self, budget_s: float = STOP_BUDGET_S) -> None:
        """Stop background loops and subscribers, then the relay and the producer, all
        within `budget_s` seconds (a step that would outlast it is cut short and logged)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget_s

        def left(step_bound_s: float) -> float:
            # Never zero: a step past the budget still gets a moment to finish cleanly.
            return max(0.05, min(step_bound_s, deadline - loop.time()))

        await cancel_and_wait(self._background_tasks, service=self.name, patience_s=left(10.0))
        self._background_tasks.clear()
        # Bounded like the loops: a broker client that never answers must not keep the
        # service from stopping (FastStream waits up to its graceful_timeout, 15 s).
        await self._bounded(
            "consumers", asyncio.gather(*(broker.stop() for broker in self._brokers)), left(30.0)
        )
        self._brokers.clear()
        await self._stop_relay(left)
        if self._producer is not None:
            await self._bounded("producer", self._producer.stop(), left(15.0))
            self._producer = None
        for name, close in reversed(self._closers):
            await self._bounded(name, close(), left(10.0))
        await self._bounded("database", self.engine.dispose(), left(10.0))
        log.info("service stopped", extra={"service": self.name})

    async def _stop_relay(self, left: Callable[[float], float]) -> None:
        if self._relay is not None:
            self._relay.stop()
            if self._relay_task is not None:
                # Let it finish its batch and hand the lead over before cancelling it.
                await self._bounded("relay", asyncio.wait({self._relay_task}), left(10.0))
        await cancel_and_wait(
            [task for task in (self._relay_task, self._lag_task) if task is not None],
            service=self.name,
            patience_s=left(10.0),
        )
        if self._relay is not None:
            await self._bounded("relay lock", self._relay.release(), left(5.0))
            self.outbox.off_commit(self._relay.wake)
        # A runtime started again (a command publishing what is left) gets a new relay
        # with the new producer, not this one bound to the stopped producer.
        self._relay = None
        self._relay_task = self._lag_task = None

    async def _bounded(self, what: str, stopping: Awaitable[Any], timeout_s: float) -> None:
        """Await one step of stopping; a failure or a timeout is logged, not raised."""
        try:
            await within(stopping, timeout_s)
        except Exception as error:
            log.warning(
                "a step of stopping failed",
                extra={"service": self.name, "step": what, "error": type(error).__name__},
            )

    async def readiness(self) -> dict[str, str]:
        """`ok` or the error, for the database and the broker."""
        checks: dict[str, str] = {}
        try:
            await ping(self.engine)
            checks["database"] = "ok"
        except Exception as error:
            checks["database"] = f"unreachable: {type(error).__name__}"
        if self._producer is None:
            checks["broker"] = "not started"
        else:
            try:
                await within(self._producer.client.fetch_all_metadata(), 2.0)
                checks["broker"] = "ok"
            except Exception as error:
                checks["broker"] = f"unreachable: {type(error).__name__}"
        for name, check in self._readiness_checks.items():
            try:
                checks[name] = await within(check(), 2.0)
            except Exception as error:
                checks[name] = f"unreachable: {type(error).__name__}"
        return checks

    async def publish_pending_now(self) -> int:
        """Publish the outbox until it is empty (used by one-shot commands and tests).

        Raises `AnotherRelayPublishes` when another relay (the running platform's) leads:
        publishing beside it would send every event twice.
        """
        from servicekit.messaging.relay import OutboxRelay

        assert self._producer is not None, "start() first"
        relay = self._relay or OutboxRelay(
            service=self.name,
            table=self.tables.outbox,
            sessions=self.sessions,
            producer=self._producer,
        )
        total = 0
        try:
            while published := await relay.publish_pending():
                total += published
            if not relay.is_active:
                raise AnotherRelayPublishes(
                    f"another process's outbox relay publishes {self.name}'s outbox"
                )
        finally:
            if relay is not self._relay:
                await relay.release()
        return total

    async def _measure_lag(self) -> None:
        while True:
            await asyncio.sleep(5)
            if self._relay is not None:
                with contextlib.suppress(Exception):
                    await self._relay.measure_lag()


async def cancel_and_wait(
    tasks: list[asyncio.Task[Any]], *, service: str, patience_s: float = 10.0
) -> None:
    """Cancel `tasks` and wait for them to finish, at most `patience_s` seconds.

    A task that does not finish is cancelled again every second (a cancellation can be
    lost, see servicekit.waiting), and one still running after `patience_s` is logged
    by name and left behind: a stuck loop must not keep the whole service from stopping.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience_s
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        remaining = deadline - loop.time()
        if remaining <= 0:
            log.error(
                "background tasks did not stop",
                extra={"service": service, "tasks": sorted(t.get_name() for t in pending)},
            )
            break
        _, pending = await asyncio.wait(pending, timeout=min(1.0, remaining))
    for task in tasks:
        if task.done() and not task.cancelled() and (error := task.exception()) is not None:
            log.warning(
                "background task had failed",
                extra={"service": service, "task": task.get_name(), "error": type(error).__name__},
            )
