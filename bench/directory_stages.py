"""Where a directory's catch-up spends its rebuild: building vs writing (a script, not a test).

    .venv/bin/python bench/directory_stages.py [--events 100000] [--without-building-ahead]
        [--gc tuned|default]

Runs the catch-up of bench/directory.py (bench/directory_catch_up.py) with the rebuild's
steps wrapped in timers and prints the seconds spent in each, summed over the catch-up:
building (reading facts, building hits and resources: `prepare_rebuild` and its parts)
and writing (`write_rebuild` and its parts). With the idle flush building its next
chunk ahead, the two overlap, so their sum exceeds the flush's own time (`rebuild_pending`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

# This folder holds a `directory.py`, named like the service package: keep the folder off
# the import path while the package is imported, as bench/directory.py does.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import directory.handlers.projection as projection  # noqa: E402
import directory.handlers.rebuild as rebuild  # noqa: E402
import directory.handlers.standards as standards  # noqa: E402

sys.path.append(str(_HERE))
import directory_catch_up  # noqa: E402

SPENT: defaultdict[str, float] = defaultdict(float)


def _timed(owner: Any, name: str, label: str) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            SPENT[label] += time.perf_counter() - started

    setattr(owner, name, timed)


def wrap() -> None:
    _timed(rebuild, "_build_providers", "build: search hits of providers")
    _timed(rebuild, "_build_practices", "build: search hits of practices")
    _timed(standards, "build_standards", "build: FHIR and HSDS resources")
    _timed(rebuild, "_forget", "write: deleting what the fiches had")
    _timed(rebuild, "insert_rows", "write: search documents and terms")
    _timed(rebuild, "write_search_prefixes", "write: search name prefixes")
    _timed(standards, "_existing", "write: reading stored resources")
    _timed(standards, "_write_resources", "write: standard resources")
    _timed(standards, "_write_terms", "write: standard terms and prefixes")
    _timed(projection, "write_rebuild", "write: all")
    _timed(projection.DirectoryProjection, "rebuild_pending", "the idle flush's transactions")


async def main(args: argparse.Namespace) -> str:
    wrap()
    if args.without_building_ahead:
        directory_catch_up.without_building_ahead()
    caught = await directory_catch_up.catch_up(
        args.admin_url, args.events, "skaart_bench_stages", args.gc
    )
    rows = [f"| {label} | {seconds:.1f} s |" for label, seconds in sorted(SPENT.items())]
    return "\n".join(
        [
            f"catching up {args.events:,} events: {caught['catch_up_s']:.1f} s "
            f"(floor {caught['write_s'] + caught['build_s']:.1f} s; "
            f"{caught['collector_s']:.1f} s in the garbage collector, {args.gc})",
            "",
            "| step, summed over the catch-up | seconds |",
            "| --- | --- |",
            *rows,
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--without-building-ahead", action="store_true")
    parser.add_argument("--gc", choices=("tuned", "default"), default="tuned")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "SKAART_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    print(asyncio.run(main(parser.parse_args())))
