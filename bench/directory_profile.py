"""Where a public read's Python time goes: cProfile around requests through the app in process.

    .venv/bin/python bench/directory_profile.py [--providers 30000] [--practices 5000]
        [--database skaart_bench_profile] [--load] [--requests 400] [--top 25]
        [--shape postcode --shape near --shape hsds --shape search]

With `--load` the database is created and loaded as bench/directory.py loads it (the same
data, the public search's index included) and kept, with the questions' sample beside it
(/tmp/<database>.sample.json); without it that earlier load is reused. The app is the
benchmark server's (bench/load_runner.py) without the response cache, so every request is
a cache miss. Per shape, REQUESTS distinct questions from the benchmarks' own mixes are
asked twice to warm up (statements compiled, the search's selectivity counts known, as in
a warm server), then again under cProfile, 10 at a time through httpx's ASGITransport (no
sockets). Printed per shape: wall and CPU time per request, the profile's top functions by
own time and by cumulative time. A profile in process leaves out uvicorn's HTTP parsing
(which the bare endpoint pays too) and adds httpx's client side.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import io
import json
import os
import pstats
import random
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx

_HERE = Path(__file__).resolve().parent


def _by_file(name: str, file: str) -> Any:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, _HERE / file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# bench/directory.py is named like the service's package: loaded by file, under another name.
bench_directory = _by_file("bench_directory", "directory.py")
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
directory_data = sys.modules["directory_data"]
load_runner = sys.modules["load_runner"]


async def _load(admin_url: str, database: str, providers: int, practices: int) -> dict[str, Any]:
    from directory.config import DirectorySettings
    from directory.entrypoints.app import build_component
    from servicekit.settings import KafkaSettings, PlatformSettings

    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    url = _url(admin_url, database)
    component = build_component(
        PlatformSettings(data_dir=Path(f"/tmp/{database}-data")),
        KafkaSettings(bootstrap_servers="127.0.0.1:1"),
        DirectorySettings(database_url=url),
    )
    await component.runtime.migrate()
    await component.runtime.engine.dispose()
    load_s, sample = await bench_directory.load(url, providers, practices)
    provider_rows, practice_rows, _ = directory_data.generate(providers, practices)
    bench_directory._at_real_places(practice_rows)
    sample["last_names"] = [p["official_last_name"] for p in provider_rows[:5000]]
    sample["places"] = sorted(
        {
            (p["facts"]["addresses"][0]["postcode"], p["facts"]["addresses"][0]["municipality"])
            for p in practice_rows
        }
    )
    print(f"loaded in {load_s:.0f} s")
    return sample


def _url(admin_url: str, database: str) -> str:
    base = admin_url.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{database}"


def search_paths(sample: dict[str, Any], count: int) -> list[str]:
    """The public search's mix (bench/fiches_search.py), without `near`."""
    fiches_search = _by_file("bench_fiches_search", "fiches_search.py")
    generated = fiches_search.queries(
        {**sample, "first_names": directory_data.FIRST, "places": sample["places"]}
    )
    return ["/api/directory/search?" + urlencode(next(generated)[1]) for _ in range(count)]


def questions(sample: dict[str, Any], count: int) -> dict[str, list[str]]:
    shapes = bench_directory.request_paths(sample)
    named = {
        "postcode": shapes["FHIR PractitionerRole?address-postalcode="],
        "near": shapes["FHIR PractitionerRole?near= (1-5 km)"],
        "hsds": shapes["HSDS /services?search="],
    }
    found = {name: list(dict.fromkeys(paths))[:count] for name, paths in named.items()}
    found["search"] = list(dict.fromkeys(search_paths(sample, count * 3)))[:count]
    return found


async def _ask(client: httpx.AsyncClient, paths: list[str], concurrency: int = 10) -> None:
    queue = list(reversed(paths))

    async def worker() -> None:
        while queue:
            path = queue.pop()
            response = await client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {response.status_code} {response.text[:200]}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))


_PACKAGES = (
    ("directory service", "/services/directory/"),
    ("servicekit", "/servicekit/"),
    ("fastapi", "/fastapi/"),
    ("starlette", "/starlette/"),
    ("pydantic", "/pydantic"),
    ("sqlalchemy", "/sqlalchemy/"),
    ("asyncpg", "/asyncpg/"),
    ("httpx (the client)", "/httpx/"),
    ("asyncio", "/asyncio/"),
    ("this script", "/bench/"),
)


def _by_package(profile: cProfile.Profile, requests: int) -> str:
    """Own time per request, summed per package (C functions counted with their caller's
    package when cProfile names no file)."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    totals: dict[str, float] = {}
    for (file, _, _name), (_, _, own, _, callers) in stats.items():
        where = file
        if file == "~" and callers:
            where = next(iter(callers))[0]
        package = next((name for name, part in _PACKAGES if part in where), "other")
        totals[package] = totals.get(package, 0.0) + own
    rows = sorted(totals.items(), key=lambda item: -item[1])
    return "own time per request: " + ", ".join(
        f"{name} {seconds * 1000 / requests:.3f} ms" for name, seconds in rows
    )


async def main(args: argparse.Namespace) -> None:
    sample_file = Path(f"/tmp/{args.database}.sample.json")
    if args.load:
        sample = await _load(args.admin_url, args.database, args.providers, args.practices)
        sample_file.write_text(json.dumps(sample))
    sample = json.loads(sample_file.read_text())
    sample["points"] = [tuple(p) for p in sample["points"]]
    random.seed(1)
    app = load_runner.build_app(_url(args.admin_url, args.database), response_cache_entries=0)
    asked = questions(sample, args.requests)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for name in args.shape or ["postcode", "near", "hsds", "search"]:
                paths = asked[name]
                await _ask(client, paths)
                await _ask(client, paths)
                await _ask(client, ["/api/directory/healthz"] * len(paths))
                started, cpu = time.perf_counter(), time.process_time()
                await _ask(client, ["/api/directory/healthz"] * len(paths))
                bare_ms = (time.process_time() - cpu) * 1000 / len(paths)
                cpu = time.process_time()
                await _ask(client, paths)
                plain_ms = (time.process_time() - cpu) * 1000 / len(paths)
                profile = cProfile.Profile()
                started, cpu = time.perf_counter(), time.process_time()
                profile.enable()
                await _ask(client, paths)
                profile.disable()
                wall = (time.perf_counter() - started) * 1000 / len(paths)
                cpu_ms = (time.process_time() - cpu) * 1000 / len(paths)
                print(
                    f"\n## {name}: {len(paths)} requests; CPU of this process per request "
                    f"(server and client): {plain_ms:.2f} ms, healthz {bare_ms:.2f} ms; "
                    f"under the profiler {cpu_ms:.2f} ms (wall {wall:.2f} ms)"
                )
                print(_by_package(profile, len(paths)))
                for order in ("tottime", "cumulative"):
                    out = io.StringIO()
                    pstats.Stats(profile, stream=out).sort_stats(order).print_stats(args.top)
                    text = out.getvalue()
                    print(text[text.find("   ncalls") :])
    finally:
        await app.state.component.runtime.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--providers", type=int, default=30_000)
    parser.add_argument("--practices", type=int, default=5_000)
    parser.add_argument("--database", default="skaart_bench_profile")
    parser.add_argument("--load", action="store_true", help="create and load the database")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--shape", action="append", choices=("postcode", "near", "hsds", "search"))
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "SKAART_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    asyncio.run(main(parser.parse_args()))
