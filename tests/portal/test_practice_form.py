"""The practice form: typed rows → fiches' practice data, and fiches' refusals → fields."""

from __future__ import annotations

from portal.domain.practice_form import field_errors, form_values, read_form, rows_of


def test_rows_become_entries_with_the_preferred_one_marked_and_empty_rows_left_out() -> None:
    form = {
        "naam-0": "Het Warmste Team",
        "naam-1": "",
        "naam-voorkeur": "0",
        "telefoon-0": "09 265 81 11",
        "telefoon-1": "",
        "telefoon-2": "0470 12 34 56",
        "telefoon-voorkeur": "2",
        "adres-0-straat": "Kerkstraat",
        "adres-0-nummer": "1",
        "adres-0-bus": "",
        "adres-0-postcode": "9000",
        "adres-0-gemeente": "Gent",
        "uren-0-dag": "monday",
        "uren-0-van": "08:00",
        "uren-0-tot": "12:00",
        "uren-1-dag": "monday",
        "contact-0-naam": "Els",
        "contact-0-rol": "",
        "doelgroepen": "mensen met diabetes\n\n  ouderen thuis ",
        "wijken": "Brugse Poort",
    }
    chosen = {"leeftijd": ["senior", "not-a-category"], "aanbod": ["nurse"]}

    typed = read_form(form, lambda name: chosen.get(name, []))

    assert typed.data["names"] == [{"name": "Het Warmste Team", "preferred": True}]
    assert typed.data["phone_numbers"] == [
        {"number": "09 265 81 11", "preferred": False},
        {"number": "0470 12 34 56", "preferred": True},
    ]
    assert typed.rows["phone_numbers"] == [0, 2]
    assert typed.data["addresses"] == [
        {
            "street": "Kerkstraat",
            "number": "1",
            "postcode": "9000",
            "municipality": "Gent",
            "preferred": True,
        }
    ]
    # A weekday alone is the empty row's default, not an opening period.
    assert typed.data["opening_hours"] == [{"day": "monday", "opens": "08:00", "closes": "12:00"}]
    assert typed.data["contact_persons"] == [{"name": "Els"}]
    assert typed.data["target_groups"] == ["mensen met diabetes", "ouderen thuis"]
    assert typed.data["wijken"] == ["Brugse Poort"]
    assert typed.data["age_categories"] == ["senior"]
    assert typed.offers == ["nurse"]


def test_a_stored_version_fills_the_form_with_one_empty_row_per_list() -> None:
    values = form_values(
        {
            "names": [
                {"name": "KLIM", "preferred": False},
                {"name": "Kine KLIM", "preferred": True},
            ],
            "websites": [{"url": "https://klim.be", "preferred": True}],
            "extra_offer": ["osteopaat", "BOV-coach"],
            "age_categories": ["child"],
        }
    )

    assert values["naam-1"] == "Kine KLIM" and values["naam-voorkeur"] == "1"
    assert values["website-0"] == "https://klim.be"
    assert values["extra-aanbod"] == "osteopaat\nBOV-coach"
    assert values["leeftijd"] == ["child"]
    rows = rows_of(values)
    assert rows["naam"] == 3 and rows["website"] == 2 and rows["telefoon"] == 1


def test_a_refused_field_is_named_by_the_form_row_it_was_typed_in() -> None:
    # Row 1 was empty, so fiches' second phone number is the form's row 2.
    rows = {"phone_numbers": [0, 2], "addresses": [0]}
    fastapi_shape = {
        "detail": [
            {"loc": ["body", "phone_numbers", 1, "number"], "msg": "not a phone number"},
            {"loc": ["body", "addresses", 0, "postcode"], "msg": "not a Belgian postcode"},
            {"loc": ["body", "websites"], "msg": "mark exactly one website as preferred"},
            {"loc": ["body", "wijken", 3], "msg": "too long"},
        ]
    }

    errors = field_errors(fastapi_shape, rows)

    assert errors["telefoon-2"].startswith("Geef een Belgisch telefoonnummer")
    assert errors["adres-0-postcode"].startswith("Geef een Belgische postcode")
    assert errors["website-voorkeur"] == "Duid precies één voorkeur aan."
    assert "wijken" in errors

    problem_shape = {"errors": [{"field": "changes.email_addresses.0.email", "message": "bad"}]}
    assert list(field_errors(problem_shape, {"email_addresses": [0]})) == ["email-0"]


def test_a_refused_form_shows_the_rows_typed_in_plus_one_empty_row() -> None:
    typed = {"naam-0": "X", "naam-1": "", "telefoon-0": "", "telefoon-1": "", "telefoon-2": "12"}
    rows = rows_of(typed, typed)
    assert rows["naam"] == 2  # the empty second row is not shown twice
    assert rows["telefoon"] == 4  # the refused third number stays, plus one empty row
