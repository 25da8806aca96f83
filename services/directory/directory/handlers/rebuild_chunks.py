"""How many waiting fiches the next rebuild transaction takes: sized by time and count.

After a catch-up the directory rebuilds its waiting fiches a chunk per transaction, so that
a depublication read ahead (`directory.depublications`) waits for one chunk at most, not
for the whole rebuild. A fixed count bounds that wait only on the machine it was tuned on:
200 fiches took about a second on a loaded 2-core machine when a fiche took 5 ms to
rebuild, and about 0.1 s once it took 0.6 ms, where each transaction's own cost (taking
the chunk, the lock, the commit) became a sixth of the catch-up. So the size follows the
measured time of the last full chunk, toward `seconds` per transaction, never above `most`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RebuildChunks:
    most: int
    """Most fiches per transaction."""
    seconds: float | None = None
    """Aimed-at duration of one transaction; None: always `most` fiches."""
    first: int = 200
    """Size of the first chunk when sized by time (before anything was measured)."""
    size: int = field(init=False)
    """Fiches the next transaction takes."""

    def __post_init__(self) -> None:
        self.size = self.most if self.seconds is None else max(1, min(self.first, self.most))

    def took(self, rebuilt: int, elapsed_s: float) -> None:
        """A transaction rebuilt `rebuilt` fiches in `elapsed_s` seconds: size the next.

        Only a full chunk says how fast fiches are rebuilt (a last, partial one is mostly
        the transaction's own cost). The size at most doubles per step, so one fast chunk
        cannot make the next one many times longer than aimed at."""
        if self.seconds is None or rebuilt < self.size or rebuilt <= 0:
            return
        fitting = int(rebuilt * self.seconds / max(elapsed_s, 1e-6))
        self.size = max(1, min(fitting, 2 * self.size, self.most))
