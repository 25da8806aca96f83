"""How the directory compares text: accent- and case-free words, and prefix ranges."""

from __future__ import annotations

import unicodedata


def words(text: str | None) -> list[str]:
    """Lower-case ASCII words of a text: accents dropped, anything else splits words.

    `Sint-Niklaas` -> [sint, niklaas]; `Céline` -> [celine].
    """
    if not text:
        return []
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    cleaned = "".join(c if ("a" <= c <= "z" or "0" <= c <= "9") else " " for c in plain)
    return cleaned.split()


def normalized(text: str | None) -> str:
    """A value as one term: its words, space-joined (`Sint-Niklaas` -> `sint niklaas`)."""
    return " ".join(words(text))


def prefix_range(prefix: str) -> tuple[str, str]:
    """[low, high) of every term starting with `prefix` (terms are [a-z0-9 :], byte order)."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)
