"""Marking texts that code produces (in Dutch) for translation on the page."""

from __future__ import annotations


def N_(message: str) -> str:
    """A text to translate where it is shown; `pybabel extract -k N_` finds it."""
    return message
