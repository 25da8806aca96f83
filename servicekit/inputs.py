"""Shared input types: what every service accepts in paths, queries and bodies.

Bounded integers keep numbers a database can hold (PostgreSQL refuses an OFFSET past
2^63 and an INTEGER past 2^31 with a server error); `RequestBody` refuses unknown fields;
`refused_character` finds the characters no id, filter or stored text may hold. The
guard in servicekit.input_guard applies the last one to every path, query and JSON body.
"""

from __future__ import annotations

import re
from typing import Annotated

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict

#: The largest value of a PostgreSQL INTEGER, and a bound no page or version reaches.
INT32_MAX = 2**31 - 1

#: Page size: at least 1 (each endpoint also caps it at its own maximum).
Limit = Annotated[int, Ge(1), Le(INT32_MAX)]
#: Items to skip: 0 or more, within what a database can hold.
Offset = Annotated[int, Ge(0), Le(INT32_MAX)]
#: A version number of a fiche's history (1, 2, …).
VersionNumber = Annotated[int, Ge(1), Le(INT32_MAX)]


class RequestBody(BaseModel):
    """Base of every request body model: a field the API does not know is refused (422
    naming it), never silently dropped, so a misspelt field cannot look accepted."""

    model_config = ConfigDict(extra="forbid")


# NUL and lone surrogates can be stored nowhere (PostgreSQL text, UTF-8); the other C0
# controls and DEL have no place in an id or a search filter.
_NEVER = re.compile(r"[\x00\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def refused_character(text: str, *, controls: bool = True) -> str | None:
    """Why `text` is refused (the first offending character, described), or None.

    `controls=False` refuses only what cannot be stored at all (NUL, lone surrogates),
    for free text where line breaks are welcome.
    """
    found = (_CONTROL if controls else _NEVER).search(text)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        return "contains a NUL character"
    if "\ud800" <= char <= "\udfff":
        return "contains an invalid character (a lone UTF-16 surrogate)"
    return f"contains a control character (U+{ord(char):04X})"
