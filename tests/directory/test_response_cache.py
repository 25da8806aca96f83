"""The public reads' response cache: answers are kept until the projection commits, a
change committed elsewhere is seen within the poll interval, and paging near a place
gives the same order as one big page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.responses import Response

from directory.adapters import response_cache
from directory.adapters.response_cache import ResponseCache
from directory.adapters.tables import metadata, projection_generation
from directory.handlers import projection
from tests.directory.support import (
    MARC,
    NELE,
    WARM,
    Searchable,
    searchable_directory,
    warm_team_directory,
)
from tests.directory.test_fhir import valid
from tests.support.infrastructure import wait_for


@pytest.fixture
async def world(database_url_factory: Any, tmp_path: Path) -> AsyncIterator[Searchable]:
    async with warm_team_directory(await database_url_factory("directory"), tmp_path) as team:
        yield team


def _cache(world: Searchable) -> ResponseCache:
    for router in world.component.routers:
        for route in router.routes:
            if isinstance(route, APIRoute) and route.path.endswith("/search"):
                return route.response_cache  # type: ignore[attr-defined,no-any-return]
    raise AssertionError("no search route")


async def _json(world: Searchable, path: str, **params: Any) -> Any:
    response = await world.http.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_repeated_read_is_answered_from_the_cache(world: Searchable) -> None:
    cache = _cache(world)
    first = await _json(world, "/hsds/services", postcode="9000")
    hits = cache.hits
    assert await _json(world, "/hsds/services", postcode="9000") == first
    assert cache.hits == hits + 1


async def test_a_cached_fhir_read_keeps_its_etag_and_last_modified(world: Searchable) -> None:
    cache = _cache(world)
    first = await world.http.get(f"/fhir/Practitioner/{MARC}")
    hits = cache.hits
    again = await world.http.get(f"/fhir/Practitioner/{MARC}")
    assert cache.hits == hits + 1
    assert again.content == first.content
    for header in ("etag", "last-modified", "content-type"):
        assert again.headers[header] == first.headers[header], header


async def test_a_lenient_answer_is_never_served_to_a_strict_client(world: Searchable) -> None:
    url = "/fhir/Practitioner?nmae=marc"
    lenient = await world.http.get(url, headers={"Prefer": "handling=lenient"})
    assert lenient.status_code == 200, lenient.text
    strict = await world.http.get(url)
    assert strict.status_code == 400, strict.text
    assert (await world.http.get(url, headers={"Prefer": "handling=lenient"})).status_code == 200


async def test_a_cached_json_answer_is_not_served_to_a_client_refusing_json(
    world: Searchable,
) -> None:
    url = f"/fhir/Practitioner/{MARC}"
    assert (await world.http.get(url)).status_code == 200
    refused = await world.http.get(url, headers={"Accept": "application/fhir+xml"})
    assert refused.status_code == 406, refused.text


async def test_a_depublished_provider_leaves_every_cached_answer_at_once(
    world: Searchable,
) -> None:
    """Read, depublish, read again at once: the projection's commit supersedes what was
    cached; FHIR shows the provider inactive, HSDS and search no longer show him."""
    assert await world.ids(q="marc") == [MARC]
    physicians = await _json(world, "/hsds/services", taxonomy_term_id="physician")
    assert physicians["total_items"] == 1
    assert (await _json(world, f"/fhir/Practitioner/{MARC}"))["active"] is True

    await world.apply(world.provider_gone(MARC))

    assert await world.ids(q="marc") == []
    physicians = await _json(world, "/hsds/services", taxonomy_term_id="physician")
    assert physicians["total_items"] == 0
    marc = valid(await _json(world, f"/fhir/Practitioner/{MARC}"))
    assert marc["active"] is False


async def test_a_change_committed_by_another_replica_is_seen_within_a_second(
    world: Searchable, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another replica's projection commits where this process cannot hear it: the
    generation in the database tells, read at most every `poll_s`."""
    assert await world.ids(q="marc") == [MARC]
    monkeypatch.setattr(projection, "projection_committed", lambda: None)  # elsewhere
    await world.apply(world.provider_gone(MARC))

    async def gone() -> bool:
        return await world.ids(q="marc") == []

    await wait_for(gone, timeout_s=1.0)


async def _generation_engine(tmp_path: Path) -> Any:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'generation.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all, tables=[projection_generation])
        await connection.execute(sa.insert(projection_generation).values(id=1, generation=0))
    return engine


async def test_while_one_request_recomputes_others_get_the_previous_answer(
    tmp_path: Path,
) -> None:
    """Stale while revalidating: after the projection committed, the first request for a
    URL computes it again; one arriving meanwhile gets the previous answer if it is
    younger than `max_stale_s`, and nobody computes it twice."""
    engine = await _generation_engine(tmp_path)
    cache = ResponseCache(engine, entries=10, max_bytes=1 << 20, max_stale_s=60)
    release = asyncio.Event()
    computed: list[bytes] = []

    async def compute(body: bytes, wait: bool) -> Response:
        computed.append(body)
        if wait:
            await release.wait()
        return Response(body)

    assert (await cache.respond("/a", lambda: compute(b"old", False))).body == b"old"
    response_cache.projection_committed()
    recomputing = asyncio.create_task(cache.respond("/a", lambda: compute(b"new", True)))
    await asyncio.sleep(0)
    meanwhile = await cache.respond("/a", lambda: compute(b"never", False))
    release.set()
    assert meanwhile.body == b"old"
    assert (await recomputing).body == b"new"
    assert (await cache.respond("/a", lambda: compute(b"never", False))).body == b"new"
    assert computed == [b"old", b"new"]
    await engine.dispose()


async def test_an_answer_older_than_max_stale_waits_for_the_fresh_one(tmp_path: Path) -> None:
    engine = await _generation_engine(tmp_path)
    cache = ResponseCache(engine, entries=10, max_bytes=1 << 20, max_stale_s=0)
    release = asyncio.Event()

    async def compute(body: bytes) -> Response:
        await release.wait()
        return Response(body)

    release.set()
    await cache.respond("/a", lambda: compute(b"old"))
    release.clear()
    response_cache.projection_committed()
    recomputing = asyncio.create_task(cache.respond("/a", lambda: compute(b"new")))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(cache.respond("/a", lambda: compute(b"never")))
    await asyncio.sleep(0)
    release.set()
    assert (await waiting).body == b"new"
    assert (await recomputing).body == b"new"
    await engine.dispose()


async def test_only_successful_answers_are_kept_and_the_size_is_bounded(tmp_path: Path) -> None:
    engine = await _generation_engine(tmp_path)
    cache = ResponseCache(engine, entries=2, max_bytes=1 << 20)
    calls: list[str] = []

    async def compute(key: str, status: int = 200) -> Response:
        calls.append(key)
        return Response(key.encode(), status_code=status)

    await cache.respond("/bad", lambda: compute("/bad", 422))
    await cache.respond("/bad", lambda: compute("/bad", 422))
    for key in ("/a", "/b", "/c", "/c", "/b"):
        await cache.respond(key, lambda key=key: compute(key))  # type: ignore[misc]
    await cache.respond("/a", lambda: compute("/a"))
    assert calls == ["/bad", "/bad", "/a", "/b", "/c", "/a"]  # /a was evicted
    await engine.dispose()


async def test_paging_near_a_place_follows_the_order_of_one_big_page(
    database_url_factory: Any, tmp_path: Path
) -> None:
    """Nearest first, ties by id, across places that share a point and places that do
    not: pages of one, of two and one page of everything agree."""
    async with searchable_directory(await database_url_factory("directory"), tmp_path) as world:
        places = [("9000", "Gent"), ("9050", "Gentbrugge"), ("9160", "Lokeren")]
        events: list[Any] = []
        for number in range(9):
            practice = f"0b0c1b2e-0000-4000-8000-0000000001{number:02d}"
            postcode, municipality = places[number % 3]
            events.append(
                world.practice_event(
                    practice, f"Praktijk {number}", postcode=postcode, municipality=municipality
                )
            )
            events.append(world.link(practice, MARC))
        await world.apply(world.provider_event(MARC, "Marc", "Creemers"), *events)
        near = {"near": "51.054|3.725|30|km"}
        everything = [
            e["resource"]["id"]
            for e in (await _json(world, "/fhir/PractitionerRole", **near, _count=50))["entry"]
        ]
        assert len(everything) == 9
        for size in (1, 2):
            paged: list[str] = []
            for offset in range(0, 9, size):
                page = await _json(
                    world, "/fhir/PractitionerRole", **near, _count=size, _offset=offset
                )
                paged += [e["resource"]["id"] for e in page["entry"]]
            assert paged == everything


async def test_near_finds_inactive_roles_at_places_on_the_map_only(world: Searchable) -> None:
    """A depublished provider's role at a practice on the map is still found near it,
    inactive; a depublished practice has no place on the map, so nothing of it is."""
    near = {"near": "51.054|3.725|5|km"}  # Gent
    await world.apply(world.provider_gone(MARC))
    roles = valid(await _json(world, "/fhir/PractitionerRole", **near))
    active = {
        e["resource"]["practitioner"]["reference"]: e["resource"]["active"] for e in roles["entry"]
    }
    assert active == {f"Practitioner/{MARC}": False, f"Practitioner/{NELE}": True}

    await world.apply(world.practice_gone(WARM))
    assert (await _json(world, "/fhir/PractitionerRole", **near)).get("entry", []) == []
    assert (await _json(world, "/fhir/Location", **near)).get("entry", []) == []
    locations = await _json(world, "/fhir/Location", organization=WARM)
    assert [e["resource"]["status"] for e in locations["entry"]] == ["inactive"]
