"""The first import of registry-sync with publishing, this checkout against another one.

    .venv/bin/python bench/first_import.py [--count 500000] [--backends postgresql,sqlite]
        [--before /path/to/another/checkout]

Per backend and per checkout, on a fresh database and a fresh embedded broker:
`skaart registry import` of COUNT generated professionals in a child process, until every
event is published (the command exits only then), and nothing else running; beside it,
in the same run, a bare aiokafka producer's rate on the same broker (the baseline of
issue #15: the import's events per second as a share of it). `--before` runs the other
checkout's code (its source folders first on PYTHONPATH, this environment's packages) on
the same snapshot right before this checkout's, so both see the same machine. Both must
share the command line and the schema.

Reports the wall time, the CPU time of the command with its children (the publishing
process included), the peak RSS of the command with its children, and events/s.
Prints a Markdown table; writes it to bench/results/first_import.md too.
"""

from __future__ import annotations

import asyncio
import os
import resource
import tempfile
from pathlib import Path

from national_scale import _database_url as database_url  # the script's folder
from national_scale import _drop_database as drop_database
from national_scale import bare_producer_rate
from script_output import measure_table, script_parser, write_result

from pipeline import SEED, run_import
from registry_sync.simulator.demo_data import generate_professionals, write_snapshot
from servicekit.embedded_broker import start_embedded_broker
from servicekit.messaging.kafka_clients import ensure_topics
from servicekit.settings import KafkaSettings


def _source_path(checkout: Path) -> str:
    """PYTHONPATH that makes `checkout`'s packages win over the installed ones."""
    services = sorted(str(folder) for folder in (checkout / "services").iterdir())
    return os.pathsep.join([str(checkout), *services])


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _one_import(
    backend: str, snapshot: Path, work: Path, checkout: Path | None
) -> tuple[float, float, float, float]:
    """(seconds, CPU seconds, peak RSS MB, bare producer events/s) of one first import."""
    broker = await start_embedded_broker(log_path=work / f"broker-{backend}.log")
    url = await database_url(backend, work, f"registry-sync-{os.urandom(3).hex()}")
    try:
        kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, enable_idempotence=False)
        await ensure_topics(kafka)
        rate = await bare_producer_rate(broker.bootstrap_servers, 200_000)
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            "KAFKA_ENABLE_IDEMPOTENCE": "false",
            "SKAART_DATA_DIR": str(work),
            "REGISTRY_SYNC_DATABASE_URL": url,
        }
        if checkout is not None:
            env["PYTHONPATH"] = _source_path(checkout)
        cpu_before = _children_cpu()
        seconds, rss_mb = await asyncio.to_thread(run_import, snapshot, env, work)
        return seconds, _children_cpu() - cpu_before, rss_mb, rate
    finally:
        broker.stop()
        await drop_database(url)


async def main(count: int, backends: list[str], before: Path | None) -> str:
    work = Path(tempfile.mkdtemp(prefix="skaart-bench-first-import-"))
    snapshot = work / "snapshot.jsonl"
    write_snapshot(snapshot, generate_professionals(count, SEED))
    events = 2 * count  # ProfessionalRegistered and ProfessionalIdentified per person
    rows: list[tuple[str, str, str]] = [("professionals", f"{count:,}", f"{events:,} events")]
    for backend in backends:
        for label, checkout in (("before", before), ("this checkout", None)):
            if label == "before" and before is None:
                continue
            seconds, cpu, rss_mb, rate = await _one_import(backend, snapshot, work, checkout)
            share = events / seconds / rate
            rows.append(
                (
                    f"{backend}, {label}: first import to every event published",
                    f"{seconds:.1f} s",
                    f"{events / seconds:,.0f} events/s, {share:.0%} of the bare producer "
                    f"({rate:,.0f}/s); CPU {cpu:.1f} s with its children; peak RSS "
                    f"{rss_mb:.0f} MB; load {os.getloadavg()[0]:.1f}",
                )
            )
            print(f"| {' | '.join(rows[-1])} |", flush=True)
    return measure_table(rows)


if __name__ == "__main__":
    parser = script_parser(__doc__)
    parser.add_argument("--count", type=int, default=500_000)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--before", type=Path, default=None)
    args = parser.parse_args()
    table = asyncio.run(main(args.count, args.backends.split(","), args.before))
    write_result("first_import", table)
