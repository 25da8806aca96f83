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


#: Languages a provider may say they speak, each named as it names itself.
SPOKEN_LANGUAGE_NAMES = {**LANGUAGE_NAMES, "de": "Deutsch"}


def spoken_language_name(code: str) -> str:
    """A spoken language's own name (`nl`: Nederlands); an unknown code as it is."""
    return SPOKEN_LANGUAGE_NAMES.get(str(code).lower(), str(code))
