"""The practice fiche form: browser fields ↔ fiches' practice data, and its errors per field.

The form works without JavaScript. Each repeatable list (names, addresses, phone numbers,
e-mail addresses, websites, opening hours, contact persons) shows its entries plus one
empty row; saving with the empty row filled adds an entry, emptying a row removes it.
A radio group per list marks the preferred entry. Short lists (target groups, wijken,
extra offer) are one entry per line of a text area.

Field names are `<list>-<row>` or `<list>-<row>-<part>` (e.g. `adres-0-postcode`); the
page gives every input the id `veld-<name>`, so an error found by fiches (its `loc`,
`["body", "addresses", 0, "postcode"]`) is shown next to the input it is about.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portal.domain.messages import N_
from portal.domain.phone_numbers import readable_phone_number
from portal.domain.web_addresses import with_scheme

#: Weekdays in the order a week is read, as fiches names them.
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_LABELS = {
    "monday": N_("maandag"),
    "tuesday": N_("dinsdag"),
    "wednesday": N_("woensdag"),
    "thursday": N_("donderdag"),
    "friday": N_("vrijdag"),
    "saturday": N_("zaterdag"),
    "sunday": N_("zondag"),
}
#: Priority age categories, as fiches names them, with their Dutch label.
AGE_CATEGORIES = {
    "baby": N_("baby's"),
    "child": N_("kinderen"),
    "adolescent": N_("jongeren"),
    "adult": N_("volwassenen"),
    "senior": N_("ouderen"),
}
#: The most rows one list takes from a form (fiches allows at most 20 per list).
MAX_ROWS = 50


@dataclass(frozen=True)
class RepeatedList:
    """A repeatable list: its name in fiches' data, on the form, and its parts."""

    api: str
    form: str
    #: fiches' part name → the form's part name ("" for a list of single values).
    parts: dict[str, str]
    preferable: bool = True


NAMES = RepeatedList("names", "naam", {"name": ""})
ADDRESSES = RepeatedList(
    "addresses",
    "adres",
    {
        "street": "straat",
        "number": "nummer",
        "box": "bus",
        "postcode": "postcode",
        "municipality": "gemeente",
    },
)
PHONES = RepeatedList("phone_numbers", "telefoon", {"number": ""})
EMAILS = RepeatedList("email_addresses", "email", {"email": ""})
WEBSITES = RepeatedList("websites", "website", {"url": ""})
CONTACTS = RepeatedList(
    "contact_persons", "contact", {"name": "naam", "role": "rol", "phone": "telefoon"}, False
)
HOURS = RepeatedList(
    "opening_hours",
    "uren",
    {"day": "dag", "opens": "van", "closes": "tot", "note": "opmerking"},
    False,
)
REPEATED = (NAMES, ADDRESSES, PHONES, EMAILS, WEBSITES, CONTACTS, HOURS)
#: Lists of short texts: fiches' name → the text area's name (one entry per line).
LINES = {"target_groups": "doelgroepen", "wijken": "wijken", "extra_offer": "extra-aanbod"}
AGES_FIELD = "leeftijd"
#: Parts of an entry that may stay empty.
OPTIONAL = frozenset({"box", "role", "phone", "note"})
OFFER_FIELD = "aanbod"

PHONE_HINT = N_("Geef een Belgisch telefoonnummer, bijvoorbeeld 09 265 81 11 of 0470 12 34 56.")
#: What to write instead, per fiches field (Dutch; the pages translate them).
HINTS = {
    "name": N_("Geef een naam van hoogstens 200 tekens."),
    "street": N_("Vul de straat in."),
    "number": N_("Vul het huisnummer in (hoogstens 20 tekens)."),
    "box": N_("Het busnummer telt hoogstens 20 tekens."),
    "postcode": N_("Geef een Belgische postcode: vier cijfers van 1000 tot 9999."),
    "municipality": N_("Vul de gemeente in."),
    "phone_numbers": PHONE_HINT,
    "phone": PHONE_HINT,
    "email": N_("Geef een e-mailadres zoals info@praktijk.be."),
    "url": N_("Geef een webadres zoals https://www.praktijk.be."),
    "day": N_("Kies een dag."),
    "opens": N_("Geef het openingsuur als UU:MM, bijvoorbeeld 08:30."),
    "closes": N_("Geef het sluitingsuur als UU:MM; het valt na het openingsuur."),
    "opening_hours": N_("Het sluitingsuur valt na het openingsuur."),
    "note": N_("De opmerking telt hoogstens 200 tekens."),
    "role": N_("De rol telt hoogstens 200 tekens."),
    "lines": N_("Elke regel telt hoogstens 200 tekens (hoogstens 50 regels)."),
    "preferred": N_("Duid precies één voorkeur aan."),
    "names": N_("Geef minstens één naam van de praktijk."),
    "age_categories": N_("Kies een leeftijdscategorie uit de lijst."),
}
FALLBACK_HINT = N_("Deze waarde klopt niet. Pas ze aan en probeer opnieuw.")


@dataclass
class PracticeForm:
    """A practice form as typed: the data for fiches, and where each list's rows came from."""

    data: dict[str, Any]
    #: Per fiches list, the form row of each entry sent (empty rows are left out).
    rows: dict[str, list[int]] = field(default_factory=dict)
    offers: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _row_count(form: Mapping[str, Any], prefix: str) -> int:
    """How many rows of a list the form holds (the highest row number + 1)."""
    rows = -1
    for key in form:
        if isinstance(key, str) and key.startswith(prefix + "-"):
            head = key[len(prefix) + 1 :].split("-", 1)[0]
            if head.isdigit():
                rows = max(rows, int(head))
    return min(rows + 1, MAX_ROWS)


def _filled_rows(form: Mapping[str, Any], prefix: str) -> int:
    """Rows up to the last one with something typed in it (a weekday alone is a default)."""
    filled = 0
    for key, value in form.items():
        if not (isinstance(key, str) and key.startswith(prefix + "-")):
            continue
        head, _, part = key[len(prefix) + 1 :].partition("-")
        if head.isdigit() and isinstance(value, str) and value.strip() and part != "dag":
            filled = max(filled, min(int(head) + 1, MAX_ROWS))
    return filled


def _input_name(spec: RepeatedList, row: int, part: str) -> str:
    form_part = spec.parts.get(part, "")
    return f"{spec.form}-{row}-{form_part}" if form_part else f"{spec.form}-{row}"


def read_form(form: Mapping[str, Any], getlist: Any = None) -> PracticeForm:
    """fiches' practice data from a posted form (`getlist`: the form's multi-value reader)."""
    getlist = getlist or (lambda name: [])
    data: dict[str, Any] = {}
    rows: dict[str, list[int]] = {}
    for spec in REPEATED:
        entries: list[dict[str, Any]] = []
        used: list[int] = []
        preferred = _text(form, f"{spec.form}-voorkeur")
        for row in range(_row_count(form, spec.form)):
            entry = {part: _text(form, _input_name(spec, row, part)) for part in spec.parts}
            if spec is HOURS:
                # A day alone is the empty row's default, not an entry.
                if not any(entry[p] for p in ("opens", "closes", "note")):
                    continue
            elif not any(entry.values()):
                continue
            # Optional parts are left out when empty; required ones go as typed, so that
            # fiches names what is missing.
            cleaned: dict[str, Any] = {
                part: value for part, value in entry.items() if value or part not in OPTIONAL
            }
            if spec is WEBSITES and cleaned.get("url"):
                cleaned["url"] = with_scheme(cleaned["url"])
            if spec.preferable:
                cleaned["preferred"] = preferred == str(row)
            entries.append(cleaned)
            used.append(row)
        if spec.preferable and len(entries) == 1:
            entries[0]["preferred"] = True  # a lone value is the preferred one
        data[spec.api] = entries
        rows[spec.api] = used
    for api, name in LINES.items():
        data[api] = [line.strip() for line in _text(form, name).splitlines() if line.strip()]
    data["age_categories"] = [str(v) for v in getlist(AGES_FIELD) if str(v) in AGE_CATEGORIES]
    offers = [str(v) for v in getlist(OFFER_FIELD)]
    return PracticeForm(data=data, rows=rows, offers=offers)


def form_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The form's fields filled from fiches' practice data (to show an edit version)."""
    values: dict[str, Any] = {}
    for spec in REPEATED:
        for row, entry in enumerate(data.get(spec.api) or []):
            for part in spec.parts:
                value = entry.get(part)
                shown = "" if value is None else str(value)
                if value and (spec, part) in ((PHONES, "number"), (CONTACTS, "phone")):
                    shown = readable_phone_number(shown)  # as people write it, not E.164
                values[_input_name(spec, row, part)] = shown
            if spec.preferable and entry.get("preferred"):
                values[f"{spec.form}-voorkeur"] = str(row)
        values[f"{spec.form}-rijen"] = len(data.get(spec.api) or [])
    for api, name in LINES.items():
        values[name] = "\n".join(data.get(api) or [])
    values[AGES_FIELD] = list(data.get("age_categories") or [])
    return values


def rows_of(values: Mapping[str, Any], form: Mapping[str, Any] | None = None) -> dict[str, int]:
    """Rows to show per list: its entries plus one empty row to add another."""
    shown: dict[str, int] = {}
    for spec in REPEATED:
        typed = _filled_rows(form, spec.form) if form is not None else 0
        stored = int(values.get(f"{spec.form}-rijen") or 0)
        shown[spec.form] = max(typed, stored) + 1
    return shown


def _spec_of(api_name: str) -> RepeatedList | None:
    return next((spec for spec in REPEATED if spec.api == api_name), None)


def error_places(body: Any) -> list[tuple[list[Any], str]]:
    """Each refused field of a 422 answer as (location path, message), from either shape:
    FastAPI's `{"detail": [{"loc", "msg"}]}` or problem details' `{"errors": [{"field":
    "phone_numbers.1.number", "message"}]}`."""
    if not isinstance(body, dict):
        return []
    found: list[tuple[list[Any], str]] = []
    detail = body.get("detail")
    for item in detail if isinstance(detail, list) else []:
        if isinstance(item, dict):
            found.append((list(item.get("loc") or []), str(item.get("msg") or "")))
    problems = body.get("errors")
    for item in problems if isinstance(problems, list) else []:
        if isinstance(item, dict):
            parts = str(item.get("field") or "").split(".")
            path = [int(p) if p.isdigit() else p for p in parts if p]
            found.append((path, str(item.get("message") or "")))
    return found


def field_errors(body: Any, rows: Mapping[str, list[int]]) -> dict[str, str]:
    """fiches' refused fields → the form's field name and a Dutch hint.

    `rows` maps each entry fiches saw back to the form row it was typed in. Errors fiches
    reports at a place the form does not have fall under `algemeen`.
    """
    errors: dict[str, str] = {}
    for loc, message in error_places(body):
        name, hint = _place(loc, rows, message)
        errors.setdefault(name, hint)
    return errors


def _place(loc: list[Any], rows: Mapping[str, list[int]], message: str) -> tuple[str, str]:
    # Proposals nest the fields under "changes"; saves have them at the top of the body.
    path = [p for p in loc if p not in ("body", "changes")]
    if not path:
        return "algemeen", FALLBACK_HINT
    top = str(path[0])
    if top in LINES:
        return LINES[top], HINTS["lines"]
    if top == "age_categories":
        return AGES_FIELD, HINTS["age_categories"]
    spec = _spec_of(top)
    if spec is None:
        return "algemeen", FALLBACK_HINT
    if len(path) < 2 or not isinstance(path[1], int):
        # A list-level error: the preferred mark, or a list that must not be empty.
        hint = HINTS["preferred"] if "preferred" in message else HINTS.get(top, FALLBACK_HINT)
        return f"{spec.form}-0" if top == "names" else f"{spec.form}-voorkeur", hint
    sent_rows = rows.get(top, [])
    row = sent_rows[path[1]] if path[1] < len(sent_rows) else path[1]
    part = str(path[2]) if len(path) > 2 else next(iter(spec.parts))
    if part not in spec.parts:
        part = next(iter(spec.parts))
        hint = HINTS.get(top, FALLBACK_HINT)
    else:
        hint = HINTS.get(part, FALLBACK_HINT)
    if spec is PHONES:
        hint = HINTS["phone_numbers"]
    return _input_name(spec, row, part), hint


def changed_data(proposed: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """Only the fields a proposal changes (fiches records a proposal as those fields)."""
    return {
        name: value
        for name, value in proposed.items()
        if _comparable(value) != _comparable(current.get(name) or [])
    }


def _comparable(value: Any) -> Any:
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if v not in (None, "", False)}
    return value
