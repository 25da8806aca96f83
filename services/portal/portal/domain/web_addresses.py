"""A website as people type it (`www.praktijk.be`) made a web address fiches accepts."""

from __future__ import annotations

import re

_HOST_FIRST = re.compile(r"[a-z0-9][a-z0-9.-]*\.[a-z]{2,}(?:[/:?#]\S*)?", re.IGNORECASE)


def with_scheme(typed: str) -> str:
    """`https://` put before an address typed without a scheme (`www.praktijk.be`); any
    other text as it is, for fiches to accept or refuse with its own message."""
    text = typed.strip()
    if "://" in text or not _HOST_FIRST.fullmatch(text):
        return text
    return f"https://{text}"
