"""How the directory compares text: accent- and case-free words, and prefix ranges."""

from __future__ import annotations

import functools
import re
import unicodedata


def words(text: str | None) -> tuple[str, ...]:
    """Lower-case ASCII words of a text: accents dropped, anything else splits words.

    `Sint-Niklaas` -> (sint, niklaas); `Céline` -> (celine,).
    """
    return _words(text) if text else ()


_WORD = re.compile("[a-z0-9]+")


# The same names, municipalities and professions come back for every resource of a fiche
# and every fiche of a place: the projection spent a fifth of its time here uncached.
# Yet a catch-up also asks for texts that come once (a provider's full name as a sort
# key), so the cache misses too: a miss is kept cheap by decomposing only text that is not
# ASCII (ASCII has nothing to decompose) and by finding the words with one expression.
@functools.lru_cache(maxsize=65_536)
def _words(text: str) -> tuple[str, ...]:
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return tuple(_WORD.findall(text.lower()))


def normalized(text: str | None) -> str:
    """A value as one term: its words, space-joined (`Sint-Niklaas` -> `sint niklaas`)."""
    return _normalized(text) if text else ""


@functools.lru_cache(maxsize=65_536)
def _normalized(text: str) -> str:
    return " ".join(_words(text))


def prefix_range(prefix: str) -> tuple[str, str]:
    """[low, high) of every term starting with `prefix` (terms are [a-z0-9 :], byte order)."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


SHORTEST_PREFIX, LONGEST_PREFIX = 3, 7
"""Name prefixes of these lengths are stored (search_prefixes, standard_prefixes)."""
_NAME = "n:"


def is_name_term(term: str) -> bool:
    """Whether a term is a name word (`n:peeters`): only those have stored prefixes."""
    return term.startswith(_NAME)


def stored_prefixes(term: str) -> list[str]:
    """The stored prefixes of a name term (`n:peeters` -> `n:pee` ... `n:peeter`); none
    for other terms. A word of 3 to 7 characters is its own longest prefix."""
    if not term.startswith(_NAME):
        return []
    word = term[len(_NAME) :]
    return [
        _NAME + word[:size] for size in range(SHORTEST_PREFIX, min(LONGEST_PREFIX, len(word)) + 1)
    ]


def prefix_is_stored(word: str) -> bool:
    """Whether a name search word is one stored prefix (its length is 3 to 7)."""
    return SHORTEST_PREFIX <= len(word) <= LONGEST_PREFIX
