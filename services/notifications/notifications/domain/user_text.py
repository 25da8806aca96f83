"""What people typed, made safe to show in a mail as quoted data.

Practice and fiche names, the inviter's name and a decider's comment are written by
users; a mail must show them as data, never as part of our own message: a name cannot
add a line ("Bcc: …", "Open this link: …"), cannot carry a clickable link from our
sender address, and is visibly quoted. The API already refuses control characters in
free text; this is the second line for what was stored before, or came another way.

* names: on one line, whitespace and control characters collapsed to one space,
  between quotes (“Het Warmste Team”);
* the greeting's name: the same, without quotes;
* a comment: its lines kept, each prefixed with "> " in the text part;
* in all of them, links and host names are defanged (`hxxps://evil[.]example`), so mail
  clients do not turn them into links.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

#: Template values that are names people typed (quoted) and free text (a quoted block).
QUOTED_NAMES = ("practice_name", "inviter_name", "fiche_name")
GREETING_NAMES = ("display_name",)
FREE_TEXT = ("comment",)

_SCHEME = re.compile(r"\b(h)(tt)(ps?)(://)", re.IGNORECASE)
_OTHER_SCHEME = re.compile(r"\b(ftp|file|javascript|data|mailto):", re.IGNORECASE)
# A dot between two labels of something that looks like a host name: example.org, x.co.uk
_HOST_DOT = re.compile(r"(?<=[\w-])\.(?=[a-z][\w-]*\b)", re.IGNORECASE)


def _is_break(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Zl", "Zp", "Cf") and char not in "\u200d"


def one_line(value: Any) -> str:
    """Control characters and line breaks become spaces; runs of spaces become one."""
    text = "".join(" " if _is_break(c) else c for c in str(value))
    return " ".join(text.split())


def defang(text: str) -> str:
    """Links and host names that no mail client turns into a link."""
    text = _SCHEME.sub(lambda m: f"{m.group(1)}xx{m.group(3)}{m.group(4)}", text)
    text = _OTHER_SCHEME.sub(lambda m: f"{m.group(1)}[:]", text)
    return _HOST_DOT.sub("[.]", text)


def quoted(value: Any) -> str:
    """A name as quoted data: “Het Warmste Team”."""
    return f"“{defang(one_line(value))}”"


def lines(value: Any) -> list[str]:
    """Free text's lines, each on its own, defanged; empty lines dropped at the ends."""
    raw = str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = [defang(one_line(line)) for line in raw]
    while kept and not kept[0]:
        kept.pop(0)
    while kept and not kept[-1]:
        kept.pop()
    return kept


def for_text(values: Mapping[str, Any]) -> dict[str, Any]:
    """The template values for the subject and the plain-text part."""
    return _prepared(values, lambda v: "\n".join(f"> {line}" for line in lines(v)))


def for_html(values: Mapping[str, Any]) -> dict[str, Any]:
    """The template values for the HTML part (which escapes them besides)."""
    return _prepared(values, lambda v: "\n".join(lines(v)))


def _prepared(values: Mapping[str, Any], free_text: Any) -> dict[str, Any]:
    prepared = dict(values)
    for key in QUOTED_NAMES:
        if prepared.get(key):
            prepared[key] = quoted(prepared[key])
    for key in GREETING_NAMES:
        if prepared.get(key):
            prepared[key] = defang(one_line(prepared[key]))
    for key in FREE_TEXT:
        if prepared.get(key):
            prepared[key] = free_text(prepared[key])
    return prepared
