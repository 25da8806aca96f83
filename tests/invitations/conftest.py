"""Fixtures of the invitations tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from servicekit.logging import configure_logging


@pytest.fixture
def platform_logging(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record the platform would write at its most verbose level (DEBUG).

    The logging set-up is the platform's own (`configure_logging`), which keeps client
    libraries at WARNING even then: aiokafka logs whole message values at DEBUG.
    """
    root = logging.getLogger()
    saved_handlers = list(root.handlers)
    saved_levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    saved_root_level = root.level
    configure_logging("DEBUG", "json")
    caplog.set_level(logging.DEBUG)
    try:
        yield caplog
    finally:
        for handler in list(root.handlers):
            if handler not in saved_handlers and getattr(handler, "_skaart", False):
                root.removeHandler(handler)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
        root.setLevel(saved_root_level)
