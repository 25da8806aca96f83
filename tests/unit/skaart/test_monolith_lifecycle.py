"""Monolithic mode starts its components together, stops them together, names failures."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from servicekit.component import ServiceComponent
from skaart.monolith import ComponentsDidNotStart, start_components, stop_components

NAMES = ("identity", "fiches", "invitations", "registry-sync", "notifications")


@dataclass
class FakeRuntime:
    """Records calls; `start` waits until every component has begun starting."""

    name: str
    all_starting: asyncio.Barrier
    journal: list[str]
    fail_with: Exception | None = None
    migrating: list[str] = field(default_factory=list)

    async def migrate(self) -> None:
        self.migrating.append(self.name)
        # Migrations must not overlap: nobody else is migrating while this one runs.
        await asyncio.sleep(0)
        assert self.migrating == [self.name]
        self.migrating.remove(self.name)
        self.journal.append(f"migrated {self.name}")

    async def start(self, *, migrate: bool = True) -> None:
        assert not migrate, "migrations run before, one at a time"
        self.journal.append(f"starting {self.name}")
        # Only reached by all five if the starts run at the same time: started one
        # after another, the first would wait here for the others forever.
        async with asyncio.timeout(60):
            await self.all_starting.wait()
        if self.fail_with is not None:
            raise self.fail_with
        self.journal.append(f"started {self.name}")

    async def stop(self) -> None:
        self.journal.append(f"stopped {self.name}")


def components(
    journal: list[str], failing: dict[str, Exception] | None = None
) -> list[ServiceComponent]:
    barrier = asyncio.Barrier(len(NAMES))
    shared_migrating: list[str] = []
    result = []
    for name in NAMES:
        runtime = FakeRuntime(name, barrier, journal, (failing or {}).get(name), shared_migrating)
        result.append(ServiceComponent(name=name, runtime=runtime))  # type: ignore[arg-type]
    return result


async def test_the_components_start_concurrently_after_migrating_one_by_one() -> None:
    journal: list[str] = []

    await start_components(components(journal))

    assert journal[:5] == [f"migrated {name}" for name in NAMES]
    starting = [entry for entry in journal if entry.startswith("starting")]
    assert len(starting) == 5
    # Every start began before any finished: they ran together.
    assert journal.index(starting[-1]) < min(
        journal.index(e) for e in journal if e.startswith("started")
    )


async def test_a_component_that_fails_to_start_is_named_and_all_are_stopped_again() -> None:
    journal: list[str] = []
    failing = {"fiches": ConnectionRefusedError("database at 127.0.0.1:5432 refused")}

    with pytest.raises(ComponentsDidNotStart) as caught:
        await start_components(components(journal, failing))

    message = str(caught.value)
    assert "fiches: ConnectionRefusedError: database at 127.0.0.1:5432 refused" in message
    assert "identity" not in message
    assert [name for name, _ in caught.value.failures] == ["fiches"]
    assert {entry for entry in journal if entry.startswith("stopped")} == {
        f"stopped {name}" for name in NAMES
    }


async def test_stopping_stops_every_component_even_if_one_fails() -> None:
    journal: list[str] = []
    parts = components(journal)

    async def broken_stop() -> None:
        raise RuntimeError("stuck")

    parts[0].runtime.stop = broken_stop  # type: ignore[method-assign]
    await stop_components(parts)

    assert sorted(journal) == sorted(f"stopped {name}" for name in NAMES[1:])
