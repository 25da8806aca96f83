"""Where a running platform tells other `skaart` commands on this machine about itself.

Apart from `skaart.monolith`, which writes the file: a command that only reads it (is
the platform running?) need not load the whole platform's HTTP and broker stack.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from servicekit.settings import KafkaSettings, PlatformSettings

RUNTIME_FILE = "runtime.json"


def write_runtime_file(platform: PlatformSettings, kafka: KafkaSettings) -> Path:
    """Tell other `skaart` commands on this machine where the running platform is."""
    path = platform.data_dir / RUNTIME_FILE
    path.write_text(
        json.dumps(
            {
                "pid": os.getpid(),
                "bootstrap_servers": kafka.bootstrap_servers,
                "http": f"http://{platform.http_host}:{platform.http_port}",
            }
        )
    )
    return path


def read_running_platform(platform: PlatformSettings) -> dict[str, object] | None:
    """The runtime file of a platform that is still running here, if any."""
    path = platform.data_dir / RUNTIME_FILE
    try:
        info = json.loads(path.read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return dict(info)
