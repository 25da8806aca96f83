"""`skaart generate-contracts` runs through the CLI, with the options of
`python -m contracts.generate` (it once failed: the generator read sys.argv itself)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from contracts import generate
from skaart.cli import _register_subcommands, app


def _run(*args: str) -> tuple[int, str]:
    _register_subcommands()
    result = CliRunner().invoke(app, ["generate-contracts", *args])
    return result.exit_code, result.output


def test_generate_contracts_writes_the_schemas_and_asyncapi_into_the_target(
    tmp_path: Path,
) -> None:
    code, output = _run("--target", str(tmp_path))

    assert code == 0, output
    assert (tmp_path / generate.ASYNCAPI_FILENAME).is_file()
    assert list((tmp_path / generate.SCHEMAS_DIRNAME).rglob("*.json"))
    assert "created" in output


def test_generate_contracts_check_exits_1_when_files_are_missing_and_writes_nothing(
    tmp_path: Path,
) -> None:
    code, output = _run("--target", str(tmp_path), "--check")

    assert code == 1, output
    assert "would be created" in output
    assert not any(tmp_path.iterdir())


def test_generate_contracts_check_passes_on_the_committed_files() -> None:
    code, output = _run("--check")

    assert code == 0, output
    assert "contract files are up to date" in output
