"""The directory's words and derived ids stay exactly what they were.

Both are stored: a term row holds the words of a name, a FHIR or HSDS resource is served
under its derived id, and an agency keeps that id. A faster spelling of either may not
change one character, so each is checked against the plain reference it replaced.
"""

from __future__ import annotations

import unicodedata
import uuid

from hypothesis import example, given, settings
from hypothesis import strategies as st

from directory.domain.resources import _NAMESPACE, derived_id
from directory.domain.text import normalized, words


def reference_words(text: str | None) -> list[str]:
    """The words as the directory first computed them (before the ASCII fast path)."""
    if not text:
        return []
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    cleaned = "".join(c if ("a" <= c <= "z" or "0" <= c <= "9") else " " for c in plain)
    return cleaned.split()


@settings(max_examples=500)
@given(st.one_of(st.none(), st.text(), st.text(alphabet="aAzZ09 -'éÉçÇëßİıŁøÆœ\u0301\u00a0ﬁ")))
@example("Sint-Niklaas")
@example("Céline D'Hondt-Vandenbroucke")
@example("İstanbul")
@example("ﬁliaal 2ᵉ")
@example("")
def test_words_and_normalized_match_the_reference(text: str | None) -> None:
    assert list(words(text)) == reference_words(text)
    assert normalized(text) == " ".join(reference_words(text))


def test_words_of_known_names() -> None:
    assert words("Sint-Niklaas") == ("sint", "niklaas")
    assert words("Céline") == ("celine",)
    assert normalized("  Huisartsenpraktijk   DE LINDE ") == "huisartsenpraktijk de linde"
    assert words(None) == ()


@settings(max_examples=500)
@given(st.lists(st.text(), min_size=1, max_size=4))
@example(["role", "a3c0d2e4-0000-4000-8000-000000000001", "prov-17", "nurse"])
@example(["taxonomy", "profession"])
def test_derived_id_is_the_uuid5_of_its_parts(parts: list[str]) -> None:
    assert derived_id(*parts) == str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def test_a_derived_id_agencies_already_hold_is_unchanged() -> None:
    # The HSDS taxonomy's id, served since the directory's first release.
    assert derived_id("taxonomy", "profession") == "543e0e50-edee-5bb2-821e-6e2519faaafa"
