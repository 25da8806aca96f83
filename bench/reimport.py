"""The unchanged re-import of registry-sync, without a broker (a script, not a test).

    .venv/bin/python bench/reimport.py [--count 500000] [--backends sqlite,postgresql]
        [--before /work/main/.venv/bin/python] [--repeat 3] [--profile DIR]

Per database backend, with `KAFKA_BOOTSTRAP_SERVERS` unset (the events stay queued in
registry-sync's outbox, so publishing is not included), in one go:
1. the first import of COUNT generated professionals (`skaart registry import` in a child
   process), queued;
2. the baselines of the same run: reading and hashing (blake2b) every line of the
   snapshot in Python, and the start of a `skaart` process that does nothing
   (`skaart --help`); with `--before`, the same start under that interpreter. Before
   them the checkout's modules are compiled to bytecode, as an installed platform has
   them (`compile_sources`);
3. the same snapshot again, `--repeat` times: the whole command (wall time of the child
   process) and the run itself (its sync-run record: without the process start), and
   their ratio to the hashing baseline. With `--before PYTHON` (an interpreter whose
   environment has another checkout installed, e.g. main's `.venv`), each repetition
   also runs that checkout's `skaart registry import` on the same database, alternating
   with this one, so both see the same machine load. Both must share the schema.

`--phases N` then times the run's phases in process, N times under each interpreter
(`bench/reimport_phases.py`: reading the stored digests, the check pass, counting who is
missing, the sync-run records). `--profile DIR` writes a cProfile of one more re-import
per backend to DIR.
Prints a Markdown table (medians of the repetitions); writes it to
bench/results/reimport.md too.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from national_scale import _database_url as database_url  # the script's folder
from national_scale import _drop_database as drop_database
from national_scale import latest_sync_run
from pipeline_baselines import BenchError, peak_rss_until_exit
from script_output import measure_table, script_parser, write_result

from registry_sync.simulator.demo_data import generate_professionals, write_snapshot

SEED = 42
IMPORT_TIMEOUT_S = 1800.0
CLI = "from skaart.cli import main; main()"


def read_and_hash_seconds(path: Path) -> tuple[float, float]:
    """Read every line of `path` and blake2b it: the floor of an unchanged re-import.

    (wall seconds, CPU seconds)."""
    started, cpu = time.perf_counter(), time.process_time()
    with path.open("rb") as lines:
        for line in lines:
            hashlib.blake2b(line, digest_size=16).digest()
    return time.perf_counter() - started, time.process_time() - cpu


#: The packages `skaart registry import` loads from a checkout.
PACKAGES = ("contracts", "servicekit", "skaart", "registry_sync")


def compile_sources(python: str, cwd: Path) -> None:
    """Write the bytecode of the checkout's packages for this interpreter, as installing
    the platform does (pip compiles a wheel's modules; the image then runs with
    PYTHONDONTWRITEBYTECODE=1). Without it, a checkout run with that variable set (this
    machine's environment) compiles some 55 of its own modules at every start."""
    script = (
        "import compileall, importlib, os\n"
        f"for name in {PACKAGES!r}:\n"
        "    folder = os.path.dirname(importlib.import_module(name).__file__)\n"
        "    compileall.compile_dir(folder, quiet=1)\n"
    )
    subprocess.run([python, "-c", script], cwd=cwd, stdout=subprocess.DEVNULL, check=True)


def _children_cpu() -> float:
    """CPU seconds (user + system) of the child processes waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def start_seconds(python: str, env: dict[str, str], cwd: Path, *args: str) -> tuple[float, float]:
    """`skaart ARGS --help` in a child process: what a command pays before it starts.

    (wall seconds, CPU seconds)."""
    started, cpu = time.perf_counter(), _children_cpu()
    subprocess.run(
        [python, "-c", CLI, *args, "--help"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - started, _children_cpu() - cpu


@dataclass
class Measured:
    seconds: float
    cpu_seconds: float
    """CPU of the whole command (user + system), which a loaded machine distorts less."""
    run_seconds: float
    rss_mb: float
    events: int
    unchanged: int


def _child(
    python: str, path: Path, env: dict[str, str], profile: Path | None
) -> tuple[float, float, float]:
    """(seconds, CPU seconds, peak RSS MB) of `skaart registry import` in a child process."""
    command = [python, "-c", CLI]
    if profile is not None:
        command = [python, "-m", "cProfile", "-o", str(profile), "-m", "skaart.cli"]
    command += ["registry", "import", str(path)]
    log = path.with_suffix(".import.log")
    with log.open("wb") as stderr:
        started, cpu = time.perf_counter(), _children_cpu()
        # Run from the snapshot's folder: `python -c` puts the working directory first on
        # the path, and a checkout there would shadow the interpreter's own packages.
        child = subprocess.Popen(
            command, env=env, cwd=path.parent, stdout=subprocess.DEVNULL, stderr=stderr
        )
        peak = peak_rss_until_exit(child, IMPORT_TIMEOUT_S, f"import of {path.name}")
        elapsed = time.perf_counter() - started
        cpu = _children_cpu() - cpu
    if child.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise BenchError(f"import of {path.name} failed ({child.returncode}):\n{tail}")
    return elapsed, cpu, peak / 2**20


async def measured_import(
    python: str, path: Path, env: dict[str, str], url: str, profile: Path | None = None
) -> Measured:
    seconds, cpu, peak_mb = await asyncio.to_thread(_child, python, path, env, profile)
    counts, run_seconds = await latest_sync_run(url)
    return Measured(
        seconds,
        cpu,
        run_seconds,
        peak_mb,
        int(counts.get("events", -1)),
        int(counts.get("unchanged", -1)),
    )


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _load() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


async def run_backend(
    backend: str, work: Path, snapshot: Path, args: argparse.Namespace
) -> list[tuple[str, str, str]]:
    url = await database_url(backend, work, "reimport")
    env = {key: value for key, value in os.environ.items() if not key.startswith("KAFKA_")}
    env |= {"SKAART_DATA_DIR": str(work), "REGISTRY_SYNC_DATABASE_URL": url}
    this = sys.executable
    rows: list[tuple[str, str, str]] = []
    try:
        load_before = _load()
        first = await measured_import(this, snapshot, env, url)
        rows.append(
            (
                f"{backend}: first import (queued, not published)",
                f"{first.seconds:.1f} s",
                f"{first.events:,} events; run itself {first.run_seconds:.1f} s; "
                f"peak RSS {first.rss_mb:.0f} MB",
            )
        )
        hashed = [read_and_hash_seconds(snapshot) for _ in range(3)]
        hashing = _median([wall for wall, _ in hashed])
        hashing_cpu = _median([cpu for _, cpu in hashed])
        rows.append(
            (
                f"{backend}: reading and hashing every line (blake2b, Python)",
                f"{hashing:.2f} s ({hashing_cpu:.2f} s CPU)",
                "baseline, median of 3",
            )
        )
        pythons = [("before: ", args.before)] if args.before else []
        pythons.append(("", this))
        for _, python in pythons:
            compile_sources(python, work)
        for label, python in pythons:
            for command in ((), ("registry", "import")):
                started = [start_seconds(python, env, work, *command) for _ in range(3)]
                start = _median([wall for wall, _ in started])
                start_cpu = _median([cpu for _, cpu in started])
                rows.append(
                    (
                        f"{backend}: {label}`skaart {' '.join((*command, '--help'))}` "
                        "(process start)",
                        f"{start:.2f} s ({start_cpu:.2f} s CPU)",
                        "median of 3",
                    )
                )
        these: list[Measured] = []
        before: list[Measured] = []
        for _ in range(args.repeat):
            if args.before:
                before.append(await measured_import(args.before, snapshot, env, url))
            these.append(await measured_import(this, snapshot, env, url))
        for label, runs in (("before: ", before), ("", these)):
            if not runs:
                continue
            if any(run.events != 0 or run.unchanged != args.count for run in runs):
                raise BenchError(f"{label}a re-import changed something: {runs}")
            whole = _median([run.seconds for run in runs])
            whole_cpu = _median([run.cpu_seconds for run in runs])
            itself = _median([run.run_seconds for run in runs])
            rows.append(
                (
                    f"{backend}: {label}same snapshot again, whole command",
                    f"{whole:.2f} s ({whole_cpu:.2f} s CPU)",
                    f"{whole / hashing:.1f}x the hashing time ({whole_cpu / hashing_cpu:.1f}x "
                    f"in CPU); median of {len(runs)} "
                    f"({', '.join(f'{run.seconds:.2f}' for run in runs)}); "
                    f"peak RSS {max(run.rss_mb for run in runs):.0f} MB",
                )
            )
            rows.append(
                (
                    f"{backend}: {label}same snapshot again, run itself",
                    f"{itself:.2f} s",
                    f"{itself / hashing:.1f}x the hashing time; median of {len(runs)} "
                    f"({', '.join(f'{run.run_seconds:.2f}' for run in runs)})",
                )
            )
        if args.phases:
            rows += _phase_rows(backend, pythons, snapshot, env, url, args.phases)
        if args.profile:
            out = Path(args.profile) / f"reimport-{backend}.prof"
            out.parent.mkdir(parents=True, exist_ok=True)
            await measured_import(this, snapshot, env, url, profile=out)
            rows.append((f"{backend}: profile", str(out), "one more re-import under cProfile"))
        rows.append(
            (
                f"{backend}: load average (1, 5, 15 min), before and after",
                f"{load_before} / {_load()}",
                f"{os.cpu_count()} CPUs; other work on the machine counts in it",
            )
        )
    finally:
        await drop_database(url)
    return rows


PHASE_NAMES = {
    "load_stored_index": "reading the stored digests (beside the first lines' hashing)",
    "_check": "check pass over every line",
    "_refuse_mass_removal": "counting who is missing",
    "start_run": "sync-run record: start",
    "finish_run": "sync-run record: finish",
    "import_snapshot": "the whole run, in process",
}


def _phase_rows(
    backend: str,
    pythons: list[tuple[str, str]],
    snapshot: Path,
    env: dict[str, str],
    url: str,
    repeat: int,
) -> list[tuple[str, str, str]]:
    """`bench/reimport_phases.py` under each interpreter: the run's phases, side by side."""
    script = Path(__file__).with_name("reimport_phases.py")
    measured: dict[str, dict[str, dict[str, float]]] = {}
    for label, python in pythons:
        result = subprocess.run(
            [python, str(script), url, str(snapshot), "--repeat", str(repeat)],
            env=env,
            cwd=snapshot.parent,
            capture_output=True,
            text=True,
            check=True,
        )
        measured[label] = json.loads(result.stdout.strip().splitlines()[-1])
    rows = []
    for name, title in PHASE_NAMES.items():
        cells = [
            f"{label or 'now: '}{phases[name]['wall']:.2f} s ({phases[name]['cpu']:.2f} s CPU)"
            for label, phases in measured.items()
            if name in phases
        ]
        rows.append(
            (
                f"{backend}: in process: {title}",
                " / ".join(cells),
                f"median of {repeat}, wall (CPU of the process)",
            )
        )
    return rows


async def main(args: argparse.Namespace) -> str:
    work = Path(tempfile.mkdtemp(prefix="skaart-bench-reimport-"))
    snapshot = work / "snapshot.jsonl"
    rows: list[tuple[str, str, str]] = [("professionals", f"{args.count:,}", "")]
    try:
        write_snapshot(snapshot, generate_professionals(args.count, SEED))
        for backend in args.backends.split(","):
            measured = await run_backend(backend, work, snapshot, args)
            print("\n".join(f"| {a} | {b} | {c} |" for a, b, c in measured), flush=True)
            rows += measured
    finally:
        # The snapshot and the SQLite database: 1.5 GB at 500,000.
        shutil.rmtree(work, ignore_errors=True)
    return measure_table(rows)


if __name__ == "__main__":
    parser = script_parser(__doc__)
    parser.add_argument("--count", type=int, default=500_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", help="Python of another checkout, measured alternately")
    parser.add_argument("--profile", help="Write a cProfile of one more re-import here")
    parser.add_argument(
        "--phases",
        type=int,
        default=0,
        help="Also time the run's phases in process (bench/reimport_phases.py), N times",
    )
    result = asyncio.run(main(parser.parse_args()))
    print(result)
    write_result("reimport.md", result)
