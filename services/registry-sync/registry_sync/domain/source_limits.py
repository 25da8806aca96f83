"""How long each source field may be, and which characters it may hold.

Whatever registry-sync accepts is published and stored by its consumers, so the limits
follow what they store: fiches keeps each official name in a 200-character column and
the two together, lower-cased, in a 400-character search name, and indexes every word of
a name as a search term of at most 200 characters; it keeps the language in a
10-character column. A name of at most 150 characters fits all of these with room for
the few characters that lengthen when lower-cased or stripped of accents.
`tests/unit/registry_sync/test_source_limits.py` checks the limits against fiches' tables.

The other limits keep one professional's event far below the broker's message size
(1 MB by default): at most 16 professions of 16 diplomas with 200-character titles is
about 200 KB even in four-byte characters. A snapshot line or CSV row longer than
MAX_LINE_BYTES is refused before it is parsed, so one line never costs more memory than
that.
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import AfterValidator, Field

from servicekit.readable_patterns import described

NAME_MAX_CHARS: Final = 150
LANGUAGE_MAX_CHARS: Final = 10
VISA_NUMBER_MAX_CHARS: Final = 40
DIPLOMA_TITLE_MAX_CHARS: Final = 200
MAX_PROFESSIONS: Final = 16
MAX_DIPLOMAS: Final = 16

#: Longest snapshot line (JSON Lines) or CSV row, in bytes, newline excluded.
MAX_LINE_BYTES: Final = 1024 * 1024

#: Longest delta-feed page body, in bytes: about 30,000 changes of a typical size.
MAX_FEED_PAGE_BYTES: Final = 32 * 1024 * 1024

# Control characters (Unicode category Cc: NUL, tab, line breaks, ESC, DEL, C1), line and
# paragraph separators (Zl, Zp) and unpaired surrogates (Cs): none belongs in a name or a
# code, and PostgreSQL refuses NUL. A character class, not a per-character category
# lookup: it runs for every text field of every line of a national snapshot.
_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _plain_text(value: str) -> str:
    refused = _REFUSED.search(value)
    if refused is not None:
        # The position, never the value: names are personal data.
        raise ValueError(
            f"contains a control character (U+{ord(refused.group()):04X}) at position "
            f"{refused.start() + 1}; only printable text is accepted"
        )
    if not value.strip():
        raise ValueError("is blank")
    return value


Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX_CHARS), AfterValidator(_plain_text)]
VisaNumber = Annotated[
    str, Field(min_length=1, max_length=VISA_NUMBER_MAX_CHARS), AfterValidator(_plain_text)
]
DiplomaTitle = Annotated[
    str, Field(min_length=1, max_length=DIPLOMA_TITLE_MAX_CHARS), AfterValidator(_plain_text)
]
#: A language code such as `nl`, `fr` or `nl-BE` (letters, then optional subtags).
LanguageCode = Annotated[
    str,
    Field(
        max_length=LANGUAGE_MAX_CHARS,
        pattern=described(
            r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
            "a language code of 2 or 3 letters, then optional subtags (nl, fr, nl-BE)",
        ),
    ),
]
