"""The portal's pages under load (a script, not a test).

    .venv/bin/python bench/portal.py [--users 20] [--seconds 15]

Starts `skaart up` (demo data, embedded broker) on a free port, then, one after the
other, lets USERS concurrent clients request for SECONDS each:

* the public search page `/zoeken?beroep=huisarts` (portal → fiches' search API),
* a provider fiche page `/zorgverleners/{id}` (portal → fiches, twice: the fiche and the
  practices where the provider works),
* the two APIs behind them, called directly (the portal's own cost is the difference),
* the bare liveness endpoint `/healthz` of the same server (the ceiling of the process).

The load comes from wrk when it is installed (C: it costs the server's cores far less than
a Python client, so the figures are the server's), else from httpx in this process.

Prints one Markdown row per target: requests/s, p50, p95, p99 and errors, and the pages'
throughput as a share of the bare endpoint's.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fiches_search import drive_wrk, require_wrk
from tests.portal.platform_process import running_monolith


async def _load(base: str, path: str, users: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def user(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await client.get(path)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                errors += 1

    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        await client.get(path)  # warm up
        began = time.perf_counter()
        await asyncio.gather(*(user(client) for _ in range(users)))
        elapsed = time.perf_counter() - began
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(ordered) * 1000,
        "p95": pct(0.95),
        "p99": pct(0.99),
        "errors": errors,
        "count": len(latencies),
    }


def main(users: int, seconds: float) -> None:
    require_wrk()
    with running_monolith(Path(tempfile.mkdtemp(prefix="skaart-bench-portal-"))) as monolith:
        base = monolith.base_url
        hit = httpx.get(base + "/api/fiches/providers", params={"limit": 1}).json()["items"][0]
        targets = [
            ("search page `/zoeken?beroep=huisarts`", "/zoeken?beroep=huisarts"),
            ("fiche page `/zorgverleners/{id}`", f"/zorgverleners/{hit['fiche_id']}"),
            # The APIs behind the pages, to tell the portal's own cost from the services'.
            ("search API `/api/fiches/search`", "/api/fiches/search?profession=physician"),
            ("fiche API `/api/fiches/providers/{id}`", f"/api/fiches/providers/{hit['fiche_id']}"),
            ("bare `/healthz`", "/healthz"),
        ]
        if shutil.which("wrk"):
            results = {name: drive_wrk(base, users, seconds, [path]) for name, path in targets}
        else:
            results = {
                name: asyncio.run(_load(base, path, users, seconds)) for name, path in targets
            }
    bare = results["bare `/healthz`"]["rps"]
    driver = "wrk" if shutil.which("wrk") else "httpx"
    print(f"\n{users} concurrent users ({driver}), {seconds:.0f} s per target\n")
    print("| target | requests/s | p50 ms | p95 ms | p99 ms | errors | share of bare |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} "
            f"| {r['errors']:.0f} | {r['rps'] / bare:.0%} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    arguments = parser.parse_args()
    main(arguments.users, arguments.seconds)
