"""The portal's small parts, without a browser: error shapes, profession names, catalogs."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from contracts.profession_labels import profession_label
from portal.adapters.translations import catalog, translator
from portal.domain.phone_numbers import dialable_phone_number, readable_phone_number
from portal.domain.practice_form import read_form
from portal.domain.problems import errors_by_field, read_problem
from portal.domain.professions import profession_code, profession_filter
from portal.domain.web_addresses import with_scheme
from portal.handlers.search import SearchForm, search_params

PORTAL = Path(__file__).resolve().parents[2] / "services" / "portal"


def test_problem_details_and_the_older_error_shapes_read_alike() -> None:
    new = read_problem(
        422,
        {
            "title": "Invalid input",
            "detail": "The e-mail address is not valid.",
            "what_to_do": "Correct it.",
            "errors": [{"field": "email", "message": "not an address"}],
        },
    )
    assert new.message == "The e-mail address is not valid."
    assert new.what_to_do == "Correct it."
    assert new.field_errors == {"email": "not an address"}
    nested = read_problem(
        422,
        {
            "title": "Some fields are invalid",
            "detail": "Correct the phone number.",
            "errors": [{"location": "body", "field": "phone_numbers.0.number", "message": "no"}],
        },
    )
    assert nested.field_errors == {"phone_numbers": "no"}, "shown next to the top-level field"

    validation = read_problem(
        422, {"detail": [{"loc": ["body", "email"], "msg": "bad", "code": "invalid_email"}]}
    )
    assert validation.field_errors == {"email": "bad"} and validation.code == "invalid_email"
    coded = read_problem(409, {"detail": {"code": "x", "message": "m", "what_to_do": "w"}})
    assert (coded.code, coded.message, coded.what_to_do) == ("x", "m", "w")
    assert read_problem(404, {"detail": "no such fiche"}).message == "no such fiche"
    assert read_problem(500, "not json").message == ""


def test_a_known_error_gets_the_portal_s_own_words_on_its_field() -> None:
    problem = read_problem(
        422, {"detail": [{"loc": ["body", "email"], "msg": "bad", "code": "invalid_email"}]}
    )
    assert errors_by_field(problem, "email")["email"].startswith("Dit is geen bruikbaar")
    fieldless = read_problem(429, {"detail": {"code": "rate_limited", "message": "Too many"}})
    assert errors_by_field(fieldless, "email") == {
        "email": "Je vroeg te veel activatielinks aan. Wacht even en probeer opnieuw."
    }


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("huisarts", "physician"),
        ("Kinesitherapeut", "physiotherapist"),
        ("kinésithérapeute", "physiotherapist"),
        ("verpleegkundige", "nurse"),
        ("infirmier", "nurse"),
        ("general practitioner", "physician"),
        ("diëtist", "dietitian"),
        ("dietist", "dietitian"),
        ("nurse", "nurse"),
        ("bakker", None),
        ("", None),
    ],
)
def test_professions_are_found_by_their_name_in_any_of_the_three_languages(
    typed: str, code: str | None
) -> None:
    assert profession_code(typed) == code


GP = {"profession": "physician", "qualification": "general_practitioner"}


@pytest.mark.parametrize(
    ("typed", "wanted"),
    [
        ("huisarts", GP),
        ("Huisarts ", GP),
        ("médecin généraliste", GP),
        ("medecin  generaliste", GP),
        ("general practitioner", GP),
        ("GP", GP),
        ("arts", {"profession": "physician"}),
        ("dokter", {"profession": "physician"}),
        ("doctor", {"profession": "physician"}),
        ("kinesitherapeut", {"profession": "physiotherapist"}),
        ("kiné", {"profession": "physiotherapist"}),
        ("bakker", None),
    ],
)
def test_a_gp_word_asks_for_physicians_with_a_gp_qualification(
    typed: str, wanted: dict[str, str] | None
) -> None:
    """A huisarts is a physician with a GP qualification, not every physician."""
    assert profession_filter(typed) == wanted


def test_the_search_form_sends_the_gp_filter_to_the_search_api() -> None:
    params, errors = search_params(SearchForm(beroep="huisarts", plaats="9000 Gent"))
    assert errors == {}
    assert params["profession"] == "physician"
    assert params["qualification"] == "general_practitioner"
    # Around the postcode (the municipality is where it is): nearest first.
    assert (params["near"], params["radius_km"]) == ("9000", 10)
    assert "postcode" not in params and "municipality" not in params
    params, _ = search_params(SearchForm(plaats="Sint-Niklaas"))
    assert params["near"] == "Sint-Niklaas"
    params, _ = search_params(SearchForm(beroep="arts"))
    assert params["profession"] == "physician" and "qualification" not in params
    params, _ = search_params(SearchForm(beroep="kinesitherapeut"))
    assert params["profession"] == "physiotherapist" and "qualification" not in params


def test_profession_labels_in_three_languages() -> None:
    assert profession_label("physiotherapist", "nl") == "kinesitherapeut"
    assert profession_label("physiotherapist", "fr") == "kinésithérapeute"
    assert profession_label("nurse", "en") == "nurse"
    assert profession_label("nurse", "de") == "verpleegkundige"
    assert profession_label("bov_coach", "nl") == "bov coach"


def test_every_text_of_the_pages_has_a_french_and_an_english_translation() -> None:
    keywords = {"_": None, "N_": None}
    found = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            PORTAL,
            method_map=[("portal/**.py", "python"), ("portal/templates/**.html", "jinja2")],
            keywords=keywords,
        )
    }
    assert len(found) > 50
    for language in ("fr", "en"):
        missing = sorted(str(m) for m in found if str(m) not in catalog(language))
        assert not missing, f"{language}.po lacks: {missing}"
    assert translator("fr")("Zoeken") == "Rechercher"
    assert translator("nl")("Zoeken") == "Zoeken"


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+3250448111", "050 44 81 11"),
        ("+3292658111", "09 265 81 11"),
        ("+32470123456", "0470 12 34 56"),
        ("+33142685300", "+33 1 42 68 53 00"),  # another country's: as dialled from here
        ("not a number", "not a number"),
    ],
)
def test_phone_numbers_read_in_the_national_format_and_dial_in_e164(
    stored: str, shown: str
) -> None:
    assert readable_phone_number(stored) == shown
    if stored.startswith("+"):
        assert dialable_phone_number(shown) == stored


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("www.vandewalle.be", "https://www.vandewalle.be"),
        ("  praktijk-hermans.be/contact ", "https://praktijk-hermans.be/contact"),
        ("http://www.vandewalle.be", "http://www.vandewalle.be"),
        ("https://www.vandewalle.be", "https://www.vandewalle.be"),
        ("vandewalle", "vandewalle"),  # no address: fiches refuses it with its own words
        ("mail@vandewalle.be", "mail@vandewalle.be"),
    ],
)
def test_a_website_typed_without_https_is_sent_with_it(typed: str, sent: str) -> None:
    assert with_scheme(typed) == sent


def test_the_practice_form_sends_a_website_with_its_scheme() -> None:
    form = read_form({"website-0": "www.praktijk.be"})
    assert form.data["websites"] == [{"url": "https://www.praktijk.be", "preferred": True}]
