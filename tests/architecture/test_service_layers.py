"""The rooms of every service, checked on its source with `ast`, as fiches' are
(`test_fiches_layers.py`, which also holds fiches' own shape rules):

* domain: the rules; imports no I/O library (database, broker, web framework, HTTP
  client, driver) and nothing of its service's handlers, adapters or entrypoints;
* handlers (use cases): never entrypoints;
* adapters (repositories, queries, clients): never handlers or entrypoints.

A service without one of these rooms is not checked for it; every service has a domain.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "services"
IO_LIBRARIES = (
    "sqlalchemy",
    "asyncpg",
    "aiosqlite",
    "faststream",
    "aiokafka",
    "fastapi",
    "starlette",
    "redis",
    "httpx",
    "aiosmtplib",
)


def _packages() -> list[Path]:
    return sorted(
        package
        for service in SERVICES.iterdir()
        if service.is_dir()
        for package in service.iterdir()
        if (package / "__init__.py").exists()
    )


def _modules(package: Path, room: str) -> list[Path]:
    return sorted(p for p in (package / room).rglob("*.py") if "migrations" not in p.parts)


def _cases(room: str) -> list[object]:
    return [
        pytest.param(package.name, path, id=f"{package.name}/{path.relative_to(package)}")
        for package in _packages()
        for path in _modules(package, room)
    ]


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _breaches(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        {
            name
            for name in _imports(path)
            if any(name == prefix or name.startswith(prefix + ".") for prefix in forbidden)
        }
    )


@pytest.mark.parametrize(("service", "path"), _cases("domain"))
def test_a_domain_imports_no_io_and_no_outer_room(service: str, path: Path) -> None:
    outer = tuple(f"{service}.{room}" for room in ("handlers", "adapters", "entrypoints"))
    assert _breaches(path, (*IO_LIBRARIES, *outer)) == []


@pytest.mark.parametrize(("service", "path"), _cases("handlers"))
def test_handlers_never_import_entrypoints(service: str, path: Path) -> None:
    assert _breaches(path, (f"{service}.entrypoints",)) == []


@pytest.mark.parametrize(("service", "path"), _cases("adapters"))
def test_adapters_never_import_handlers_or_entrypoints(service: str, path: Path) -> None:
    assert _breaches(path, (f"{service}.handlers", f"{service}.entrypoints")) == []


def test_every_service_is_checked_and_has_a_domain() -> None:
    """A renamed package or room would silently make the checks above check nothing."""
    names = {package.name for package in _packages()}
    assert names >= {
        "directory",
        "fiches",
        "identity",
        "invitations",
        "notifications",
        "portal",
        "registry_sync",
    }
    for package in _packages():
        assert _modules(package, "domain"), f"{package.name} has no domain modules"
