"""Browser tests of the portal: Debian's chromium (Playwright's own browser downloads cannot
work here) against a monolith started once per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.portal.platform_process import RunningMonolith, running_monolith

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    # --no-sandbox: CI runs as root in a container, where Chromium's sandbox cannot start.
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": ["--no-sandbox"]}


@pytest.fixture(scope="session")
def monolith(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMonolith]:
    with running_monolith(tmp_path_factory.mktemp("monolith")) as running:
        yield running


@pytest.fixture
def base(monolith: RunningMonolith) -> str:
    return monolith.base_url


@pytest.fixture(autouse=True)
def _async_test_deadline() -> Iterator[None]:
    """The browser tests are synchronous (Playwright's sync API runs its own loop, which an
    asyncio fixture cannot share); pytest-timeout bounds them instead."""
    yield
