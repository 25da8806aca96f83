"""Browser tests of the portal: Debian's chromium (Playwright's own browser downloads cannot
work here) against a monolith started once per test session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserType, Playwright, sync_playwright

from tests.portal.platform_process import RunningMonolith, running_monolith

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    # --no-sandbox: CI runs as root in a container, where Chromium's sandbox cannot start.
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": ["--no-sandbox"]}


# Playwright's sync API keeps an event loop running in the main thread while it is
# started, and pytest-playwright starts it for the whole session: every asyncio test
# collected after this package would then fail ("cannot be called from a running event
# loop"). These overrides start it for this package only, and stop it at its end.


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as started:
        yield started


@pytest.fixture(scope="package")
def browser_context_args() -> dict[str, Any]:
    return {}


@pytest.fixture(scope="package")
def browser_type(playwright: Playwright, browser_name: str) -> BrowserType:
    return getattr(playwright, browser_name or "chromium")  # type: ignore[no-any-return]


@pytest.fixture(scope="package")
def launch_browser(
    browser_type_launch_args: dict[str, Any], browser_type: BrowserType
) -> Callable[..., Browser]:
    def launch(**options: Any) -> Browser:
        return browser_type.launch(**{**browser_type_launch_args, **options})

    return launch


@pytest.fixture(scope="package")
def browser(launch_browser: Callable[..., Browser]) -> Iterator[Browser]:
    started = launch_browser()
    yield started
    started.close()


@pytest.fixture(scope="package")
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
