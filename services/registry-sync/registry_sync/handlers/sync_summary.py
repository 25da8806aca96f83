"""What one sync run changed, recorded per run and shown to the operator."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from registry_sync.adapters.snapshot_files import LineError


@dataclass
class ImportSummary:
    """Counts of one import or pull."""

    run_id: str
    source: str
    lines: int = 0
    registered: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    removed: int = 0
    rejected: int = 0
    status_changes: Counter[str] = field(default_factory=Counter)
    events_published: int = 0
    rejected_lines: list[LineError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, object]:
        """Storable counts."""
        return {
            "lines": self.lines,
            "registered": self.registered,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "stale": self.stale,
            "removed": self.removed,
            "rejected": self.rejected,
            "status_changes": dict(self.status_changes),
            "events": self.events_published,
        }

    def errors(self) -> list[str]:
        """Rejected lines and notes, as the run record keeps them."""
        return [str(error) for error in self.rejected_lines] + self.notes
