"""Pulling the source's HTTP delta feed into a real database (SQLite and PostgreSQL).

The simulated source (`registry_sync.simulator.source_server`) runs in uvicorn on a free
loopback port, so time-outs and refused connections are real ones. registry-sync is
built as in production but never started: no broker is needed, the events stay in the
outbox, where the tests count them.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from prometheus_client import REGISTRY

from registry_sync.adapters import tables
from registry_sync.adapters.delta_feed import (
    DeltaFeedClient,
    FeedInvalid,
    FeedRefused,
    FeedUnavailable,
)
from registry_sync.config import RegistrySyncSettings
from registry_sync.domain.pseudonyms import NrnHasher
from registry_sync.entrypoints.app import build_component, nrn_hasher
from registry_sync.handlers import pull_changes as pull_module
from registry_sync.handlers.pull_changes import (
    PageRejected,
    PullResult,
    feed_client,
    load_cursor,
    poll_forever,
    pull_changes,
)
from registry_sync.simulator.source_server import SimulatedSource, create_source_app
from servicekit.runtime import ServiceRuntime
from servicekit.settings import KafkaSettings, PlatformSettings

MakeDatabase = Callable[[str], Any]

SEED = 5
# In the past, so the feed lag of a pull still catching up is a positive, known age.
FIRST_VERSION = "2025-06-01T08:00:00Z"
LATER_VERSION = "2025-06-02T08:00:00Z"
BETWEEN_VERSION = "2025-06-01T20:00:00Z"

REGISTERED = "be.socialekaart.registry.ProfessionalRegistered"
IDENTIFIED = "be.socialekaart.registry.ProfessionalIdentified"
UPDATED = "be.socialekaart.registry.ProfessionalUpdated"
STATUS_CHANGED = "be.socialekaart.registry.ProfessionalStatusChanged"
REMOVED = "be.socialekaart.registry.ProfessionalRemoved"


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free loopback port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


class RecordingTransport(httpx.AsyncBaseTransport):
    """A real loopback transport that also keeps the query of every request it sends."""

    def __init__(self) -> None:
        self._real = httpx.AsyncHTTPTransport()
        self.queries: list[dict[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.queries.append(dict(request.url.params))
        return await self._real.handle_async_request(request)

    async def aclose(self) -> None:
        await self._real.aclose()


@dataclass
class Feed:
    """A simulated source, served, and registry-sync's database to pull it into."""

    source: SimulatedSource
    url: str
    runtime: ServiceRuntime
    hasher: NrnHasher

    def client(self, **options: Any) -> DeltaFeedClient:
        options.setdefault("timeout_s", 5.0)
        options.setdefault("max_attempts", 3)
        options.setdefault("backoff_s", 0.01)
        return DeltaFeedClient(self.url, **options)

    async def pull(
        self, page_size: int = 5, *, lenient: bool = False, **options: Any
    ) -> PullResult:
        async with self.client(**options) as client:
            return await pull_changes(
                client,
                sessions=self.runtime.sessions,
                outbox=self.runtime.outbox,
                hasher=self.hasher,
                page_size=page_size,
                lenient=lenient,
            )

    async def cursor(self) -> str | None:
        return await load_cursor(self.runtime.sessions, self.url)

    async def rows(self, table: sa.Table, *order_by: Any) -> list[Any]:
        async with self.runtime.sessions() as session:
            return list(await session.execute(sa.select(table).order_by(*order_by)))

    async def outbox(self) -> list[tuple[str, str, str]]:
        """(topic, key, event type) of every outbox row, in order."""
        return [
            (row.topic, row.message_key, dict(row.headers)["ce_type"])
            for row in await self.rows(tables.outbox, tables.outbox.c.id)
        ]

    async def outbox_payloads(self) -> list[tuple[str, dict[str, Any]]]:
        """(event type, payload without event-specific ids) of every outbox row."""
        return [
            (dict(row.headers)["ce_type"], json.loads(row.payload))
            for row in await self.rows(tables.outbox, tables.outbox.c.id)
        ]

    async def professional(self, index: int) -> Any:
        nrn_hash = self.hasher.hash(self.source.person(index)["ssin"])
        table = tables.professionals
        async with self.runtime.sessions() as session:
            return (
                await session.execute(sa.select(table).where(table.c.nrn_hash == nrn_hash))
            ).one()

    async def runs(self) -> list[Any]:
        return await self.rows(tables.sync_runs, tables.sync_runs.c.started_at)


@pytest.fixture
async def open_feed(
    tmp_path: Path, database_url_factory: MakeDatabase
) -> AsyncIterator[Callable[[int], Any]]:
    """`await open_feed(count)`: a served source of `count` people, a fresh registry-sync."""
    async with AsyncExitStack() as stack:

        async def open_one(count: int) -> Feed:
            source = SimulatedSource(count, SEED, version=FIRST_VERSION)
            url = await stack.enter_async_context(serving(create_source_app(source)))
            platform = PlatformSettings(data_dir=tmp_path)
            settings = RegistrySyncSettings(
                database_url=await database_url_factory("registry-sync")
            )
            # A broker never contacted: the component is built and migrated, never started.
            kafka = KafkaSettings(bootstrap_servers="127.0.0.1:1")
            runtime = build_component(platform, kafka, settings).runtime
            stack.push_async_callback(runtime.engine.dispose)
            await runtime.migrate()
            return Feed(source, url, runtime, nrn_hasher(settings, platform))

        yield open_one


def feed_lag() -> float | None:
    return REGISTRY.get_sample_value("skaart_registry_feed_lag_seconds")


def event_types(outbox: list[tuple[str, str, str]]) -> Counter[str]:
    return Counter(event_type for _topic, _key, event_type in outbox)


async def test_a_pull_over_several_pages_publishes_each_change_once(
    open_feed: Callable[[int], Any],
) -> None:
    feed = await open_feed(12)
    feed.source.stop(3, "practice_ban")
    feed.source.change(7, last_name="Nieuwenhuys")

    result = await feed.pull(page_size=5)

    # 14 changes in pages of 5: asked from the start, then from each cursor handed out.
    assert [since for since, _limit in feed.source.requests] == [None, "5", "10"]
    assert result.pages == 3
    assert result.cursor == await feed.cursor() == feed.source.end_cursor == "14"
    outbox = await feed.outbox()
    assert len(set(outbox)) == len(outbox)
    assert event_types(outbox) == {REGISTERED: 12, IDENTIFIED: 12, UPDATED: 2, STATUS_CHANGED: 1}
    summary = result.summary
    assert (summary.lines, summary.registered, summary.updated) == (14, 12, 2)
    assert dict(summary.status_changes) == {"practice_ban": 1}
    banned = await feed.professional(3)
    assert banned.facts["practice_ban"] is True
    assert _utc(banned.source_version) > datetime(2025, 6, 1, 8, tzinfo=UTC)
    assert (await feed.professional(7)).facts["last_name"] == "Nieuwenhuys"
    [run] = await feed.runs()
    assert (run.source, run.status, run.counts["events"]) == (feed.url, "succeeded", 27)
    assert feed_lag() == 0


async def test_pulling_again_publishes_nothing_and_replaying_every_page_changes_nothing(
    open_feed: Callable[[int], Any],
) -> None:
    feed = await open_feed(8)
    feed.source.stop(2, "deceased")
    await feed.pull(page_size=3)
    published = await feed.outbox()
    runs = await feed.runs()

    again = await feed.pull(page_size=3)

    assert (again.recorded, again.pages, again.cursor) == (False, 0, "9")
    assert await feed.outbox() == published
    assert len(await feed.runs()) == len(runs)  # an idle poll leaves no run behind

    # As if every page were delivered a second time (a cursor lost before its commit).
    async with feed.runtime.sessions() as session, session.begin():
        await session.execute(sa.delete(tables.feed_cursors))
    replay = await feed.pull(page_size=3)

    assert replay.pages == 3
    # Person 2's first line is older than the stop already applied: stale, not a revert.
    assert (replay.summary.unchanged, replay.summary.stale) == (8, 1)
    assert replay.summary.events_published == 0
    assert await feed.outbox() == published
    assert (await feed.professional(2)).facts["deceased"] is True


async def test_a_503_is_retried_and_the_pull_then_succeeds(
    open_feed: Callable[[int], Any],
) -> None:
    feed = await open_feed(4)
    feed.source.fail_next(2, status=503)

    result = await feed.pull(page_size=10, max_attempts=3)

    assert feed.source.requests == [(None, 10)] * 3
    assert result.summary.registered == 4
    assert await feed.cursor() == "4"


async def test_a_4xx_is_not_retried_and_says_what_to_check(
    open_feed: Callable[[int], Any],
) -> None:
    feed = await open_feed(4)
    feed.source.fail_next(1, status=403)

    with pytest.raises(FeedRefused) as refused:
        await feed.pull(page_size=10, max_attempts=5)

    assert refused.value.status_code == 403
    message = str(refused.value)
    assert f"{feed.url}/changes?limit=10" in message
    assert "HTTP 403" in message and "credentials in REGISTRY_SYNC_FEED_URL" in message
    assert len(feed.source.requests) == 1
    assert await feed.cursor() is None
    assert await feed.outbox() == []
    [run] = await feed.runs()
    assert run.status == "failed" and run.error.startswith("FeedRefused: ")


async def test_a_timeout_is_retried_then_fails_clearly_and_the_cursor_stays(
    open_feed: Callable[[int], Any],
) -> None:
    feed = await open_feed(6)
    await feed.pull(page_size=10)
    published = await feed.outbox()
    feed.source.stop(1, "visa_inactive")
    feed.source.delay_s = 0.5
    received_before = len(feed.source.requests)
    sent = RecordingTransport()

    with pytest.raises(FeedUnavailable) as unavailable:
        await feed.pull(page_size=10, timeout_s=0.1, max_attempts=3, transport=sent)

    message = str(unavailable.value)
    assert f"{feed.url}/changes?since=6&limit=10" in message
    assert "after 3 attempt(s)" in message and "no answer within 0.1s" in message
    assert "REGISTRY_SYNC_FEED_TIMEOUT_S" in message and "cursor has not moved" in message
    assert sent.queries == [{"since": "6", "limit": "10"}] * 3
    # Counted on the client's side: on a loaded machine an attempt can time out before
    # the source's handler has even run, so the source may have seen fewer than three.
    assert set(feed.source.requests[received_before:]) <= {("6", 10)}
    assert await feed.cursor() == "6"
    assert await feed.outbox() == published
    failed = (await feed.runs())[-1]
    assert failed.status == "failed" and failed.error.startswith("FeedUnavailable: ")

    # Once the source answers in time again, the pull resumes at the same page.
    feed.source.delay_s = 0
    resumed = await feed.pull(page_size=10)
    assert (resumed.summary.updated, resumed.cursor) == (1, "7")


async def test_a_crash_in_page_two_leaves_the_cursor_after_page_one_and_a_rerun_finishes(
    open_feed: Callable[[int], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = await open_feed(12)
    apply_for_real = pull_module.apply_records
    calls = 0

    async def crash_in_page_two(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        await apply_for_real(*args, **kwargs)  # page 2's writes happen, then the crash
        if calls == 2:
            raise RuntimeError("injected crash while applying page 2")

    monkeypatch.setattr(pull_module, "apply_records", crash_in_page_two)
    with pytest.raises(RuntimeError, match="injected crash"):
        await feed.pull(page_size=5)

    assert await feed.cursor() == "5"
    assert len(await feed.rows(tables.professionals)) == 5
    assert event_types(await feed.outbox()) == {REGISTERED: 5, IDENTIFIED: 5}
    # Stopped while catching up: the lag is the age of page 1's newest version.
    expected_lag = (datetime.now(UTC) - datetime(2025, 6, 1, 8, tzinfo=UTC)).total_seconds()
    assert feed_lag() == pytest.approx(expected_lag, abs=60)
    failed = (await feed.runs())[-1]
    assert failed.status == "failed" and "injected crash" in failed.error

    monkeypatch.undo()
    rerun = await feed.pull(page_size=5)

    assert rerun.pages == 2
    assert [since for since, _ in feed.source.requests[-2:]] == ["5", "10"]
    outbox = await feed.outbox()
    assert len(set(outbox)) == len(outbox) == 24
    assert event_types(outbox) == {REGISTERED: 12, IDENTIFIED: 12}
    assert len(await feed.rows(tables.professionals)) == 12
    assert feed_lag() == 0


async def test_a_removed_record_gives_professional_removed_once(
    open_feed: Callable[[int], Any],
) -> None:
    feed = await open_feed(5)
    await feed.pull()
    professional_id = (await feed.professional(2)).professional_id
    feed.source.remove(2)

    result = await feed.pull()

    assert result.summary.removed == 1
    assert (await feed.outbox())[-1][1:] == (professional_id, REMOVED)
    [(_type, payload)] = [p for p in await feed.outbox_payloads() if p[0] == REMOVED]
    assert payload["professional_id"] == professional_id
    assert (await feed.professional(2)).removed is True
    published = await feed.outbox()
    assert not (await feed.pull()).recorded
    assert await feed.outbox() == published


async def test_an_older_change_after_a_newer_one_changes_nothing(
    open_feed: Callable[[int], Any],
) -> None:
    feed = await open_feed(4)
    original = feed.source.person(1)
    feed.source.stop(1, "practice_ban", version=LATER_VERSION)
    # Delivered after the stop but dated before it: it must not undo the stop.
    feed.source.append({**original, "last_name": "Ouder", "version": BETWEEN_VERSION})

    result = await feed.pull(page_size=10)  # one page holding person 1 three times

    assert result.summary.stale == 1
    stored = await feed.professional(1)
    assert stored.facts["practice_ban"] is True
    assert stored.facts["last_name"] == original["last_name"]
    assert _utc(stored.source_version) == datetime(2025, 6, 2, 8, tzinfo=UTC)
    assert event_types(await feed.outbox()) == {
        REGISTERED: 4,
        IDENTIFIED: 4,
        UPDATED: 1,
        STATUS_CHANGED: 1,
    }


async def test_strict_refuses_a_page_with_an_invalid_change_and_lenient_skips_it(
    open_feed: Callable[[int], Any],
) -> None:
    feed = await open_feed(5)
    person = feed.source.person(4)
    ssin = person["ssin"]
    broken = [{**person["professions"][0], "profession": "astronaut"}]
    feed.source.append({**person, "professions": broken, "version": LATER_VERSION})
    # Lines 0-2 make page 1; page 2 holds lines 3, 4 and the broken line 5.

    with pytest.raises(PageRejected) as rejected:
        await feed.pull(page_size=3)

    message = str(rejected.value)
    assert "change 3 after cursor '3', field professions.0.profession" in message
    assert "unknown profession code" in message and "--lenient" in message
    assert ssin not in message
    assert await feed.cursor() == "3"  # page 1 applied, page 2 not
    assert len(await feed.rows(tables.professionals)) == 3
    assert event_types(await feed.outbox()) == {REGISTERED: 3, IDENTIFIED: 3}
    failed = (await feed.runs())[-1]
    assert failed.status == "failed" and failed.error.startswith("PageRejected: ")
    assert ssin not in failed.error
    assert failed.counts["rejected"] == 1
    assert [e.split(":")[0] for e in failed.errors] == [
        "change 3 after cursor '3', field professions.0.profession"
    ]

    lenient = await feed.pull(page_size=3, lenient=True)

    assert (lenient.summary.registered, lenient.summary.rejected) == (2, 1)
    assert lenient.cursor == "6"
    run = (await feed.runs())[-1]
    assert run.status == "succeeded" and run.counts["rejected"] == 1
    # One rejected change, one error: the bad value (not also an "empty" profession list).
    assert len(run.errors) == 1
    assert run.errors[0].startswith("change 3 after cursor '3', field professions.0.profession: ")
    assert not any(ssin in problem for problem in run.errors)
    # The person of the rejected change keeps the facts of their last valid line.
    assert (await feed.professional(4)).facts["professions"][0]["profession"] == (
        person["professions"][0]["profession"]
    )


async def test_two_pullers_at_once_apply_each_page_once(
    open_feed: Callable[[int], Any],
) -> None:
    feed = await open_feed(10)
    await feed.pull(page_size=10)
    for index in range(10):
        feed.source.stop(index, "practice_ban" if index % 2 else "deceased")

    first, second = await asyncio.gather(feed.pull(page_size=2), feed.pull(page_size=2))

    # Five pages of two stops; whichever puller got a page first applied it, alone.
    assert first.pages + second.pages == 5
    assert first.cursor == second.cursor == await feed.cursor() == "20"
    assert first.summary.updated + second.summary.updated == 10
    assert event_types(await feed.outbox()) == {
        REGISTERED: 10,
        IDENTIFIED: 10,
        UPDATED: 10,
        STATUS_CHANGED: 10,
    }


def _start_polling(
    feed: Feed, settings: RegistrySyncSettings, client: DeltaFeedClient | None = None
) -> asyncio.Task[None]:
    return asyncio.create_task(
        poll_forever(
            settings,
            sessions=feed.runtime.sessions,
            outbox=feed.runtime.outbox,
            hasher=feed.hasher,
            client=client,
        )
    )


async def _cursor_reaches(feed: Feed, expected: str) -> None:
    async with asyncio.timeout(10):
        # Polling the database: the poller signals nothing a test could wait on.
        while True:
            if await feed.cursor() == expected:
                return
            await asyncio.sleep(0.02)


async def test_polling_survives_a_failure_and_keeps_following_the_feed(
    open_feed: Callable[[int], Any],
) -> None:
    feed = await open_feed(6)
    feed.source.fail_next(1)
    started = datetime.now(UTC).timestamp()
    settings = RegistrySyncSettings(
        feed_url=feed.url, feed_poll_interval_s=0.05, feed_page_size=4, feed_max_attempts=1
    )
    poller = _start_polling(feed, settings)
    try:
        await _cursor_reaches(feed, "6")
        feed.source.stop(0, "deceased")
        await _cursor_reaches(feed, "7")
        await asyncio.sleep(0.3)  # a few idle polls
    finally:
        poller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await poller

    assert [run.status for run in await feed.runs()] == ["failed", "succeeded", "succeeded"]
    assert (await feed.professional(0)).facts["deceased"] is True
    last_sync = REGISTRY.get_sample_value(
        "skaart_registry_last_successful_sync_timestamp_seconds", {"kind": "feed"}
    )
    assert last_sync is not None and last_sync >= started
    assert feed_lag() == 0


async def test_a_body_that_is_not_a_page_fails_at_once_with_a_clear_error() -> None:
    answers = [
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, json={"changes": [], "next_cursor": 5}),
    ]
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answers.pop(0)

    transport = httpx.MockTransport(answer)
    async with DeltaFeedClient("http://source.test/feed/", transport=transport) as client:
        with pytest.raises(FeedInvalid) as not_json:
            await client.fetch_page("17", 50)
        with pytest.raises(FeedInvalid) as wrong_shape:
            await client.fetch_page("17", 50)

    assert len(requests) == 2  # neither was retried
    assert "http://source.test/feed/changes?since=17&limit=50" in str(not_json.value)
    assert "not JSON" in str(not_json.value)
    assert "REGISTRY_SYNC_FEED_URL" in str(not_json.value)
    assert "next_cursor: Input should be a valid string" in str(wrong_shape.value)
    assert "has_more: Field required" in str(wrong_shape.value)


async def test_retries_back_off_exponentially_and_never_show_credentials() -> None:
    delays: list[float] = []

    async def record_sleep(seconds: float) -> None:
        delays.append(seconds)

    transport = httpx.MockTransport(lambda _request: httpx.Response(502))
    async with DeltaFeedClient(
        "https://feeder:s3cret@source.test",
        transport=transport,
        max_attempts=4,
        backoff_s=0.5,
        max_backoff_s=1.5,
        sleep=record_sleep,
    ) as client:
        assert client.feed_url == "https://source.test"
        with pytest.raises(FeedUnavailable) as unavailable:
            await client.fetch_page(None, 10)

    assert delays == [0.5, 1.0, 1.5]
    assert "HTTP 502 Bad Gateway" in str(unavailable.value)
    assert "s3cret" not in str(unavailable.value)


async def test_stopping_the_poller_closes_its_connection_to_the_source(
    open_feed: Callable[[int], Any],
) -> None:
    feed = await open_feed(2)
    settings = RegistrySyncSettings(feed_url=feed.url, feed_poll_interval_s=0.05)
    client = feed_client(settings)
    poller = _start_polling(feed, settings, client)
    await _cursor_reaches(feed, "2")

    poller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await poller

    assert client.is_closed
