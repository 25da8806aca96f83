"""registry-sync's own metrics (the messaging ones come from servicekit)."""

from __future__ import annotations

from prometheus_client import Gauge

LAST_SUCCESSFUL_SYNC = Gauge(
    "skaart_registry_last_successful_sync_timestamp_seconds",
    "When the last successful run of this kind ended (Unix time).",
    ["kind"],
)
FEED_LAG = Gauge(
    "skaart_registry_feed_lag_seconds",
    "Age of the newest change the delta feed has delivered to us (0 when caught up).",
)
