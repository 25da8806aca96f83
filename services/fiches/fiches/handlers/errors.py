"""Refusals the use cases raise (the domain's, under the name the use cases know)."""

from __future__ import annotations

from fiches.domain.refusals import Conflict, FicheError, Forbidden, Invalid, NotFound

__all__ = ["Conflict", "FicheError", "Forbidden", "Invalid", "NotFound"]
