"""Benchmark of the directory: FHIR, HSDS and near searches under load, and catching up.

    .venv/bin/python bench/directory.py [--providers 300000] [--practices 50000]
        [--clients 50] [--seconds 20] [--events 100000] [--admin-url postgresql://...]
        [--only catch-up] [--database-prefix skaart_bench_directory] [--no-response-cache]
        [--gc tuned|default] [--loop uvloop|asyncio]

`--no-response-cache` measures only the server without its response cache (with the floor).
Without the response cache each search is also driven from one connection, where nothing
queues: its req/s is the inverse of a request's own time.
`--only catch-up` runs step 3 alone (with its floor) and skips the load and the searches;
`--gc default` runs the directory (the server, the catch-up) with CPython's default garbage
collector thresholds instead of tuned as `skaart serve` tunes it (servicekit/gc_tuning.py);
`--loop asyncio` runs this process (where the catch-up runs) on Python's own event loop
instead of uvloop, which `skaart serve` runs the directory on (the server always runs under
uvicorn, which takes uvloop);
`--database-prefix` names the databases (`<prefix>`, `<prefix>_catch_up`), so two runs on
one PostgreSQL server do not drop each other's.

1. Creates a PostgreSQL database, migrates it, and bulk-loads PROVIDERS published providers
   and PRACTICES published practices at real Belgian postcodes (the same generator as
   bench/fiches_search.py): facts, search index, places (the reference geocoder) and every
   FHIR and HSDS resource, built by the directory's own builders.
2. Serves the directory app with uvicorn in a subprocess (one worker; bench/load_runner.py)
   and drives it with wrk (CLIENTS connections, SECONDS per row): the bare liveness
   endpoint (/api/directory/healthz), then FHIR `PractitionerRole?address-postalcode=`,
   FHIR `PractitionerRole?near=`, HSDS `/services?search=`, the citizens' search near a
   postcode (`/api/directory/search?near=`) and HSDS services at locations within
   `proximity` of a postcode (counted within the circle), each beside the bare endpoint
   of the same server in the same run; once with the response cache and once without it
   (DIRECTORY_RESPONSE_CACHE_ENTRIES=0), so both figures are in the table. Each row
   also says where the machine's CPU went while it ran (Linux /proc): the server
   process's and PostgreSQL's (every local `postgres` process) in ms per request, and the
   cores left idle on average. A server near one core is its one worker's limit.
3. Catching up (bench/directory_catch_up.py): publishes EVENTS public events (providers,
   practices, offer links) on an embedded broker, then starts a directory on a fresh
   database and times how long its consumer group takes to apply them all (every event in
   its inbox, no fiche waiting in `projection_pending` to be rebuilt, the term tables
   indexed again after a first build); then measures
   the floor of that work on this machine (writing the resulting rows once inside
   PostgreSQL as a first build writes them, the term and prefix tables bare and then
   indexed, also given with every index in place; building every document and resource
   once). `--without-building-ahead`
   catches up with the idle flush as it was before it built its next chunk ahead.
4. Drops the databases (`--keep-database`: not the loaded one, whose questions' sample is
   saved beside the results so that `--reuse-database` measures on it again without the
   minutes of loading; `--searches near` measures one search alone). Prints a Markdown
   table, written to bench/results/directory.md.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx

# This file is named like the directory package: keep its folder off the import path, and
# load its sibling modules (the shared data, the floor, the wrk runner) by file.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]


def _sibling(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, _HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


load_runner = _sibling("load_runner")
directory_data = _sibling("directory_data")
floor = _sibling("floor")
catching_up = _sibling("directory_catch_up")
drive_wrk, generate = load_runner.drive_wrk, directory_data.generate
counting = load_runner.drive_wrk_counting_cpu
copy, copy_search_index = directory_data.copy, directory_data.copy_search_index
_real_places, _fresh_database, _drop = (
    catching_up.real_places,
    catching_up.fresh_database,
    catching_up.drop,
)

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "skaart_bench_directory"


def _at_real_places(practice_rows: list[dict[str, Any]], seed: int = 5) -> None:
    rng = random.Random(seed)
    places = _real_places(rng)
    for practice in practice_rows:
        postcode, municipality = rng.choice(places)
        practice["facts"]["addresses"][0].update(postcode=postcode, municipality=municipality)


_RESOURCE_COLUMNS = [
    "standard",
    "type",
    "id",
    "owner",
    "active",
    "version",
    "last_updated",
    "latitude",
    "longitude",
    "content",
]


def _resource_rows(resources: Iterable[Any], now: datetime) -> tuple[list[Any], list[Any]]:
    from directory.domain.resources import stored_text

    rows, terms = [], []
    for r in resources:
        rows.append(
            (
                r.standard,
                r.type,
                r.id,
                r.owner,
                r.active,
                1,
                now,
                r.latitude,
                r.longitude,
                stored_text(r.standard, r.content),
            )
        )
        terms += [(r.standard, r.type, term, r.id) for term in r.terms]
    return rows, terms


def _links(
    provider_rows: list[dict[str, Any]],
    practice_rows: list[dict[str, Any]],
    offers: list[tuple[str, str, str]],
) -> tuple[dict[str, list[Any]], dict[str, list[Any]], dict[str, list[Any]]]:
    """Per provider the practices they work at; per practice its staff and offers."""
    from directory.domain import fhir

    by_provider = {p["fiche_id"]: p for p in provider_rows}
    at, staff = directory_data.links(provider_rows, practice_rows, offers)
    offers_of: dict[str, list[Any]] = defaultdict(list)
    for practice_id, fiche_id, profession in offers:
        offers_of[practice_id].append(fhir.Offer(fiche_id, profession, by_provider[fiche_id]))
    return at, staff, offers_of


async def _copy_places(
    connection: asyncpg.Connection, practice_rows: list[dict[str, Any]]
) -> dict[str, dict[int, tuple[float, float]]]:
    from directory.adapters.reference_geocoder import ReferenceGeocoder

    geocoder = ReferenceGeocoder()
    places: dict[str, dict[int, tuple[float, float]]] = {}
    place_rows = []
    for p in practice_rows:
        address = p["facts"]["addresses"][0]
        placed = await geocoder.locate(address["postcode"], address["municipality"], None)
        if placed is not None:
            point = (placed.point.latitude, placed.point.longitude)
            places[p["practice_id"]] = {0: point}
            place_rows.append((p["practice_id"], 0, *point, placed.precision))
    await copy(
        connection,
        "practice_places",
        place_rows,
        ["practice_id", "position", "latitude", "longitude", "precision"],
    )
    return places


async def _copy_built(
    connection: asyncpg.Connection, built: list[Any], resources: Iterable[Any], now: datetime
) -> None:
    """Search documents and terms, and standard resources and terms."""
    await copy_search_index(connection, built)
    rows, terms = _resource_rows(resources, now)
    await copy(connection, "standard_resources", rows, _RESOURCE_COLUMNS)
    await copy(connection, "standard_terms", terms, ["standard", "type", "term", "id"])
    if await directory_data.has_table(connection, "standard_prefixes"):
        from directory.domain.text import stored_prefixes

        prefixes = [(s, t, p, i, term) for s, t, term, i in terms for p in stored_prefixes(term)]
        await copy(
            connection, "standard_prefixes", prefixes, ["standard", "type", "prefix", "id", "term"]
        )


async def _copy_indexes(
    connection: asyncpg.Connection,
    provider_rows: list[dict[str, Any]],
    practice_rows: list[dict[str, Any]],
    links: tuple[dict[str, list[Any]], dict[str, list[Any]], dict[str, list[Any]]],
    places: dict[str, dict[int, tuple[float, float]]],
) -> None:
    from directory.domain import fhir, hsds
    from directory.domain.documents import build_practice, build_provider

    at, staff, offers_of = links
    now = datetime.now(UTC)
    for chunk_start in range(0, len(provider_rows), 20_000):
        chunk = provider_rows[chunk_start : chunk_start + 20_000]
        built = [build_provider(p, at[p["fiche_id"]]) for p in chunk]
        await _copy_built(connection, built, (fhir.practitioner(p) for p in chunk), now)
    for chunk_start in range(0, len(practice_rows), 5_000):
        chunk = practice_rows[chunk_start : chunk_start + 5_000]
        built = [
            build_practice(p["practice_id"], p["name"], p["facts"], staff[p["practice_id"]])
            for p in chunk
        ]
        resources: list[Any] = []
        for p in chunk:
            practice = {**p, "published": True}
            here = places.get(p["practice_id"], {})
            resources += fhir.practice_resources(practice, here, offers_of[p["practice_id"]])
            resources += hsds.practice_records(practice, here, offers_of[p["practice_id"]])
        await _copy_built(connection, built, resources, now)


async def _count_prefix_totals(connection: asyncpg.Connection) -> None:
    """The HSDS name-prefix totals the projection keeps beside the prefix rows copied
    (adapters/prefix_totals.py), counted as the directory counts them again; the migration
    marked them right at the generation, which copying does not raise."""
    if await directory_data.has_table(connection, "standard_prefix_totals"):
        from directory.adapters.prefix_totals import COUNTED_FROM_THE_PREFIX_ROWS

        await connection.execute(COUNTED_FROM_THE_PREFIX_ROWS)


async def load(url: str, providers: int, practices: int) -> tuple[float, dict[str, Any]]:
    """Everything the projection would have written, built by the same domain code."""
    started = time.perf_counter()
    provider_rows, practice_rows, offers = generate(providers, practices)
    _at_real_places(practice_rows)
    directory_data.publish(provider_rows)
    links = _links(provider_rows, practice_rows, offers)
    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        now = datetime.now(UTC)
        await directory_data.copy_facts(connection, provider_rows, practice_rows, offers, now)
        places = await _copy_places(connection, practice_rows)
        await _copy_indexes(connection, provider_rows, practice_rows, links, places)
        await _count_prefix_totals(connection)
        await connection.execute("VACUUM ANALYZE")
        counts = {
            "resources": await connection.fetchval("SELECT count(*) FROM standard_resources"),
            "terms": await connection.fetchval("SELECT count(*) FROM standard_terms"),
            "roles": await connection.fetchval(
                "SELECT count(*) FROM standard_resources WHERE type = 'PractitionerRole'"
            ),
        }
    finally:
        await connection.close()
    sample = {
        "postcodes": sorted({p["facts"]["addresses"][0]["postcode"] for p in practice_rows}),
        "points": sorted({pt for here in places.values() for pt in here.values()}),
        "names": [p["name"].split()[-1] for p in practice_rows[:5000]],
        **counts,
    }
    return time.perf_counter() - started, sample


def request_paths(sample: dict[str, Any], seed: int = 13) -> dict[str, list[str]]:
    """20,000 requests of each kind, drawn from the loaded data."""
    rng = random.Random(seed)
    postcode = [
        "/fhir/PractitionerRole?"
        + urlencode({"address-postalcode": rng.choice(sample["postcodes"])})
        for _ in range(20_000)
    ]
    near = []
    for _ in range(20_000):
        latitude, longitude = rng.choice(sample["points"])
        near.append(
            "/fhir/PractitionerRole?"
            + urlencode({"near": f"{latitude:.4f}|{longitude:.4f}|{rng.choice([1, 2, 5])}|km"})
        )
    search = [
        "/hsds/services?" + urlencode({"search": rng.choice(sample["names"])[:5]})
        for _ in range(20_000)
    ]
    # The citizens' search near a postcode (drawn after the others, which stay the same):
    # 100 postcodes and 3 radii, 300 distinct questions, so that the floor's recording
    # (every distinct question once, before) stays within a minute or two.
    postcodes = rng.sample(sorted(set(sample["postcodes"])), 100)
    public_near = [
        "/api/directory/search?"
        + urlencode({"near": rng.choice(postcodes), "radius_km": rng.choice([2, 5, 10])})
        for _ in range(20_000)
    ]
    # HSDS services at locations within `proximity` metres of a postcode's centroid (drawn
    # last, so the rows above keep their questions), counted within the circle: 300
    # distinct questions, as the citizens' search near a postcode.
    around = rng.sample(sorted(set(sample["postcodes"])), 100)
    proximity = [
        "/hsds/service_at_locations?"
        + urlencode({"postcode": rng.choice(around), "proximity": rng.choice([2000, 5000, 10000])})
        for _ in range(20_000)
    ]
    return {
        "FHIR PractitionerRole?address-postalcode=": postcode,
        "FHIR PractitionerRole?near= (1-5 km)": near,
        "HSDS /services?search=": search,
        "search near= a postcode (2-10 km)": public_near,
        "HSDS /service_at_locations?postcode=&proximity= (2-10 km)": proximity,
    }


HEALTH = "/api/directory/healthz"
SEARCHES = {
    "postcode": "FHIR PractitionerRole?address-postalcode=",
    "near": "FHIR PractitionerRole?near= (1-5 km)",
    "hsds": "HSDS /services?search=",
    "public-near": "search near= a postcode (2-10 km)",
    "hsds-proximity": "HSDS /service_at_locations?postcode=&proximity= (2-10 km)",
}
"""`--searches`: one row of `request_paths` alone."""


def _start_server(
    url: str, cache_entries: str | None, floor_file: Path | None = None, gc_mode: str = "tuned"
) -> subprocess.Popen[bytes]:
    """The directory app under uvicorn, one worker, on a free port (the port is appended
    to the process's args so `_wait_until_up` finds it); `gc_mode` as `--gc`."""
    from servicekit.embedded_broker import free_loopback_port

    port = free_loopback_port()
    # The shared runner's server (the directory app); the `directory` package is imported
    # before this folder joins the path, so this file cannot shadow it.
    serve = (
        f"import sys, directory.entrypoints.app; sys.path.append({str(_HERE)!r}); "
        f"import load_runner; load_runner.serve({url!r}, {port})"
    )
    environment = {**os.environ, "SKAART_LOG_LEVEL": "WARNING", "SKAART_BENCH_GC": gc_mode}
    if cache_entries is not None:
        environment["DIRECTORY_RESPONSE_CACHE_ENTRIES"] = cache_entries
    if floor_file is not None:
        environment["SKAART_BENCH_FLOOR"] = str(floor_file)
    server = subprocess.Popen([sys.executable, "-c", serve, str(port)], cwd=ROOT, env=environment)
    return server


async def _wait_until_up(server: subprocess.Popen[bytes]) -> str:
    args = server.args
    assert isinstance(args, list), args  # as `_start_server` starts it
    base_url = f"http://127.0.0.1:{args[-1]}"
    for _ in range(600):
        try:
            async with httpx.AsyncClient() as probe:
                if (await probe.get(f"{base_url}{HEALTH}")).status_code == 200:
                    return base_url
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the directory did not start")


def _verdict(label: str, found: dict[str, float], bare: dict[str, float]) -> str:
    ratio = found["rps"] / bare["rps"]
    return (
        f"- {label}: p95 {found['p95']:.1f} ms (target < 50 ms: "
        f"{'met' if found['p95'] < 50 else 'MISSED'}), throughput {ratio:.0%} of the "
        f"bare endpoint's (target >= 30%: {'met' if ratio >= 0.3 else 'MISSED'})"
    )


def _catch_up_verdicts(caught: dict[str, Any]) -> list[str]:
    rows = ", ".join(f"{caught[t]:,} {t}" for t in catching_up.INDEX_TABLES)
    floor = caught["bare_write_s"] + caught["build_s"]
    return [
        f"- catching up {caught['events']:,} public events (published beforehand in "
        f"{caught['publish_s']:.0f} s on the embedded broker): {caught['catch_up_s']:.1f} s "
        f"(target < 20 s: {'met' if caught['catch_up_s'] < 20 else 'MISSED'}); of which "
        f"{caught['first_event_s']:.1f} s before its first event was applied (the broker "
        "forming the new consumer group, and the first fetch)"
        + (
            f" and {caught['indexes_s']:.1f} s from every fiche rebuilt to the first build's "
            "indexes built and analyzed (polled every 0.2 s)"
            if caught["indexes_s"]
            else ""
        )
        + "; the directory's process "
        f"used {caught['cpu_s']:.1f} s of CPU, of which "
        f"{caught['collector_s']:.1f} s in the garbage collector ({caught['gc_mode']}; by "
        "generation, youngest first: "
        + ", ".join(
            f"{count:,} collections {seconds:.1f} s"
            for count, seconds in zip(
                caught["collections"], caught["collector_by_generation_s"], strict=True
            )
        )
        + ")",
        f"- floor of catching up, measured on its result ({rows}): writing those rows once "
        f"inside PostgreSQL as a first build does (the term and prefix tables bare, then "
        f"indexed) {caught['bare_write_s']:.1f} s (with every index in place "
        f"{caught['write_s']:.1f} s, of which the name prefixes "
        f"{caught['prefix_write_s']:.1f} s) + building every document and resource once "
        f"{caught['build_s']:.1f} s = {floor:.1f} s (before any reading from the broker, "
        "decoding or comparing); from its first event applied, the catch-up took "
        f"{caught['catch_up_s'] - caught['first_event_s']:.1f} s, "
        f"{(caught['catch_up_s'] - caught['first_event_s']) / floor:.1f}x the floor",
    ]


def _row(name: str, figures: dict[str, float]) -> str:
    cpu = (
        f"{figures['server_ms']:.3f} | {figures['postgres_ms']:.3f} | {figures['idle_cores']:.2f}"
        if figures.get("cpu_counted")
        else "n/a | n/a | n/a"
    )
    return (
        f"| {name} | {figures['requests']:.0f} | {figures['errors']:.0f} | "
        f"{figures['rps']:.0f} | {figures['p50']:.1f} | {figures['p95']:.1f} | "
        f"{figures['p99']:.1f} | {cpu} |"
    )


async def _measure(
    url: str, sample: dict[str, Any], args: argparse.Namespace, mode: str, cache: str | None
) -> tuple[list[str], list[str]]:
    """Each search beside the bare endpoint, on one server (with or without its cache);
    without the cache, also beside the floor (the same SQL on raw asyncpg, bench/floor.py)."""
    rows: list[str] = []
    verdicts: list[str] = []
    questions = {
        name: paths
        for name, paths in request_paths(sample).items()
        if args.searches == "all" or name == SEARCHES[args.searches]
    }
    floor_file = None
    if cache == "0":
        started = time.perf_counter()
        recording = await floor.record(url, [p for paths in questions.values() for p in paths])
        floor_file = floor.save(recording, Path(tempfile.mkdtemp(prefix="skaart-bench-floor-")))
        print(
            f"floor: {len(recording):,} questions recorded in {time.perf_counter() - started:.0f} s"
        )
    server = _start_server(url, cache, floor_file, args.gc)
    try:
        base_url = await _wait_until_up(server)
        for name, paths in questions.items():
            drive_wrk(base_url, args.clients, 5, paths)  # warm-up
            bare = counting(base_url, args.clients, args.seconds, [HEALTH], server.pid)
            label = f"{name}, {mode}"
            rows.append(_row(f"bare {HEALTH} (beside {label})", bare))
            if floor_file is not None:
                drive_wrk(base_url, args.clients, 5, floor.floor_paths(paths))  # warm-up
                under = counting(
                    base_url, args.clients, args.seconds, floor.floor_paths(paths), server.pid
                )
                rows.append(_row(f"floor: {name}, same SQL on raw asyncpg", under))
                verdicts.append(_floor_verdict(name, under, bare))
            found = counting(base_url, args.clients, args.seconds, paths, server.pid)
            rows.append(_row(f"**{label}**", found))
            verdicts.append(_verdict(label, found, bare))
            if floor_file is not None:
                alone = counting(base_url, 1, args.seconds, paths, server.pid)
                rows.append(_row(f"{label}, 1 connection (no queueing)", alone))
    finally:
        server.terminate()
        server.wait(timeout=10)
    return rows, verdicts


def _floor_verdict(name: str, floor_figures: dict[str, float], bare: dict[str, float]) -> str:
    ratio = floor_figures["rps"] / bare["rps"]
    return (
        f"- floor of {name} (the same statements on raw asyncpg in the same server): "
        f"p95 {floor_figures['p95']:.1f} ms, {ratio:.0%} of the bare endpoint's throughput"
    )


async def main(args: argparse.Namespace) -> str:
    if args.only != "catch-up":
        load_runner.require_wrk()  # before minutes of loading
    if args.without_building_ahead:
        catching_up.without_building_ahead()
    if args.only == "catch-up":
        caught = await catching_up.catch_up(
            args.admin_url, args.events, f"{args.database_prefix}_catch_up", args.gc
        )
        return "\n".join(
            [
                f"Directory catching up (alone, on the {args.loop} event loop), PostgreSQL; "
                f"machine: {os.cpu_count()} cores shared by the directory, PostgreSQL and the "
                "embedded broker.",
                "",
                *_catch_up_verdicts(caught),
            ]
        )
    from directory.entrypoints.app import build_component
    from servicekit.settings import KafkaSettings, PlatformSettings

    saved_sample = Path(__file__).parent / "results" / f"{args.database_prefix}-sample.json"
    if args.reuse_database:
        if not saved_sample.exists():
            raise SystemExit(
                f"--reuse-database: no sample of questions at {saved_sample}; load the "
                f"database once with --keep-database --database-prefix {args.database_prefix}"
            )
        url = catching_up.database_url(args.admin_url, args.database_prefix)
        load_s, sample = 0.0, json.loads(saved_sample.read_text())
    else:
        url = await _fresh_database(args.admin_url, args.database_prefix)
    all_rows: list[str] = []
    all_verdicts: list[str] = []
    try:
        from directory.config import DirectorySettings

        component = build_component(
            PlatformSettings(data_dir=Path(tempfile.mkdtemp(prefix="skaart-bench-dir-"))),
            KafkaSettings(bootstrap_servers="127.0.0.1:1"),
            DirectorySettings(database_url=url),
        )
        await component.runtime.migrate()
        await component.runtime.engine.dispose()
        if not args.reuse_database:
            load_s, sample = await load(url, args.providers, args.practices)
        if args.keep_database:
            saved_sample.parent.mkdir(exist_ok=True)
            saved_sample.write_text(json.dumps(sample))
        print(
            (
                "reused the database loaded before"
                if args.reuse_database
                else f"loaded in {load_s:.0f} s"
            )
            + f" ({sample['resources']:,} FHIR/HSDS resources, "
            f"{sample['terms']:,} terms, {sample['roles']:,} PractitionerRoles)"
        )
        modes = [("response cache", None), ("no response cache", "0")]
        for mode, cache_entries in modes[1:] if args.no_response_cache else modes:
            rows, verdicts = await _measure(url, sample, args, mode, cache_entries)
            all_rows += rows
            all_verdicts += verdicts
    finally:
        if not (args.keep_database or args.reuse_database):
            await _drop(args.admin_url, args.database_prefix)
    if args.events:
        caught = await catching_up.catch_up(
            args.admin_url, args.events, f"{args.database_prefix}_catch_up", args.gc
        )
        all_verdicts += _catch_up_verdicts(caught)
    return "\n".join(
        [
            f"Directory, {args.providers:,} providers + {args.practices:,} practices "
            f"({sample['resources']:,} FHIR/HSDS resources, {sample['roles']:,} "
            f"PractitionerRoles), PostgreSQL, one uvicorn worker, load from wrk with "
            f"{args.clients} connections, {args.seconds:.0f} s per row; machine: "
            f"{os.cpu_count()} cores shared by the server, PostgreSQL and wrk.",
            "",
            "| endpoint | requests | errors | req/s | p50 ms | p95 ms | p99 ms "
            "| server CPU ms/req | PostgreSQL CPU ms/req | idle cores |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            *all_rows,
            "",
            *all_verdicts,
            "- bulk load (not measured): "
            + ("the database was reused" if args.reuse_database else f"{load_s:.0f} s"),
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--providers", type=int, default=300_000)
    parser.add_argument("--practices", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument(
        "--events", type=int, default=100_000, help="public events to catch up (0: skip)"
    )
    parser.add_argument("--only", choices=("all", "catch-up"), default="all")
    parser.add_argument(
        "--gc",
        choices=("tuned", "default"),
        default="tuned",
        help="the directory's garbage collector: tuned as `skaart serve` tunes it, or default",
    )
    parser.add_argument(
        "--without-building-ahead",
        action="store_true",
        help="catch up with the idle flush building each chunk in its own transaction only",
    )
    parser.add_argument(
        "--no-response-cache",
        action="store_true",
        help="measure the server without its response cache only (every request a miss)",
    )
    parser.add_argument(
        "--database-prefix", default=DATABASE, help="prefix of the databases it creates and drops"
    )
    parser.add_argument(
        "--searches",
        choices=("all", *SEARCHES),
        default="all",
        help="measure one search only (beside the bare endpoint, and its floor)",
    )
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="leave the loaded database (and its sample of questions, in bench/results) in "
        "place for `--reuse-database`",
    )
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="measure on the database a run with `--keep-database` loaded (same prefix), "
        "without loading it again; it is kept again",
    )
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "SKAART_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="this process's event loop (the catch-up's): uvloop, as `skaart serve` runs it",
    )
    arguments = parser.parse_args()
    if arguments.loop == "uvloop":
        from servicekit.event_loop import run_main  # as `skaart up` runs the platform

        table = run_main(main(arguments))
    else:
        table = asyncio.run(main(arguments))
    print(table)
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / "directory.md").write_text(table + "\n")
