"""`skaart registry import` and `skaart registry runs` as an operator uses them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from registry_sync.simulator.demo_data import generate_professionals, write_snapshot
from skaart.cli import _register_subcommands, app


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SKAART_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("REGISTRY_SYNC_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")  # no wrapping of the messages asserted on
    _register_subcommands()
    return CliRunner()


def test_import_prints_a_summary_and_says_where_the_events_wait(
    cli: CliRunner, tmp_path: Path
) -> None:
    snapshot = tmp_path / "snapshot.jsonl"
    write_snapshot(snapshot, generate_professionals(12, 4))
    result = cli.invoke(app, ["registry", "import", str(snapshot)])
    assert result.exit_code == 0, result.output
    assert "registered" in result.output and "12" in result.output
    assert "wait in registry-sync's outbox" in result.output

    again = cli.invoke(app, ["registry", "import", str(snapshot)])
    assert again.exit_code == 0
    assert "│ unchanged                         │ 12" in again.output
    assert "│ events queued                     │ 0" in again.output

    runs = cli.invoke(app, ["registry", "runs"])
    assert runs.exit_code == 0
    assert runs.output.count("succeeded") == 2


def test_import_of_a_malformed_file_exits_2_naming_line_and_field(
    cli: CliRunner, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"last_name": "Peeters"}\n')
    result = cli.invoke(app, ["registry", "import", str(bad)])
    assert result.exit_code == 2
    assert "line 1" in result.output and "ssin" in result.output
    assert "nothing was imported" in result.output
