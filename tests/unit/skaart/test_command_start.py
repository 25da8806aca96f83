"""`skaart <group> …` loads its own group's commands only, and the registry's import
loads no HTTP framework and no broker client before it runs.

Every `skaart registry import` pays its process start: measured in docs/benchmarks.md, it
was most of an unchanged re-import beside the lines themselves.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from skaart import cli

# What `skaart registry import FILE` must not import (without a broker it never uses
# them; with one, they are imported when the outbox is published).
NOT_FOR_THE_IMPORT = ["fastapi", "faststream", "aiokafka", "httpx", "skaart.monolith"]


def _modules_after(*argv: str) -> set[str]:
    script = (
        "import sys\n"
        "from skaart.cli import main\n"
        f"sys.argv = ['skaart', *{list(argv)!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    return set(result.stdout.split())


def test_the_registry_import_loads_no_http_framework_and_no_broker_client() -> None:
    loaded = _modules_after("registry", "import", "--help")

    assert "skaart.registry_commands" in loaded
    assert "skaart.feed_commands" in loaded  # `registry pull` is still there
    assert [name for name in NOT_FOR_THE_IMPORT if name in loaded] == []
    assert "skaart.identity_commands" not in loaded
    assert "skaart.mail_commands" not in loaded


def test_skaart_help_still_lists_every_group() -> None:
    loaded = _modules_after("--help")

    for module in ("registry_commands", "identity_commands", "mail_commands", "deploy_commands"):
        assert f"skaart.{module}" in loaded


def test_registering_one_group_then_all_adds_each_once(monkeypatch: pytest.MonkeyPatch) -> None:
    added: list[str] = []
    groups = {name: (lambda name=name: added.append(name)) for name in cli._GROUPS}
    monkeypatch.setattr(cli, "_GROUPS", groups)
    monkeypatch.setattr(cli, "_added", set())

    cli._register_subcommands("registry")
    assert added == ["registry"]
    cli._register_subcommands("up")  # not a group: every group
    cli._register_subcommands()
    assert added == ["registry", *(name for name in groups if name != "registry")]
