"""Event models, one module per producing service."""

from contracts.events import fiches, registry

__all__ = ["fiches", "registry"]
