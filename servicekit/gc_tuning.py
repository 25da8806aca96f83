"""The garbage collector tuned for a long-running service process.

A consumer applying a batch of 500 registry events allocates hundreds of thousands of
short-lived objects (decoded events, domain objects, row dictionaries). With CPython's
default thresholds (a young collection every 700 allocations) the collector ran about
every 3 events and, every hundred young collections, walked every object the process
holds (imported modules, pydantic schemas, SQLAlchemy metadata). Measured with
`bench/fiches_apply.py --gc default|tuned`: a fifth of fiches' CPU per event.

After start-up the objects that live as long as the process are moved out of the
collector's sight (`gc.freeze`), and young collections run every 200,000 allocations.
Reference cycles are still collected, later; memory stays bounded by the thresholds.

Why 200,000 and not 50,000 (the value until 2026-12-01): a directory catching up 100,000
public events holds the chunk it writes and the one it builds ahead, and every young
collection walked them again: about 110 young collections of 25-30 ms, 2.6-3.3 s of a
process the rebuild is bound by, against 8-11 collections and 0.7-0.9 s at 200,000
(bench/directory.py, alternating runs). fiches applying registrations spent 204-225 µs of
CPU per event against 226-283 µs; its practice bans and the directory's searches under
load moved within the runs' spread (docs/benchmarks.md, "2026-12-01 morning").
"""

from __future__ import annotations

import gc

YOUNG_COLLECTION_EVERY = 200_000
"""Allocations (minus deallocations) between two young-generation collections."""


def tune_for_long_running_service(*, collect_first: bool = True) -> None:
    """Freeze what start-up built and collect young objects less often; call once, late.

    `collect_first=False` freezes without a full collection first: the command line's
    start does, where the collection found nothing to collect (0 objects before
    `skaart registry import`) and took 0.04 s walking every object imports built.
    """
    if collect_first:
        gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, 20, 20)
