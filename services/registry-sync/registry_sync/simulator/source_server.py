"""A simulated authentic source serving the HTTP delta feed (SOURCE-FORMAT.md).

`GET /changes?since={cursor}&limit={n}` answers
`{"changes": [<snapshot line>, …], "next_cursor": "…", "has_more": true|false}` from an
append-only change log held in memory. The log starts with one line per demo professional
(`generate_professionals(count, seed)`); `SimulatedSource.stop`, `.remove`, `.change` and
`.append` add changes while it serves. The cursor is the log position written as a
string; clients must treat it as opaque, as they must with the real source.

For tests and demos it can misbehave on purpose: `fail_next(n)` answers the next `n`
requests with HTTP 503, and `delay_s` holds every answer back (to exercise time-outs).
The same controls are reachable over HTTP under `/simulate/…` when it runs on its own:

    python -m registry_sync.simulator.source_server --count 300 --seed 7 --port 8090

Everything it serves is fiction (see `demo_data`).
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import typer
from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import JSONResponse

from registry_sync.simulator.demo_data import (
    DEFAULT_VERSION,
    STOP_REASONS,
    Record,
    apply_stop_reason,
    generate_professionals,
)

#: Largest page the simulator hands out, whatever `limit` asks for.
MAX_LIMIT = 10_000


def _parse_version(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _format_version(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SimulatedSource:
    """The source's state: an append-only change log and the latest line of each person.

    People are addressed by their index in the seeded demo population (0 … count-1), so a
    test can say "stop person 3" without handling national register numbers.
    """

    def __init__(self, count: int = 0, seed: int = 0, *, version: str = DEFAULT_VERSION) -> None:
        self._people: list[Record] = list(generate_professionals(count, seed, version=version))
        self._log: list[Record] = [copy.deepcopy(person) for person in self._people]
        self._failures_left = 0
        self._failure_status = 503
        self.delay_s = 0.0
        """Seconds every answer of `/changes` is held back."""
        self.requests: list[tuple[str | None, int]] = []
        """`(since, limit)` of every `/changes` request received, failed ones included."""

    # --- what the source holds ------------------------------------------------------------

    @property
    def size(self) -> int:
        """Number of changes in the log."""
        return len(self._log)

    @property
    def population(self) -> int:
        """Number of people (removed ones included); their indices are 0 … population-1."""
        return len(self._people)

    @property
    def end_cursor(self) -> str:
        """The cursor after the last change (what a caught-up client holds)."""
        return str(len(self._log))

    def person(self, index: int) -> Record:
        """A copy of the latest line of person `index` (removed or not)."""
        return copy.deepcopy(self._people[index])

    def changes(self, since: str | None, limit: int) -> dict[str, Any]:
        """One page of the feed, as `GET /changes` answers it.

        Raises ValueError for a cursor this source never handed out.
        """
        start = self._position(since)
        end = min(start + limit, len(self._log))
        return {
            "changes": [copy.deepcopy(line) for line in self._log[start:end]],
            "next_cursor": str(end),
            "has_more": end < len(self._log),
        }

    def _position(self, since: str | None) -> int:
        if since is None or since == "":
            return 0
        if not since.isdigit() or int(since) > len(self._log):
            raise ValueError(
                "unknown cursor: give a next_cursor this feed returned, or leave `since` "
                "out to read from the beginning"
            )
        return int(since)

    # --- adding changes -------------------------------------------------------------------

    def append(self, line: Record) -> None:
        """Add one raw line to the log as given (no checks: invalid lines are allowed).

        Use it for lines the other helpers would not write: an older version, a broken
        record. The latest state of the person is not updated.
        """
        self._log.append(copy.deepcopy(line))

    def change(self, index: int, *, version: str | None = None, **fields: Any) -> Record:
        """Person `index` changes the given top-level fields; returns the new line."""
        line = {**self.person(index), **copy.deepcopy(fields)}
        return self._record(index, line, version)

    def stop(self, index: int, reason: str, *, version: str | None = None) -> Record:
        """Person `index` is stopped for `reason` (one of `STOP_REASONS`); returns the line.

        `riziv_stopped` for someone without a RIZIV number becomes `visa_inactive`, as in
        `demo_data.apply_stop_reason`.
        """
        line, _applied = apply_stop_reason(self.person(index), reason)
        return self._record(index, line, version)

    def remove(self, index: int, *, version: str | None = None) -> Record:
        """Person `index` leaves the source; returns the line.

        The source model still requires names and professions on a removed line, so the
        last known line is repeated with `"removed": true` and a newer version.
        """
        line = {**self.person(index), "removed": True}
        return self._record(index, line, version)

    def _record(self, index: int, line: Record, version: str | None) -> Record:
        line["version"] = version or self._next_version(self._people[index]["version"])
        self._people[index] = line
        self._log.append(copy.deepcopy(line))
        return copy.deepcopy(line)

    @staticmethod
    def _next_version(previous: str) -> str:
        # Now, unless the person's last version is later (the demo population is dated in
        # the future): a change must always be newer than what it replaces.
        now = datetime.now(UTC)
        last = _parse_version(previous)
        return _format_version(max(now, last + timedelta(seconds=1)))

    # --- misbehaving on purpose -----------------------------------------------------------

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next `count` requests of `/changes` with `status` (a 5xx or 4xx)."""
        self._failures_left = count
        self._failure_status = status

    def take_failure(self) -> int | None:
        """The status the next request must fail with, if a failure is pending."""
        if self._failures_left <= 0:
            return None
        self._failures_left -= 1
        return self._failure_status


def create_source_app(state: SimulatedSource) -> FastAPI:
    """The simulator's HTTP API over `state` (which the caller may keep changing)."""
    app = FastAPI(
        title="Simulated authentic source (delta feed)",
        description="Fiction: demo professionals only. See SOURCE-FORMAT.md.",
    )

    @app.get("/changes", summary="Changes after a cursor, oldest first")
    async def changes(
        since: str | None = Query(None, description="A next_cursor from an earlier page."),
        limit: int = Query(500, ge=1, le=MAX_LIMIT, description="Most changes to return."),
    ) -> JSONResponse:
        state.requests.append((since, limit))
        if len(state.requests) > 10_000:  # monolithic mode polls it for hours
            del state.requests[:5_000]
        if state.delay_s > 0:
            await asyncio.sleep(state.delay_s)
        failure = state.take_failure()
        if failure is not None:
            return JSONResponse(
                {"detail": "simulated failure of the source"},
                status_code=failure,
            )
        try:
            return JSONResponse(state.changes(since, limit))
        except ValueError as error:
            raise HTTPException(400, str(error)) from None

    @app.post("/simulate/stop/{index}", summary="Stop a person (simulator control)")
    async def simulate_stop(index: int, reason: str = Query(...)) -> Record:
        _check_index(state, index)
        if reason not in STOP_REASONS:
            raise HTTPException(422, f"unknown reason {reason!r}; one of {STOP_REASONS}")
        return _summary(state.stop(index, reason))

    @app.post("/simulate/remove/{index}", summary="Remove a person (simulator control)")
    async def simulate_remove(index: int) -> Record:
        _check_index(state, index)
        return _summary(state.remove(index))

    @app.post("/simulate/faults", summary="Fail or slow down the next answers")
    async def simulate_faults(
        fail_next: int = Query(0, ge=0), status: int = Query(503), delay_s: float = Query(0.0)
    ) -> dict[str, Any]:
        state.fail_next(fail_next, status)
        state.delay_s = delay_s
        return {"fail_next": fail_next, "status": status, "delay_s": delay_s}

    return app


def _check_index(state: SimulatedSource, index: int) -> None:
    if not 0 <= index < state.population:
        raise HTTPException(
            404, f"no person {index}; the simulator holds people 0…{state.population - 1}"
        )


def _summary(line: Record) -> Record:
    # The control API answers without the national register number: whoever drives the
    # simulator reads the change in the feed itself.
    return {key: value for key, value in line.items() if key not in {"ssin", "birth_date"}}


def serve(
    count: int = typer.Option(300, help="demo professionals to seed"),
    seed: int = typer.Option(7, help="seed of the demo population"),
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(8090, help="port to listen on"),
) -> None:
    """Serve a simulated delta feed of demo professionals."""
    import uvicorn

    app = create_source_app(SimulatedSource(count, seed))
    # A command-line tool: tell its user where to point registry-sync.
    print(f"delta feed: REGISTRY_SYNC_FEED_URL=http://{host}:{port}")
    uvicorn.run(app, host=host, port=port, log_level="info")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the simulator on its own, for a demo or manual tests of the delta feed."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(serve)
    app(args=argv, prog_name="python -m registry_sync.simulator.source_server")


if __name__ == "__main__":
    main()
