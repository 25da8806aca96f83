"""`skaart registry import` and `skaart registry runs` as an operator uses them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from registry_sync.simulator.demo_data import generate_professionals, write_snapshot
from skaart import registry_commands
from skaart.cli import _register_subcommands, app


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SKAART_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("REGISTRY_SYNC_DATABASE_URL", raising=False)
    # No wrapping of the messages asserted on, nor of the runs table, whose source column
    # holds the snapshot's whole path under pytest's temporary directory.
    monkeypatch.setenv("COLUMNS", "300")
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


def test_a_truncated_gzip_says_which_file_and_why_and_shows_in_the_runs(
    cli: CliRunner, tmp_path: Path
) -> None:
    whole = tmp_path / "whole.jsonl.gz"
    write_snapshot(whole, generate_professionals(300, 4))
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole.read_bytes()[:-200])

    result = cli.invoke(app, ["registry", "import", str(cut)])

    assert result.exit_code == 2, result.output
    assert "Aborted" not in result.output
    assert "Snapshot refused." in result.output
    assert f"{cut}: cannot be read: the gzip data is truncated or damaged" in result.output
    assert "Copy the file again" in result.output
    runs = cli.invoke(app, ["registry", "runs"])
    assert "refused" in runs.output and "cut.jsonl.gz" in runs.output


def test_a_run_whose_events_were_already_published_does_not_say_nothing_to_publish(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = tmp_path / "snapshot.jsonl"
    records = list(generate_professionals(4, 4))
    write_snapshot(snapshot, records[:3])
    assert cli.invoke(app, ["registry", "import", str(snapshot)]).exit_code == 0
    records[0] = {**records[0], "last_name": "Anders", "version": "2027-01-01T00:00:00Z"}
    bad_visa = {**records[3]["professions"][0], "visa_status": "bogus"}
    records[3] = {**records[3], "professions": [bad_visa]}
    write_snapshot(snapshot, records)

    # The running platform's relay publishes the outbox before the command looks at it.
    async def nothing_pending(runtime: object) -> int:
        return 0

    monkeypatch.setattr(registry_commands, "_pending", nothing_pending)
    result = cli.invoke(app, ["registry", "import", "--lenient", str(snapshot)])

    assert result.exit_code == 0, result.output
    assert "│ updated                           │ 1" in result.output
    assert "Nothing to publish" not in result.output
    assert "All 1 event(s) of this run are already published" in result.output
    # One error for the one bad value (not also "no professions").
    assert result.output.count("line 4,") == 1
    assert "line 4, field professions.0.visa_status" in result.output


def test_resync_queues_the_stored_state_of_everyone_again(cli: CliRunner, tmp_path: Path) -> None:
    snapshot = tmp_path / "snapshot.jsonl"
    write_snapshot(snapshot, generate_professionals(12, 4))
    assert cli.invoke(app, ["registry", "import", str(snapshot)]).exit_code == 0

    result = cli.invoke(app, ["registry", "resync"])

    assert result.exit_code == 0, result.output
    # Per person: the keyed-hash pairing and the complete facts (and any standing stop).
    assert "Re-announced 12 professionals (0 of them no longer in the source)" in result.output
    assert "events queued" in result.output
    assert "wait in registry-sync's outbox" in result.output


def test_the_runs_table_folds_a_long_source_path_on_a_narrow_terminal(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = tmp_path / ("snapshot-of-the-register-as-the-source-sent-it-" * 2 + ".jsonl")
    write_snapshot(snapshot, generate_professionals(3, 4))
    assert cli.invoke(app, ["registry", "import", str(snapshot)]).exit_code == 0

    monkeypatch.setenv("COLUMNS", "100")
    runs = cli.invoke(app, ["registry", "runs"])

    assert runs.exit_code == 0
    # The source column's cells, line after line, give the whole path back (the header's
    # line is drawn with "┃").
    cells = [line.split("│")[2].strip() for line in runs.output.splitlines() if "│" in line]
    assert len(cells) > 1
    assert "".join(cells) == str(snapshot)
