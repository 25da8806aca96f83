"""What every benchmark script shares: its argument parser and its Markdown table."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

Row = tuple[str, str, str]


def script_parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser whose help is the script's docstring, as written."""
    return argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def measure_table(rows: Iterable[Row]) -> str:
    """The rows as a Markdown table of measure, value and note."""
    table = ["| measure | value | note |", "| --- | --- | --- |"]
    table += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(table)


def write_result(name: str, result: str) -> None:
    """Keep the printed table under bench/results/ too."""
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / name).write_text(result + "\n")
