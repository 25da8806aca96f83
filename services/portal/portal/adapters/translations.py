"""The portal's texts in French and English, read from gettext .po catalogs at start.

Dutch is the source language: the messages in the templates and code are the Dutch words
of the guide, and nl needs no catalog. The .po files are read as they are (Babel), so a
fresh `pip install -e .` finds them without a compile step.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

from portal.domain.languages import DEFAULT_LANGUAGE, LANGUAGES

CATALOG_DIR = Path(__file__).resolve().parent.parent / "translations"


@cache
def catalog(language: str) -> dict[str, str]:
    """Dutch message → text in `language` (empty for Dutch)."""
    if language == DEFAULT_LANGUAGE or language not in LANGUAGES:
        return {}
    with (CATALOG_DIR / f"{language}.po").open("rb") as file:
        po = read_po(file, locale=language)
    return {
        str(message.id): str(message.string)
        for message in po
        if message.id and message.string and not message.fuzzy
    }


def translator(language: str) -> Translator:
    """The `_` of a page in `language`: a missing translation shows the Dutch text."""
    return Translator(catalog(language))


class Translator:
    def __init__(self, texts: dict[str, str]) -> None:
        self._texts = texts

    def __call__(self, message: str, **values: object) -> str:
        text = self._texts.get(message, message)
        return text.format(**values) if values else text
