"""`skaart deploy …`: the deployment files generated from the registries."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

deploy_app = typer.Typer(
    help="Deployment files generated from contracts and settings.", no_args_is_help=True
)
console = Console(stderr=True)


@deploy_app.callback()
def _deploy() -> None:
    """Deployment files generated from contracts and settings."""


@deploy_app.command("generate")
def generate(
    check: bool = typer.Option(
        False, "--check", help="Write nothing; exit 1 and show a diff when a file is stale."
    ),
    root: Path = typer.Option(
        None, help="Repository root (default: the one this package was installed from)."
    ),
) -> None:
    """Regenerate Kafka topics and users, KEDA scaling, network policies, and the settings
    and public-topic tables of the docs from contracts/topics.py and the settings classes."""
    from skaart.deploy_manifests import REPO_ROOT, OutOfDate, stale_files, write_all

    base = root or REPO_ROOT
    try:
        if check:
            stale = stale_files(base)
            for path, diff in stale.items():
                typer.echo(f"out of date: {path}", err=True)
                typer.echo(diff, err=True)
            if stale:
                console.print(
                    f"[red]{len(stale)} generated file(s) out of date[/red]: "
                    "run `skaart deploy generate` and commit the result"
                )
                raise typer.Exit(1)
            console.print("deployment files are current")
            return
        written = write_all(base)
    except OutOfDate as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    if written:
        for path in written:
            console.print(f"wrote {path}")
    else:
        console.print("nothing to write (all generated files are current)")
