"""The portal's languages: Dutch by default, French and English."""

from __future__ import annotations

DEFAULT_LANGUAGE = "nl"
LANGUAGES = ("nl", "fr", "en")
#: How each language names itself in the language switch.
LANGUAGE_NAMES = {"nl": "Nederlands", "fr": "Français", "en": "English"}


def supported(value: str | None) -> str | None:
    """The language code when the portal speaks it, else None."""
    code = (value or "").strip().lower()[:2]
    return code if code in LANGUAGES else None
