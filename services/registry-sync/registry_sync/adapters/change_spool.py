"""The validated changes of an import's check pass, kept on disk for its apply pass.

The apply pass reads these instead of the snapshot: no line is parsed or validated twice,
and memory does not grow with the number of changes (a first import changes everyone).
What is kept is what registry-sync stores anyway: keyed hashes and facts, never a
national register number. The file is anonymous and gone when closed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import IO

import orjson

from registry_sync.domain.person_change import PersonChange


class ChangeSpool:
    """An append-then-read file of PersonChange, in the order they were added."""

    def __init__(self) -> None:
        # Closed by `close` (or leaving the `with` block): it lives across both passes.
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="registry-import-")  # noqa: SIM115
        self.count = 0

    def add(self, change: PersonChange) -> None:
        """Keep one change (of a person in the source: `stored_facts` is set)."""
        digest = change.line_digest.hex() if change.line_digest is not None else None
        self._file.write(
            orjson.dumps([change.nrn_hash, change.version.isoformat(), digest, change.stored_facts])
        )
        self._file.write(b"\n")
        self.count += 1

    @property
    def size(self) -> int:
        """Bytes written, for progress."""
        return self._file.tell() if not self._file.closed else 0

    def chunks(self, size: int, position: list[int] | None = None) -> Iterator[list[PersonChange]]:
        """The changes again, `size` at a time; `position` follows the bytes read."""
        self._file.flush()
        self._file.seek(0)
        chunk: list[PersonChange] = []
        for line in self._file:
            nrn_hash, version, digest, facts = orjson.loads(line)
            chunk.append(
                PersonChange(
                    nrn_hash,
                    datetime.fromisoformat(version),
                    facts,
                    bytes.fromhex(digest) if digest is not None else None,
                )
            )
            if len(chunk) >= size:
                if position is not None:
                    position[0] = self._file.tell()
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def __enter__(self) -> ChangeSpool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the file."""
        self._file.close()
