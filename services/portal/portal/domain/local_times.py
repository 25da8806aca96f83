"""Moments the services give in UTC (ISO 8601), shown as people in Belgium read a clock.

The services store and send every moment in UTC; a history that said 17:21 for a change
made at 18:21 in Gent confused the people reading it, and the mails already speak Belgian
time. Dates are the local date too: a link valid until 23:30 UTC is valid until the next
day in Brussels.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

try:
    from zoneinfo import ZoneInfo

    BRUSSELS: tzinfo = ZoneInfo("Europe/Brussels")
except Exception:  # pragma: no cover - a system without time zone data
    BRUSSELS = UTC


def _local(moment: Any) -> datetime | None:
    if not moment:
        return None
    if isinstance(moment, datetime):
        parsed = moment
    else:
        try:
            parsed = datetime.fromisoformat(str(moment).replace("Z", "+00:00"))
        except ValueError:
            return None
    aware = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return aware.astimezone(BRUSSELS)


def local_date(moment: Any) -> str:
    """`2026-12-16T23:30:00Z` → `2026-12-17`; nothing, or what is no moment, → as it is."""
    local = _local(moment)
    return local.strftime("%Y-%m-%d") if local else str(moment or "")


def local_time(moment: Any) -> str:
    """`2026-12-02T17:21:05Z` → `2026-12-02 18:21`, in Brussels."""
    local = _local(moment)
    return local.strftime("%Y-%m-%d %H:%M") if local else str(moment or "")
