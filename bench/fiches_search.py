"""Public search latency and throughput at national scale (a script, not a test).

    .venv/bin/python bench/fiches_search.py [--providers 300000] [--practices 50000]
        [--clients 50] [--seconds 20] [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]

1. Creates a fresh PostgreSQL database `skaart_bench_search`, migrates it, and bulk-loads
   PROVIDERS published provider fiches and PRACTICES published practice fiches into the
   search read model (facts, hits and terms built by the projection's own functions,
   written with COPY; the load time is printed but is not the measured figure).
2. Serves the directory app with uvicorn in a subprocess on a free port (`--workers`, 1).
3. With CLIENTS concurrent connections (wrk when installed, else httpx), SECONDS each: the
   server's bare liveness endpoint (/api/directory/healthz), then GET /api/fiches/search with
   a mix of queries (name fragments, profession + postcode, municipality + target group,
   language). Latency percentiles per query kind, and throughput.
4. EXPLAIN ANALYZE of the slowest query of each kind.
5. Drops the database. Prints a Markdown table, written to bench/results/fiches_search.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx

# Its siblings are imported by their own names, once, whether this file runs as a script
# (bench/ first on the import path) or is imported as bench.fiches_search (bench/portal.py).
sys.path.insert(0, str(Path(__file__).resolve().parent))
try:
    import floor
    from directory_data import (
        FIRST,
        PROFESSIONS,
        TARGET_GROUPS,
        _weighted,
        copy_facts,
        copy_search_index,
        generate,
        links,
        publish,
    )
    from load_runner import drive_wrk, require_wrk, serve
finally:
    # bench/directory.py is named like the directory package: once the siblings are
    # loaded, keep this folder off the import path so that `import directory` finds the
    # service.
    _HERE = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "skaart_bench_search"


async def load(url: str, providers: int, practices: int) -> tuple[float, dict[str, Any]]:
    from directory.domain.documents import build_practice, build_provider

    started = time.perf_counter()
    provider_rows, practice_rows, offers = generate(providers, practices)
    publish(provider_rows)
    at, staff = links(provider_rows, practice_rows, offers)
    built = [build_provider(p, at[p["fiche_id"]]) for p in provider_rows]
    built += [
        build_practice(p["practice_id"], p["name"], p["facts"], staff[p["practice_id"]])
        for p in practice_rows
    ]
    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await copy_facts(connection, provider_rows, practice_rows, offers, datetime.now(UTC))
        await copy_search_index(connection, built)
        # What autovacuum does to a live table: statistics, and the visibility map that
        # lets the term probes be index-only.
        await connection.execute("VACUUM ANALYZE")
        terms = await connection.fetchval("SELECT count(*) FROM search_terms")
    finally:
        await connection.close()
    sample = {
        "last_names": [p["official_last_name"] for p in provider_rows[:5000]],
        "first_names": FIRST,
        "places": sorted(
            {
                (p["facts"]["addresses"][0]["postcode"], p["facts"]["addresses"][0]["municipality"])
                for p in practice_rows
            }
        ),
        "terms": terms,
        "offers": len(offers),
    }
    return time.perf_counter() - started, sample


def queries(sample: dict[str, Any], seed: int = 11) -> Iterator[tuple[str, dict[str, str]]]:
    """An endless, realistic mix of public searches: (kind, params)."""
    rng = random.Random(seed)
    places = sample["places"]
    while True:
        roll = rng.random()
        if roll < 0.35:
            last = rng.choice(sample["last_names"]).split()[-1]
            fragment = last[: rng.randint(3, max(3, min(7, len(last))))]
            if rng.random() < 0.3:
                fragment = f"{rng.choice(sample['first_names'])[:3]} {fragment}"
            yield "name", {"q": fragment}
        elif roll < 0.6:
            yield (
                "profession+postcode",
                {
                    "profession": _weighted(rng, PROFESSIONS),
                    "postcode": rng.choice(places)[0],
                },
            )
        elif roll < 0.8:
            yield (
                "municipality+target_group",
                {
                    "municipality": rng.choice(places)[1],
                    "target_group": rng.choice(TARGET_GROUPS),
                },
            )
        else:
            language = rng.choice(["nl", "fr", "en", "de", "tr"])
            params = {"language": language}
            if rng.random() < 0.5:
                params["profession"] = _weighted(rng, PROFESSIONS)
            if rng.random() < 0.5:
                params["type"] = rng.choice(["provider", "practice"])
            yield "language", params


async def drive(
    base_url: str,
    clients: int,
    seconds: float,
    requests: Iterator[tuple[str, str]],
) -> tuple[dict[str, list[float]], float, int, list[tuple[float, str, str]]]:
    """CLIENTS workers for SECONDS; returns latencies per kind, elapsed, errors, slowest."""
    latencies: dict[str, list[float]] = defaultdict(list)
    slowest: list[tuple[float, str, str]] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                kind, path = next(requests)
                started = time.perf_counter()
                try:
                    response = await client.get(path)
                except httpx.HTTPError as error:
                    errors += 1
                    print(f"request failed: {type(error).__name__} {path}", file=sys.stderr)
                    continue
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    print(f"HTTP {response.status_code}: {path}", file=sys.stderr)
                    errors += 1
                    continue
                latencies[kind].append(elapsed)
                slowest.append((elapsed, kind, path))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    slowest.sort(reverse=True)
    return latencies, elapsed, errors, slowest[:200]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def explain(url: str, slowest: list[tuple[float, str, str]]) -> list[str]:
    """EXPLAIN ANALYZE of the slowest request of each kind, as the endpoint runs it."""
    from urllib.parse import parse_qsl, urlsplit

    from sqlalchemy.dialects import postgresql

    from directory.adapters.search_queries import count_statement, search_statement
    from directory.domain.ranking import SearchFilters, choose_driver, needs_counts
    from directory.domain.text import normalized
    from directory.domain.text import words as name_words

    seen: set[str] = set()
    plans = []
    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await connection.execute("SET plan_cache_mode = force_custom_plan")
        for elapsed, kind, path in slowest:
            if kind in seen:
                continue
            seen.add(kind)
            params = dict(parse_qsl(urlsplit(path).query))
            filters = SearchFilters(
                name_words=tuple(name_words(params.get("q"))),
                profession=normalized(params["profession"]) if "profession" in params else None,
                postcode=params.get("postcode"),
                municipality=normalized(params["municipality"])
                if "municipality" in params
                else None,
                target_group=normalized(params["target_group"])
                if "target_group" in params
                else None,
                language=params.get("language"),
                kind=params.get("type"),
            )
            counts = None
            if needs_counts(filters):
                compiled = count_statement(filters).compile(
                    dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
                )
                counts = list(await connection.fetchrow(str(compiled)))
            driver = choose_driver(filters, counts)
            statement = search_statement(filters, driver, limit=21, offset=0)
            sql = str(
                statement.compile(
                    dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
                )
            )
            rows = await connection.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(r[0] for r in rows)
            plans.append(
                f"### {kind}: `{path}` ({elapsed * 1000:.1f} ms under load; counts {counts}, "
                f"start: {'name order' if driver is None else driver})\n\n```\n{plan}\n```\n"
            )
    finally:
        await connection.close()
    return plans


async def main(args: argparse.Namespace) -> str:
    require_wrk()
    from directory.config import DirectorySettings
    from directory.entrypoints.app import build_component
    from servicekit.embedded_broker import free_loopback_port
    from servicekit.settings import KafkaSettings, PlatformSettings

    admin = await asyncpg.connect(args.admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{args.database}"')
    finally:
        await admin.close()
    base = args.admin_url.rsplit("/", 1)[0]
    url = f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{args.database}"
    server: subprocess.Popen[bytes] | None = None
    try:
        component = build_component(
            PlatformSettings(data_dir=Path(tempfile.mkdtemp(prefix="skaart-bench-search-"))),
            KafkaSettings(bootstrap_servers="127.0.0.1:1"),
            DirectorySettings(database_url=url),
        )
        await component.runtime.migrate()
        await component.runtime.engine.dispose()
        load_s, sample = await load(url, args.providers, args.practices)
        print(f"loaded in {load_s:.0f} s ({sample['terms']:,} terms, {sample['offers']:,} offers)")

        def health() -> Iterator[tuple[str, str]]:
            while True:
                yield "health", "/api/directory/healthz"

        def search() -> Iterator[tuple[str, str]]:
            for kind, params in queries(sample):
                yield kind, "/api/fiches/search?" + urlencode(params)

        generated = search()
        search_paths = [next(generated)[1] for _ in range(20_000)]
        environment = {**os.environ, "SKAART_LOG_LEVEL": "WARNING"}
        if args.no_response_cache:
            environment["DIRECTORY_RESPONSE_CACHE_ENTRIES"] = "0"
        if args.driver == "wrk":
            # The floor: the same statements on raw asyncpg (bench/floor.py); recorded on
            # each question's second run, as a warm server skips the selectivity counts.
            started = time.perf_counter()
            recording = await floor.record(url, search_paths, passes=2)
            folder = Path(tempfile.mkdtemp(prefix="skaart-bench-floor-"))
            environment["SKAART_BENCH_FLOOR"] = str(floor.save(recording, folder))
            print(f"floor: {len(recording):,} questions in {time.perf_counter() - started:.0f} s")
        port = free_loopback_port()
        command = [sys.executable, __file__, "--serve", url, "--port", str(port)]
        command += ["--workers", str(args.workers)]
        server = subprocess.Popen(command, cwd=ROOT, env=environment)
        base_url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                async with httpx.AsyncClient() as probe:
                    if (await probe.get(f"{base_url}/api/directory/healthz")).status_code == 200:
                        break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)

        if args.driver == "wrk":
            # Warm-up: connections, caches, the planner's statistics.
            drive_wrk(base_url, args.clients, 5, search_paths)
            drive_wrk(base_url, args.clients, 5, floor.floor_paths(search_paths))
            bare = drive_wrk(base_url, args.clients, args.seconds, ["/api/directory/healthz"])
            under = drive_wrk(base_url, args.clients, args.seconds, floor.floor_paths(search_paths))
            found = drive_wrk(base_url, args.clients, args.seconds, search_paths)
            alone = drive_wrk(base_url, 1, min(args.seconds, 10), search_paths)
            return _wrk_table(args, sample, load_s, bare, found, alone, under)
        # Warm-up: connections, caches, the planner's statistics.
        await drive(base_url, args.clients, 3, search())
        await drive(base_url, args.clients, 2, health())
        health_lat, health_s, health_err, _ = await drive(
            base_url, args.clients, args.seconds, health()
        )
        search_lat, search_s, search_err, slowest = await drive(
            base_url, args.clients, args.seconds, search()
        )
        # The same mix from one client: the cost of a request without queueing.
        single_lat, single_s, _, _ = await drive(base_url, 1, min(args.seconds, 10), search())
        plans = await explain(url, slowest)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        admin = await asyncpg.connect(args.admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        finally:
            await admin.close()

    everything = [x for values in search_lat.values() for x in values]
    health_rps = len(health_lat["health"]) / health_s
    search_rps = len(everything) / search_s
    lines = [
        f"Public search, {args.providers:,} providers + {args.practices:,} practices "
        f"({sample['terms']:,} search terms), PostgreSQL, one uvicorn worker, "
        f"{args.clients} concurrent clients, {args.seconds:.0f} s per row; "
        f"machine: {os.cpu_count()} cores shared with other work (load generator and "
        "server on the same cores).",
        "",
        "| endpoint | requests | errors | req/s | p50 ms | p95 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| bare /api/directory/healthz | {len(health_lat['health'])} | {health_err} | "
        f"{health_rps:.0f} | {_pct(health_lat['health'], 0.5):.1f} | "
        f"{_pct(health_lat['health'], 0.95):.1f} | {_pct(health_lat['health'], 0.99):.1f} |",
        f"| **search, all kinds** | {len(everything)} | {search_err} | {search_rps:.0f} | "
        f"{_pct(everything, 0.5):.1f} | {_pct(everything, 0.95):.1f} | "
        f"{_pct(everything, 0.99):.1f} |",
    ]
    single = [x for values in single_lat.values() for x in values]
    lines.append(
        f"| search, 1 client (no queueing) | {len(single)} | | {len(single) / single_s:.0f} | "
        f"{_pct(single, 0.5):.1f} | {_pct(single, 0.95):.1f} | {_pct(single, 0.99):.1f} |"
    )
    for kind, values in sorted(search_lat.items()):
        lines.append(
            f"| search ({args.clients} clients): {kind} | {len(values)} | | | "
            f"{_pct(values, 0.5):.1f} | {_pct(values, 0.95):.1f} | {_pct(values, 0.99):.1f} |"
        )
    p95 = _pct(everything, 0.95)
    ratio = search_rps / health_rps
    lines += [
        "",
        f"- search p95 {p95:.1f} ms: target < 50 ms — {'met' if p95 < 50 else 'MISSED'}",
        f"- search throughput {ratio:.0%} of the bare endpoint's: target >= 30% — "
        f"{'met' if ratio >= 0.3 else 'MISSED'}",
        f"- mean search latency {statistics.fmean(everything) * 1000:.1f} ms "
        f"(bare endpoint {statistics.fmean(health_lat['health']) * 1000:.1f} ms)",
        f"- bulk load (not measured): {load_s:.0f} s",
        "",
        "## Query plans of the slowest request of each kind",
        "",
        *plans,
    ]
    return "\n".join(lines)


def _wrk_table(
    args: argparse.Namespace,
    sample: dict[str, Any],
    load_s: float,
    bare: dict[str, float],
    found: dict[str, float],
    alone: dict[str, float],
    under: dict[str, float],
) -> str:
    def row(name: str, figures: dict[str, float]) -> str:
        return (
            f"| {name} | {figures['requests']:.0f} | {figures['errors']:.0f} | "
            f"{figures['rps']:.0f} | {figures['p50']:.1f} | {figures['p95']:.1f} | "
            f"{figures['p99']:.1f} |"
        )

    ratio = found["rps"] / bare["rps"]
    cache = ", no response cache" if args.no_response_cache else ""
    return "\n".join(
        [
            f"Public search, {args.providers:,} providers + {args.practices:,} practices "
            f"({sample['terms']:,} search terms), PostgreSQL, {args.workers} uvicorn "
            f"worker(s), load from wrk with {args.clients} connections, "
            f"{args.seconds:.0f} s per row; machine: {os.cpu_count()} cores shared by the "
            "server, PostgreSQL and wrk.",
            "",
            "| endpoint | requests | errors | req/s | p50 ms | p95 ms | p99 ms |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            row("bare /api/directory/healthz", bare),
            row("floor: the same statements on raw asyncpg (bench/floor.py)", under),
            row(f"**search, {args.clients} connections{cache}**", found),
            row("search, 1 connection (no queueing)", alone),
            "",
            f"- search p95 {found['p95']:.1f} ms: target < 50 ms — "
            f"{'met' if found['p95'] < 50 else 'MISSED'}",
            f"- search throughput {ratio:.0%} of the bare endpoint's: target >= 30% — "
            f"{'met' if ratio >= 0.3 else 'MISSED'}",
            f"- floor (the same statements on raw asyncpg, same server, same questions): "
            f"p95 {under['p95']:.1f} ms, {under['rps'] / bare['rps']:.0%} of the bare "
            "endpoint's throughput",
            f"- bulk load (not measured): {load_s:.0f} s",
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
        "--admin-url",
        default=os.environ.get(
            "SKAART_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument(
        "--driver",
        choices=["wrk", "httpx"],
        default="wrk" if shutil.which("wrk") else "httpx",
        help="load generator: wrk (Debian package `wrk`; default when installed) or httpx",
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--database", default=DATABASE, help="the database to create and drop")
    parser.add_argument(
        "--no-response-cache",
        action="store_true",
        help="serve with DIRECTORY_RESPONSE_CACHE_ENTRIES=0: every request a cache miss",
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        serve(arguments.serve, arguments.port, arguments.workers)
        sys.exit(0)
    table = asyncio.run(main(arguments))
    print(table)
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / "fiches_search.md").write_text(table + "\n")
