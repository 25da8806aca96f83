"""Requests as people read them: the kind and state in the guide's words, and what was asked."""

from __future__ import annotations

from typing import Any

from portal.domain.messages import N_
from portal.domain.phone_numbers import readable_phone_number
from portal.domain.practice_form import AGE_CATEGORIES, WEEKDAY_LABELS

KINDS = {
    "link": N_("Aanbod koppelen"),
    "rights": N_("Beheerrechten"),
    "proposal": N_("Wijziging voorstellen"),
    "removal": N_("Verwijderen"),
    "source_error": N_("Fout in de authentieke bron"),
}
STATES = {"open": N_("Open"), "approved": N_("Goedgekeurd"), "declined": N_("Geweigerd")}
#: An invitation's state, as the invitations service names it, in the guide's words.
INVITATION_STATES = {
    "open": N_("open"),
    "accepted": N_("aanvaard"),
    "declined": N_("geweigerd"),
    "revoked": N_("ingetrokken"),
    "expired": N_("verlopen"),
}
FICHE_TYPES = {"practice": N_("Praktijkfiche"), "provider": N_("Zorgverlenerfiche")}
#: Field names of a proposed change, in the words of the practice form.
FIELD_LABELS = {
    "names": N_("Namen van de praktijk"),
    "addresses": N_("Adressen"),
    "phone_numbers": N_("Telefoonnummers"),
    "email_addresses": N_("E-mailadressen"),
    "websites": N_("Websites"),
    "target_groups": N_("Doelgroep"),
    "age_categories": N_("Prioritaire leeftijdscategorie"),
    "wijken": N_("Wijken"),
    "contact_persons": N_("Contactpersonen"),
    "opening_hours": N_("Openingsuren"),
    "extra_offer": N_("Extra aanbod"),
    "managers": N_("Beheerders"),
    "offers": N_("Aanbod"),
    "preferred_name": N_("Naam"),
    "languages": N_("Talen"),
    "description": N_("Beschrijving"),
}
#: What a history version records, by the first part of its action (`restore:3`).
ACTIONS = {
    "create": N_("aangemaakt"),
    "save": N_("opgeslagen"),
    "publish": N_("gepubliceerd"),
    "grant_rights": N_("beheerrechten gegeven"),
    "withdraw_rights": N_("beheerrechten ingetrokken"),
    "link_own_offer": N_("eigen aanbod gekoppeld"),
    "remove_offer": N_("aanbod verwijderd"),
    "proposal": N_("voorstel goedgekeurd"),
    "link_request": N_("koppeling goedgekeurd"),
    "invitation": N_("uitnodiging aanvaard"),
    "restore": N_("eerdere versie teruggezet"),
    "removal": N_("verwijderd op vraag"),
}


def action_label(action: str) -> str:
    """The Dutch words for a history action (unknown actions as they are)."""
    return ACTIONS.get(str(action).split(":", 1)[0], str(action))


def fiche_path(item: dict[str, Any]) -> str:
    """The public page of the fiche a request is about."""
    kind = "praktijken" if item.get("fiche_type") == "practice" else "zorgverleners"
    return f"/{kind}/{item.get('fiche_id')}"


def asked(item: dict[str, Any]) -> dict[str, Any]:
    """What the requester asked, by kind: professions, changed fields, or their words."""
    payload = item.get("payload") or {}
    kind = item.get("kind")
    if kind == "link":
        return {"professions": list(payload.get("professions") or [])}
    if kind == "proposal":
        changes = payload.get("changes") or {}
        current = item.get("current")
        return {
            "fields": [FIELD_LABELS.get(name, name) for name in changes],
            "changes": changes,
            "proposed": proposed(changes),
            "compared": None if current is None else compared(changes, current),
        }
    text = payload.get("reason") or payload.get("motivation") or payload.get("description")
    return {"text": str(text) if text else ""}


EMPTIED = N_("(leeg gemaakt)")


def proposed(changes: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Each field a proposal changes (its label) with the values proposed, as the lines a
    decider reads: an address as it is written, a phone number in the national format, an
    opening period with its weekday. A line is `text`, with `day` (a weekday label) before
    it, and `translate` when the text is one of the portal's own words."""
    return [(FIELD_LABELS.get(name, name), _lines(name, value)) for name, value in changes.items()]


EMPTY = N_("(leeg)")


def compared(
    changes: dict[str, Any], current: dict[str, Any]
) -> list[tuple[str, list[dict[str, Any]], list[dict[str, Any]]]]:
    """Each field a proposal changes, with what the edit version holds now beside what is
    proposed (fiches gives `current` to those who decide): a decider sees what approving
    replaces, not only what it brings."""
    return [
        (
            FIELD_LABELS.get(name, name),
            _lines(name, current.get(name), empty=EMPTY),
            _lines(name, value),
        )
        for name, value in changes.items()
    ]


def _lines(name: str, value: Any, *, empty: str = EMPTIED) -> list[dict[str, Any]]:
    if value in (None, "", [], {}):
        return [{"text": empty, "translate": True}]
    return [_line(name, item) for item in (value if isinstance(value, list) else [value])]


def _line(name: str, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        if name == "age_categories" and item in AGE_CATEGORIES:
            return {"text": AGE_CATEGORIES[item], "translate": True}
        return {"text": str(item)}
    if name == "opening_hours":
        note = f" ({item['note']})" if item.get("note") else ""
        day = str(item.get("day", ""))
        return {
            "day": WEEKDAY_LABELS.get(day, day),
            "text": f"{item.get('opens')}-{item.get('closes')}{note}",
        }
    if name == "addresses":
        box = f" bus {item['box']}" if item.get("box") else ""
        return {
            "text": f"{item.get('street')} {item.get('number')}{box}, "
            f"{item.get('postcode')} {item.get('municipality')}"
        }
    if name == "phone_numbers" and item.get("number"):
        return {"text": readable_phone_number(str(item["number"]))}
    if name == "contact_persons":
        phone = readable_phone_number(str(item["phone"])) if item.get("phone") else None
        return {"text": ", ".join(str(p) for p in (item.get("name"), item.get("role"), phone) if p)}
    for key in ("email", "url", "name"):
        if item.get(key):
            return {"text": str(item[key])}
    # Another shape: its words and numbers, in order (flags such as `preferred` left out).
    return {
        "text": ", ".join(
            str(v) for v in item.values() if isinstance(v, str | int) and not isinstance(v, bool)
        )
    }
