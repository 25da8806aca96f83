"""Phone numbers as people read them, and as a phone dials them.

fiches stores every number in E.164 (`+3250448111`); a page shows it in the national
format people write in Belgium (`050 44 81 11`, `0470 12 34 56`), and links it as
`tel:` + E.164, which every phone dials from anywhere.
"""

from __future__ import annotations

import phonenumbers

BELGIUM = "BE"


def _parsed(value: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(value, BELGIUM)
    except phonenumbers.NumberParseException:
        return None


def readable_phone_number(value: str) -> str:
    """A Belgian number in the national format, another country's in the international
    one; what cannot be read as a number, as it was given."""
    parsed = _parsed(value)
    if parsed is None:
        return value
    if phonenumbers.region_code_for_number(parsed) == BELGIUM:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def dialable_phone_number(value: str) -> str:
    """The number in E.164, for a `tel:` link (without spaces when it cannot be read)."""
    parsed = _parsed(value)
    if parsed is None:
        return "".join(value.split())
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
