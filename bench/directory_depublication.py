"""How long one depublication takes to leave a running directory's answers (a script, not a test).

    .venv/bin/python bench/directory_depublication.py [--events 20000] [--samples 100]
        [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]

The directory's own hop of "a provider who may no longer practise leaves the map": fiches
publishes `ProviderFicheDepublished` on `fiches.providers.v1`, and the directory must stop
showing the provider. Here, on a map that is not catching up:

1. Publishes EVENTS public events (providers, practices, offer links, as
   bench/directory_catch_up.py does) on an embedded broker, starts `skaart serve directory`
   in a child process on a fresh PostgreSQL database, and waits until FHIR counts every
   provider.
2. SAMPLES times, one after the other: publishes `ProviderFicheDepublished` for a provider
   still on the map, as fiches does (envelope headers, key), then asks the directory over
   HTTP, every 5 ms, for the provider's FHIR `Practitioner` (until `active` is false) and
   for a public search on the provider's surname (until the provider is no longer a hit);
   `--settle` seconds after the map is complete (default 0: at once).
   Both are timed from just before the record is sent; the broker's acknowledgement is
   timed too. HSDS is not asked: the directory changes FHIR, HSDS and search in the one
   transaction that applies the event, and the response cache serves a new generation to
   the first request after it.

Prints a Markdown table, also written to bench/results/directory_depublication.md.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# This folder holds a `directory.py`, named like the service package: keep the folder off
# the import path while the package is imported, as bench/directory.py does.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import httpx  # noqa: E402

from contracts.envelope import Envelope  # noqa: E402
from contracts.events.fiches import DepublicationReason, ProviderFicheDepublished  # noqa: E402
from servicekit.embedded_broker import start_embedded_broker  # noqa: E402
from servicekit.messaging.kafka_clients import ensure_topics  # noqa: E402
from servicekit.settings import KafkaSettings  # noqa: E402

sys.path.append(str(_HERE))
from depublication_end_to_end import free_port, start_directory  # noqa: E402
from directory_catch_up import drop, fresh_database, public_events  # noqa: E402
from script_output import script_parser, write_result  # noqa: E402

from pipeline import percentile  # noqa: E402

DATABASE = "skaart_bench_directory_depublication"
POLL_S = 0.005
READY_TIMEOUT_S = 900.0
SAMPLE_TIMEOUT_S = 60.0


async def _providers_shown(http: httpx.AsyncClient) -> int:
    try:
        answer = await http.get("/fhir/Practitioner", params={"_summary": "count"})
    except httpx.TransportError:  # not listening yet
        return -1
    return int(answer.json().get("total", 0)) if answer.status_code == 200 else -1


async def _wait_for_map(http: httpx.AsyncClient, providers: int) -> float:
    started = time.perf_counter()
    while (shown := await _providers_shown(http)) < providers:
        if time.perf_counter() - started > READY_TIMEOUT_S:
            raise RuntimeError(f"the directory shows {shown} of {providers} providers")
        await asyncio.sleep(0.5)
    return time.perf_counter() - started


async def _gone_from_fhir(http: httpx.AsyncClient, fiche_id: str) -> bool:
    answer = await http.get(f"/fhir/Practitioner/{fiche_id}")
    return answer.status_code == 200 and answer.json().get("active") is False


async def _gone_from_search(http: httpx.AsyncClient, fiche_id: str, surname: str) -> bool:
    answer = await http.get(
        "/api/directory/search", params={"q": surname, "type": "provider", "limit": 50}
    )
    return answer.status_code == 200 and all(
        hit.get("id") != fiche_id for hit in answer.json()["items"]
    )


async def _one_sample(producer: Any, http: httpx.AsyncClient, number: int) -> tuple[float, ...]:
    """Seconds from just before sending until: the broker acknowledged; FHIR shows the
    provider inactive; the search no longer finds them."""
    fiche_id, surname = f"bench-provider-{number:07d}", f"Bench{number}"
    event = ProviderFicheDepublished(
        fiche_id=fiche_id,
        professional_id=f"bench-person-{number}",
        reason=DepublicationReason.VISA_INACTIVE,
        occurred_at=datetime.now(UTC),
    )
    envelope = Envelope(source="/skaart/fiches", type=event.event_type, subject=event.subject())
    started = time.perf_counter()
    await producer.send_and_wait(
        event.topic,
        key=event.partition_key().encode(),
        value=event.model_dump_json().encode(),
        headers=envelope.to_headers(),
    )
    acknowledged = time.perf_counter() - started
    in_fhir = in_search = 0.0
    while not (in_fhir and in_search):
        if not in_fhir and await _gone_from_fhir(http, fiche_id):
            in_fhir = time.perf_counter() - started
        if not in_search and await _gone_from_search(http, fiche_id, surname):
            in_search = time.perf_counter() - started
        if time.perf_counter() - started > SAMPLE_TIMEOUT_S:
            raise RuntimeError(f"{fiche_id} still shown after {SAMPLE_TIMEOUT_S:.0f} s")
        await asyncio.sleep(POLL_S)
    return acknowledged, in_fhir, in_search


def _table(samples: list[tuple[float, ...]], events: int, ready_s: float, settle_s: float) -> str:
    rows = [
        f"{len(samples)} depublications, one at a time, on a map of {events:,} public events "
        f"(applied in {ready_s:.1f} s, then {settle_s:g} s of rest); polling every "
        f"{POLL_S * 1000:.0f} ms",
        "",
        "| from just before the record is sent to … | p50 | p95 | p99 | max |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    stages = ("the broker's acknowledgement", "FHIR `active: false`", "gone from the search")
    for index, stage in enumerate(stages):
        values = [sample[index] * 1000 for sample in samples]
        cells = " | ".join(f"{percentile(values, q):,.0f} ms" for q in (50, 95, 99, 100))
        rows.append(f"| {stage} | {cells} |")
    slowest = max(range(len(samples)), key=lambda n: samples[n][1])
    rows.append("")
    rows.append(
        f"The slowest in FHIR was depublication {slowest + 1} of {len(samples)} "
        f"({samples[slowest][1] * 1000:,.0f} ms); the next slowest "
        f"{sorted(s[1] for s in samples)[-2] * 1000:,.0f} ms."
    )
    return "\n".join(rows)


async def main(events: int, samples: int, admin_url: str, settle_s: float) -> str:
    work = Path(tempfile.mkdtemp(prefix="skaart-bench-depublication-"))
    broker = await start_embedded_broker(log_path=work / "broker.log")
    kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, enable_idempotence=False)
    url = await fresh_database(admin_url, DATABASE)
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "KAFKA_ENABLE_IDEMPOTENCE": "false",
        "SKAART_DATA_DIR": str(work),
        "DIRECTORY_DATABASE_URL": url,
    }
    directory = None
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    try:
        await ensure_topics(kafka)
        await producer.start()
        published = list(public_events(events))
        for event in published:
            envelope = Envelope(
                source="/skaart/fiches", type=event.event_type, subject=event.subject()
            )
            await producer.send(
                event.topic,
                key=event.partition_key().encode(),
                value=event.model_dump_json().encode(),
                headers=envelope.to_headers(),
            )
        await producer.flush()
        providers = sum(1 for e in published if type(e).__name__ == "ProviderFichePublished")
        directory = start_directory(env, work, port)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            ready_s = await _wait_for_map(http, providers)
            await asyncio.sleep(settle_s)
            chosen = random.Random(20261202).sample(range(providers), samples)
            measured = [await _one_sample(producer, http, number) for number in chosen]
        return _table(measured, events, ready_s, settle_s)
    finally:
        await producer.stop()
        if directory is not None:
            directory.terminate()
            directory.wait(60)
        broker.stop()
        await drop(admin_url, DATABASE)


if __name__ == "__main__":
    parser = script_parser(__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="seconds to wait once FHIR counts every provider, before the first sample",
    )
    args = parser.parse_args()
    result = asyncio.run(main(args.events, args.samples, args.admin_url, args.settle))
    print(result)
    write_result("directory_depublication.md", result)
