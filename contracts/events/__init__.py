"""Event models, one module per producing service."""

from contracts.events import fiches, identity, invitations, notifications, registry

__all__ = ["fiches", "identity", "invitations", "notifications", "registry"]
