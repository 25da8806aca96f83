"""What the HTTP benchmarks share: the directory app under uvicorn, and wrk as the load.

bench/fiches_search.py and bench/directory.py drive the same server the same way, so
their figures compare. The server's garbage collector is tuned as `skaart serve` tunes it
(servicekit/gc_tuning.py), unless SKAART_BENCH_GC=default.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any


def bench_app() -> Any:
    """uvicorn factory (one per worker process): the directory app on SKAART_BENCH_SEARCH_URL."""
    return _app(os.environ["SKAART_BENCH_SEARCH_URL"])


def serve(url: str, port: int, workers: int = 1) -> None:
    """Subprocess entry: the directory app (search wired in) on 127.0.0.1:port."""
    import uvicorn

    common: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "log_level": "warning",
        "access_log": False,
        "timeout_keep_alive": 60,
    }
    if workers == 1:
        uvicorn.run(_app(url), **common)
        return
    os.environ["SKAART_BENCH_SEARCH_URL"] = url
    uvicorn.run(
        "load_runner:bench_app",
        factory=True,
        app_dir=str(Path(__file__).parent),
        workers=workers,
        **common,
    )


def _app(url: str) -> Any:
    from servicekit.gc_tuning import tune_for_long_running_service

    app = build_app(url)
    floor_recording = os.environ.get("SKAART_BENCH_FLOOR")
    if floor_recording:
        _floor().mount(app, url, floor_recording)
    if os.environ.get("SKAART_BENCH_GC", "tuned") == "tuned":
        tune_for_long_running_service()  # as `skaart serve` does once its app is built
    return app


def _floor() -> Any:
    """bench/floor.py, loaded by file (bench/ may be off the import path)."""
    import importlib.util
    import sys

    if "floor" not in sys.modules:
        spec = importlib.util.spec_from_file_location("floor", Path(__file__).parent / "floor.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["floor"] = module
        spec.loader.exec_module(module)
    return sys.modules["floor"]


def build_app(url: str, *, response_cache_entries: int | None = None) -> Any:
    """The directory app as the service serves it (`response_cache_entries`: the setting's
    default unless given)."""
    from directory.config import DirectorySettings
    from directory.entrypoints.app import build_component
    from servicekit.http import api_app, health_router, metrics_router
    from servicekit.settings import KafkaSettings, PlatformSettings

    settings = DirectorySettings(database_url=url)
    if response_cache_entries is not None:
        settings = settings.model_copy(update={"response_cache_entries": response_cache_entries})
    component = build_component(
        PlatformSettings(data_dir=Path(tempfile.mkdtemp(prefix="skaart-bench-search-"))),
        KafkaSettings(bootstrap_servers="127.0.0.1:1"),
        settings,
    )
    app = api_app()
    for router in component.api_routers():
        app.include_router(router)
    app.include_router(health_router(component.runtime.readiness))
    app.include_router(metrics_router())
    app.state.component = component
    return app


_WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("SKAART_BENCH_PATHS")) do paths[#paths + 1] = line end
local counter = 0
function setup(thread) counter = counter + 1; thread:set("offset", counter * 7919) end
function init(args) position = offset or 0 end
function request()
  position = position + 1
  return wrk.format("GET", paths[(position % #paths) + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %.3f %.3f %.3f\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


def require_wrk() -> None:
    """Stop before any loading when wrk is missing, saying how to get it."""
    if shutil.which("wrk") is None:
        raise SystemExit(
            "wrk is not installed: the HTTP benchmarks drive their server with it. "
            "Install it (Debian: apt-get install wrk) and run the command again."
        )


def drive_wrk(base_url: str, clients: int, seconds: float, paths: list[str]) -> dict[str, float]:
    """wrk (C, event loop) as the load generator: it costs the server's cores far less than
    a Python client would, so the figures are the server's. Latency in ms."""
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "paths.lua"
        script.write_text(_WRK_SCRIPT)
        listing = Path(folder) / "paths.txt"
        listing.write_text("\n".join(paths) + "\n")
        command = ["wrk", f"-t{min(2, clients)}", f"-c{clients}", f"-d{int(seconds)}s"]
        command += ["--timeout", "10s", "-s", str(script), base_url]
        output = subprocess.run(
            command,
            env={**os.environ, "SKAART_BENCH_PATHS": str(listing)},
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK "))
    requests, duration_us, errors, p50, p95, p99 = line.split()[1:]
    return {
        "requests": int(requests),
        "rps": int(requests) / (int(duration_us) / 1e6),
        "errors": int(errors),
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
    }


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_cpu_s(pid: int) -> float:
    """User plus system CPU seconds of one process (Linux /proc), 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _postgres_cpu_s() -> float:
    """CPU seconds of every process named `postgres` on this machine (its backends and
    background workers); 0 where PostgreSQL runs elsewhere."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
        except OSError:
            continue
        total += _process_cpu_s(int(entry.name))
    return total


def _idle_s() -> float:
    """Seconds every core of this machine has been idle (the `cpu` line of /proc/stat)."""
    return int(Path("/proc/stat").read_text().split()[4]) / _TICK


def drive_wrk_counting_cpu(
    base_url: str, clients: int, seconds: float, paths: list[str], server_pid: int
) -> dict[str, float]:
    """`drive_wrk`, with where the machine's CPU went meanwhile: the server's process and
    PostgreSQL's, in ms per request, and how many cores stood idle on average. Which of
    them bounds a search shows there: a server near one core is its one worker's limit,
    idle cores say that neither it nor PostgreSQL was kept busy."""
    if not Path("/proc/stat").exists():
        return {**drive_wrk(base_url, clients, seconds, paths), "cpu_counted": 0}
    server_before, postgres_before, idle_before = (
        _process_cpu_s(server_pid),
        _postgres_cpu_s(),
        _idle_s(),
    )
    figures = drive_wrk(base_url, clients, seconds, paths)
    requests = max(1, int(figures["requests"]))
    return {
        **figures,
        "cpu_counted": 1,
        "server_ms": (_process_cpu_s(server_pid) - server_before) * 1000 / requests,
        "postgres_ms": (_postgres_cpu_s() - postgres_before) * 1000 / requests,
        "idle_cores": (_idle_s() - idle_before) / seconds,
    }
