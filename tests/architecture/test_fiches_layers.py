"""The shape of the fiches service, checked on its source with `ast`: no module over 500
lines, no function over 60 lines; a router factory in `entrypoints/http*.py` only declares
routes (each route function under 60 lines). The import directions between its rooms
(domain, handlers, adapters, entrypoints) are checked for every service by
`test_service_layers.py`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "services" / "fiches" / "fiches"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60

#: Known breaches, each with its reason; an entry is a strict xfail, so a fixed file turns
#: the test red until its entry goes. None today.
KNOWN_BREACHES: dict[tuple[str, str], str] = {}


def _modules(room: str | None = None) -> list[Path]:
    base = PACKAGE / room if room else PACKAGE
    return sorted(p for p in base.rglob("*.py") if "migrations" not in p.parts)


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _params(check: str, paths: list[Path]) -> list[object]:
    params: list[object] = []
    for path in paths:
        reason = KNOWN_BREACHES.get((check, _name(path)))
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        params.append(pytest.param(path, id=_name(path), marks=marks))
    return params


@pytest.mark.parametrize("path", _params("module_size", _modules()))
def test_no_module_over_500_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= MAX_MODULE_LINES


def _is_router_factory(path: Path, node: ast.AST) -> bool:
    return (
        path.parent.name == "entrypoints"
        and path.name.startswith("http")
        and isinstance(node, ast.FunctionDef)
        and isinstance(node.returns, ast.Name)
        and node.returns.id == "APIRouter"
    )


def _declares_routes_only(factory: ast.FunctionDef) -> list[str]:
    """Statements of a router factory that are not the router, a type alias for its
    parameters, a decorated route or `return router` (by line)."""
    odd = []
    for statement in factory.body:
        is_docstring = isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
        is_route = isinstance(statement, ast.AsyncFunctionDef) and statement.decorator_list
        is_assignment = isinstance(statement, ast.Assign)
        is_return = isinstance(statement, ast.Return)
        if not (is_docstring or is_route or is_assignment or is_return):
            odd.append(f"line {statement.lineno}: {type(statement).__name__}")
    return odd


def _long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if _is_router_factory(path, node):
            assert isinstance(node, ast.FunctionDef)
            found += [f"{node.name}: {odd}" for odd in _declares_routes_only(node)]
            continue  # its routes are checked one by one (ast.walk reaches them)
        lines = (node.end_lineno or node.lineno) - node.lineno + 1
        if lines > MAX_FUNCTION_LINES:
            found.append(f"{node.name} (line {node.lineno}): {lines} lines")
    return found


@pytest.mark.parametrize("path", _params("function_size", _modules()))
def test_no_function_over_60_lines(path: Path) -> None:
    assert _long_functions(path) == []


def test_the_rooms_are_where_the_checks_look() -> None:
    """A renamed room would silently make the checks above check nothing."""
    for room in ("domain", "handlers", "adapters", "entrypoints"):
        assert _modules(room), f"no modules in fiches/{room}"
