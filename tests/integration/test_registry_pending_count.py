"""What `skaart registry import` says waits in the outbox: counted up to a limit.

Counting a backlog of a million rows took PostgreSQL 0.17 s each time, and the wait for a
running platform counts five times a second; past PENDING_COUNTED the command says "or
more". Where it adds the count up (publishing itself), it counts exactly.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from registry_sync.simulator.demo_data import generate_professionals, write_snapshot
from skaart import registry_commands


@pytest.fixture
def snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SKAART_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("REGISTRY_SYNC_DATABASE_URL", raising=False)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "snapshot.jsonl"
    write_snapshot(path, generate_professionals(5, 3))  # 10 events
    return path


@pytest.mark.parametrize(("limit", "said"), [(100, "10 events wait"), (4, "4 or more events wait")])
async def test_the_backlog_is_counted_up_to_the_limit(
    snapshot: Path,
    limit: int,
    said: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(registry_commands, "PENDING_COUNTED", limit)

    assert await registry_commands._import(snapshot, 1.0, lenient=False, force=False) == 0

    output = " ".join(capsys.readouterr().err.split())
    assert f"{said} in registry-sync's outbox" in output


async def test_publishing_counts_the_backlog_exactly(
    snapshot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_commands, "PENDING_COUNTED", 4)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9")  # nothing listens there

    with pytest.raises(registry_commands.BrokerUnreachable) as unpublished:
        await registry_commands._import(snapshot, 1.0, lenient=False, force=False)

    assert "10 events wait in registry-sync's outbox" in str(unpublished.value)
