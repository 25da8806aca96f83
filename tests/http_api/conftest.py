"""fiches in-process (the same fixture as tests/fiches) for the bad-input tests here."""

from tests.fiches.conftest import fiches

__all__ = ["fiches"]
