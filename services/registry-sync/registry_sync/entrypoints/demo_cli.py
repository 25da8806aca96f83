"""Command line for demo registry snapshots: `generate` one, derive a `follow-up` from it.

`demo_app` is meant to be mounted on the platform CLI; on its own it runs as
`python -m registry_sync.entrypoints.demo_cli`. Importing this module only defines the
app. Output never shows a national register number: the summaries count, and the
changes file names records by line.
"""

import csv
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from registry_sync.simulator.demo_data import (
    DEFAULT_VERSION,
    STOP_REASONS,
    Record,
    count_snapshot_records,
    follow_up_snapshot,
    generate_professionals,
    read_snapshot,
    write_snapshot,
)

demo_app = typer.Typer(
    name="demo",
    help="Demo snapshots of the registry of healthcare professionals (fictitious people).",
    no_args_is_help=True,
    add_completion=False,
)

_SNAPSHOT_HELP = "Snapshot file (JSON Lines; gzip when the name ends in .gz)."


def _write_atomically(output: Path, records: Iterable[Record]) -> int:
    """Write a snapshot under a temporary name and rename it when complete.

    An importer watching the folder then never picks up a half-written snapshot. The
    temporary name keeps the suffix, so a `.gz` output is compressed from the start.
    """
    partial = output.with_name(f".partial-{output.name}")
    try:
        written = write_snapshot(partial, records)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, output)
    return written


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=1)


@demo_app.command("generate")
def generate(
    count: Annotated[int, typer.Option("--count", min=0, help="Number of professionals.")],
    seed: Annotated[int, typer.Option("--seed", help="The same seed gives the same people.")],
    output: Annotated[Path, typer.Option("--output", dir_okay=False, help=_SNAPSHOT_HELP)],
    version: Annotated[
        str, typer.Option("--version", help="Source version stamped on every record.")
    ] = DEFAULT_VERSION,
    inactive_share: Annotated[
        float,
        typer.Option(
            "--inactive-share",
            min=0.0,
            max=1.0,
            help="Share (0 to 1) of people stopped already: visa, RIZIV, ban or death.",
        ),
    ] = 0.0,
) -> None:
    """Write a snapshot of COUNT made-up professionals, valid numbers included."""
    started = time.perf_counter()
    records = generate_professionals(count, seed, version=version, inactive_share=inactive_share)
    written = _write_atomically(output, records)
    elapsed = time.perf_counter() - started
    rate = f" ({written / elapsed:,.0f}/s)" if elapsed > 0 else ""
    Console().print(
        f"Generated [bold]{written:,}[/] professionals (seed {seed}, version {version}) "
        f"in {elapsed:.1f} s{rate} → {output}",
        highlight=False,
    )


@demo_app.command("follow-up")
def follow_up(
    source: Annotated[
        Path,
        typer.Option(
            "--from", exists=True, dir_okay=False, readable=True, help="Previous snapshot."
        ),
    ],
    change_percent: Annotated[
        float,
        typer.Option("--change-percent", min=0.0, max=100.0, help="Percentage of people to stop."),
    ],
    seed: Annotated[int, typer.Option("--seed", help="The same seed stops the same people.")],
    output: Annotated[Path, typer.Option("--output", dir_okay=False, help=_SNAPSHOT_HELP)],
    changes_file: Annotated[
        Path | None,
        typer.Option(
            "--changes-file",
            dir_okay=False,
            help=(
                "CSV of the changed records as `line,reason`: the 1-based line of the "
                "record in the output snapshot and the stop reason. No personal data."
            ),
        ),
    ] = None,
    version: Annotated[
        str | None,
        typer.Option(
            "--version",
            help="Version of the changed records (default: now, UTC). Must be newer than "
            "the previous snapshot's, or the change is ignored on import.",
        ),
    ] = None,
) -> None:
    """Write the next snapshot: the same people, a percentage of them stopped.

    The stopped share is spread evenly over visa_inactive, riziv_stopped, practice_ban
    and deceased.
    """
    if output.resolve() == source.resolve():
        raise typer.BadParameter("must differ from --from", param_hint="--output")
    new_version = version or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    started = time.perf_counter()
    total = count_snapshot_records(source)  # a first pass: exact counts need the total
    reasons: Counter[str] = Counter()
    try:
        pairs = follow_up_snapshot(read_snapshot(source), change_percent, seed, new_version, total)
        if changes_file is None:
            written = _write_atomically(output, _noting(pairs, reasons, None))
        else:
            with changes_file.open("w", encoding="utf-8", newline="") as changes:
                writer = csv.writer(changes)
                writer.writerow(["line", "reason"])
                written = _write_atomically(output, _noting(pairs, reasons, writer.writerow))
    except ValueError as error:
        if changes_file is not None:
            changes_file.unlink(missing_ok=True)  # it would name changes never written
        raise _fail(f"{source}: {error}") from None
    _print_follow_up_summary(written, reasons, new_version, output, time.perf_counter() - started)


def _noting(
    pairs: Iterable[tuple[Record, str | None]],
    reasons: Counter[str],
    write_row: Callable[[list[object]], object] | None,
) -> Iterator[Record]:
    """Pass the records on, counting each change and writing its (line, reason) row."""
    for line, (record, reason) in enumerate(pairs, start=1):
        if reason is not None:
            reasons[reason] += 1
            if write_row is not None:
                write_row([line, reason])
        yield record


def _print_follow_up_summary(
    written: int, reasons: Counter[str], version: str, output: Path, elapsed: float
) -> None:
    console = Console()
    table = Table(title="Follow-up snapshot", title_justify="left")
    table.add_column("stop reason")
    table.add_column("records", justify="right")
    for reason in STOP_REASONS:
        table.add_row(reason, f"{reasons[reason]:,}")
    table.add_row("[bold]changed[/]", f"[bold]{sum(reasons.values()):,}[/]")
    table.add_row("unchanged", f"{written - sum(reasons.values()):,}")
    console.print(table)
    console.print(
        f"{written:,} records, changes at version {version}, in {elapsed:.1f} s → {output}",
        highlight=False,
    )


if __name__ == "__main__":
    demo_app()
