"""The size rules a newcomer can rely on: no module over 500 lines, no function over 60.

A function's own length leaves out the functions nested in it (with their decorators): a
router factory that only declares its routes is declarative, and each route it declares is
measured on its own. Generated code (Alembic revisions) and declarative data are exempt, each
named below with its reason, so an exemption is a decision someone can read and revisit.
The import directions between a service's rooms are checked by `test_service_layers.py`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("contracts", "servicekit", "skaart", "services")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60

# Declarative data, not logic: one entry per file, with the reason. None today.
EXEMPT_MODULES: set[str] = set()


def _source_files() -> list[Path]:
    files: list[Path] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts or ".venv" in relative.parts:
                continue
            files.append(path)
    return files


def _own_length(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of `function`, less the lines of the functions defined inside it."""
    assert function.end_lineno is not None
    length = function.end_lineno - function.lineno + 1
    for node in ast.walk(function):
        if node is function or not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if _is_directly_nested(function, node):
            assert node.end_lineno is not None
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length -= node.end_lineno - first + 1
    return length


def _is_directly_nested(outer: ast.AST, inner: ast.AST) -> bool:
    """True when `inner` is a function defined in `outer` and not inside another nested one."""
    stack = list(ast.iter_child_nodes(outer))
    while stack:
        node = stack.pop()
        if node is inner:
            return True
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


def test_no_module_is_longer_than_the_limit() -> None:
    too_long = []
    for path in _source_files():
        relative = path.relative_to(ROOT).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES and relative not in EXEMPT_MODULES:
            too_long.append(f"{relative}: {lines} lines")
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines (split them):\n" + "\n".join(
        too_long
    )


def test_no_function_is_longer_than_the_limit() -> None:
    too_long = []
    for path in _source_files():
        relative = path.relative_to(ROOT).as_posix()
        if relative in EXEMPT_MODULES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = _own_length(node)
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{relative}:{node.lineno} {node.name}: {length} lines")
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines (split them):\n" + "\n".join(
        too_long
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f():\n" + "    x = 1\n" * 70, 71),
        (
            "def router():\n    @route\n    def a():\n" + "        x = 1\n" * 50 + "    return 1\n",
            2,
        ),
    ],
)
def test_own_length_leaves_out_nested_functions(source: str, expected: int) -> None:
    function = ast.parse(source).body[0]
    assert isinstance(function, ast.FunctionDef)
    assert _own_length(function) == expected
