"""Free text people type (names, notes, comments): refused when it hides control characters.

A practice name travels into e-mails, topics and other agencies' screens. A line break in
it can start a new line in a plain-text mail ("Bcc: …"), and invisible characters (NUL,
escape sequences, bidirectional overrides) make text read differently from what it is.
So request models type their free text with `SingleLineText` (names, short fields) or
`MultiLineText` (comments, descriptions: line breaks and tabs allowed), and a value with
anything else is refused with a 422 that names the field and the character.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

#: Bidirectional embedding, override and isolate marks: they reorder what is displayed.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS_AND_TABS = frozenset("\n\r\t")


def _forbidden(char: str, *, multiline: bool) -> bool:
    if multiline and char in _LINE_BREAKS_AND_TABS:
        return False
    category = unicodedata.category(char)
    # Cc: C0/C1 controls (NUL, CR, LF, ESC, DEL, …); Zl/Zp: Unicode line/paragraph
    # separators; plus the bidirectional controls from Cf.
    return category in ("Cc", "Zl", "Zp") or char in _BIDI_CONTROLS


def _describe(char: str) -> str:
    name = unicodedata.name(char, "") or {"\n": "LINE FEED", "\r": "CARRIAGE RETURN"}.get(
        char, "control character"
    )
    return f"U+{ord(char):04X} ({name})"


def refuse_control_characters(value: str, *, multiline: bool = False) -> str:
    """`value` unchanged, or ValueError naming the first forbidden character and where."""
    for position, char in enumerate(value):
        if _forbidden(char, multiline=multiline):
            allowed = "" if multiline else " or line breaks"
            raise ValueError(
                f"contains the invisible character {_describe(char)} at position "
                f"{position + 1}; remove it (no control characters{allowed} here)"
            )
    return value


def _single_line(value: str) -> str:
    return refuse_control_characters(value, multiline=False)


def _multi_line(value: str) -> str:
    # One kind of line break, so what is stored and mailed is what was meant.
    return (
        refuse_control_characters(value, multiline=True).replace("\r\n", "\n").replace("\r", "\n")
    )


SingleLineText = Annotated[str, AfterValidator(_single_line)]
"""Text on one line: no control characters, no line breaks."""

MultiLineText = Annotated[str, AfterValidator(_multi_line)]
"""Text that may span lines (line breaks and tabs), but no other control characters."""
