"""Seedable demo data in the registry snapshot format (docs: SOURCE-FORMAT.md).

`generate_professionals` streams realistic Flemish healthcare professionals, one
snapshot line (a dict) at a time; `follow_up_snapshot` derives the next snapshot from
one, stopping a chosen share of people for the four reasons that depublish a provider
fiche; `write_snapshot` and `read_snapshot` move them to and from JSON Lines files.

Everything here is fiction: the national register numbers and RIZIV numbers are
well-formed (valid check digits) but made up, and must not be mistaken for real ones.

Streaming and uniqueness: memory does not grow with the number of people. Uniqueness is
derived, never remembered:

* the SSIN of person `i` comes from a seeded bijection of `i` onto (birth date, birth
  sequence) pairs, so distinct indices give distinct numbers;
* a RIZIV number is drawn from a counter per (profession digit, qualification code)
  pushed through a seeded bijection of the 100,000 five-digit sequences. Each code owns
  a disjoint slice of a digit's sequences, so the person part (first eight digits) is
  unique too as long as no code outgrows its slice (true for samples of tens of
  thousands). The full eleven-digit number is always unique: a code that has used all
  100,000 sequences takes no more people, who get another code of their profession.
  Beyond what any real register holds (some 1.9 million people) a profession runs out
  of codes and generation stops with ValueError.
"""

from __future__ import annotations

import gzip
import json
import os
import random
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import IO, Any, Final

from registry_sync.domain.identifiers import (
    PROFESSIONS_WITH_RIZIV,
    QUALIFICATION_CODES,
    RIZIV_PROFESSION_DIGIT,
    SSIN_BORN_AFTER_2000_OFFSET,
    mod97_check_digits,
)
from registry_sync.simulator.demo_tables import (
    CONVENTION,
    DIPLOMA_PLANS,
    ENTRY_CODE,
    FIRST_NAMES,
    GRADUATION_DAY,
    GRADUATION_DELAY,
    LANGUAGE,
    LAST_NAMES,
    QUALIFICATION,
    SINGLE_PROFESSION,
    TWO_PROFESSIONS,
    TWO_PROFESSIONS_SHARE,
)

# The postcodes are part of this module's interface (the demo's practice fiches use them).
from registry_sync.simulator.demo_tables import FLEMISH_MUNICIPALITIES as FLEMISH_MUNICIPALITIES

#: One snapshot line, as `json.loads` returns it.
Record = dict[str, Any]

DEFAULT_VERSION: Final = "2026-11-27T22:00:00Z"

#: The reasons the authentic source stops a professional (DOMAIN.md, flow 5), with the
#: spelling of `contracts.events.registry.StatusChangeReason`.
STOP_REASONS: Final[tuple[str, ...]] = (
    "visa_inactive",
    "riziv_stopped",
    "practice_ban",
    "deceased",
)

#: Age range of the generated people on the snapshot date. The youngest are old enough
#: for every basic diploma, so only advanced qualifications ever need a fallback.
_YOUNGEST_AGE: Final = 25
_OLDEST_AGE: Final = 70

#: Birth sequences 001-998: odd for men, even for women.
_SEQUENCES_PER_DAY: Final = 998

_RIZIV_SEQUENCES: Final = 100_000


# --- uniqueness without memory ---------------------------------------------------------


class _IndexPermutation:
    """A seeded bijection of `range(size)` onto itself, evaluated one index at a time.

    Three rounds of (odd multiply, add, xor-shift) modulo the next power of two permute
    that power-of-two range; cycle-walking (re-applying until the value falls below
    `size`) turns it into a permutation of `range(size)`. No table, so distinct indices
    give distinct values in constant memory.
    """

    def __init__(self, size: int, rng: random.Random) -> None:
        self._size = size
        bits = max(size - 1, 1).bit_length()
        self._mask = (1 << bits) - 1
        self._shift = max(bits // 2, 1)
        self._m1, self._m2, self._m3 = (rng.getrandbits(bits) | 1 for _ in range(3))
        self._a1, self._a2, self._a3 = (rng.getrandbits(bits) for _ in range(3))

    def __call__(self, index: int) -> int:
        size, mask, shift = self._size, self._mask, self._shift
        if not 0 <= index < size:
            raise ValueError(f"index {index} outside 0..{size - 1}")
        value = index
        while True:
            # The rounds are unrolled: this runs once or twice per generated number.
            value = (value * self._m1 + self._a1) & mask
            value ^= value >> shift
            value = (value * self._m2 + self._a2) & mask
            value ^= value >> shift
            value = (value * self._m3 + self._a3) & mask
            value ^= value >> shift
            if value < size:
                return value


class _RizivAllocator:
    """Hands out unique RIZIV numbers from counters, one per (digit, qualification code).

    Each code owns a disjoint slice of its digit's 100,000 sequences, so the person part
    of the number stays unique across codes while every code stays within its slice.
    """

    def __init__(self, rng: random.Random) -> None:
        codes_per_digit: dict[str, set[str]] = {}
        for profession, digit in RIZIV_PROFESSION_DIGIT.items():
            codes_per_digit.setdefault(digit, set()).update(QUALIFICATION_CODES[profession])
        self._permutation: dict[str, _IndexPermutation] = {}
        self._offset: dict[str, int] = {}
        for digit in sorted(codes_per_digit):
            self._permutation[digit] = _IndexPermutation(_RIZIV_SEQUENCES, rng)
            codes = sorted(codes_per_digit[digit])
            for position, code in enumerate(codes):
                self._offset[digit + code] = position * (_RIZIV_SEQUENCES // len(codes))
        self._used: dict[str, int] = dict.fromkeys(self._offset, 0)

    def has_room(self, digit: str, code: str) -> bool:
        return self._used[digit + code] < _RIZIV_SEQUENCES

    def allocate(self, digit: str, code: str) -> str:
        key = digit + code
        issued = self._used[key]
        if issued >= _RIZIV_SEQUENCES:
            raise ValueError(f"no RIZIV sequences left for digit {digit}, code {code}")
        self._used[key] = issued + 1
        sequence = self._permutation[digit]((self._offset[key] + issued) % _RIZIV_SEQUENCES)
        first6 = int(digit) * _RIZIV_SEQUENCES + sequence
        return f"{first6:06d}{mod97_check_digits(first6)}{code}"


# --- the generator ---------------------------------------------------------------------


def _snapshot_date(version: str) -> date:
    """The date of a version timestamp, or of the default version if it has none."""
    try:
        return date.fromisoformat(version[:10])
    except ValueError:
        return date.fromisoformat(DEFAULT_VERSION[:10])


def _years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier; 29 February becomes the 28th."""
    if day.month == 2 and day.day == 29:
        day = day.replace(day=28)
    return day.replace(year=day.year - years)


class _Generator:
    """State of one `generate_professionals` run: RNG, permutations and counters."""

    def __init__(self, seed: int, version: str, inactive_share: float) -> None:
        self._rng = random.Random(seed)
        self._version = version
        self._inactive_share = inactive_share
        today = _snapshot_date(version)
        self._today = today.isoformat()
        youngest = _years_before(today, _YOUNGEST_AGE)
        oldest = _years_before(today, _OLDEST_AGE) + timedelta(days=1)
        self._oldest_ordinal = oldest.toordinal()
        days = youngest.toordinal() - self._oldest_ordinal + 1
        self.capacity = days * _SEQUENCES_PER_DAY
        # Separate RNGs for the permutations, so their keys do not shift the data stream.
        self._ssin_permutation = _IndexPermutation(self.capacity, random.Random(f"ssin:{seed}"))
        self._riziv = _RizivAllocator(random.Random(f"riziv:{seed}"))

    def person(self, index: int) -> Record:
        rng = self._rng
        slot = self._ssin_permutation(index)
        birth = date.fromordinal(self._oldest_ordinal + slot // _SEQUENCES_PER_DAY)
        sequence = slot % _SEQUENCES_PER_DAY + 1
        gender = "M" if sequence % 2 else "F"
        # YYMMDD and the birth sequence, as one number for the check digits.
        first9 = ((birth.year % 100 * 100 + birth.month) * 100 + birth.day) * 1000 + sequence
        checked = first9 + SSIN_BORN_AFTER_2000_OFFSET if birth.year >= 2000 else first9
        language = LANGUAGE.pick(rng)
        last_names = LAST_NAMES[language]
        first_names = FIRST_NAMES[language, gender]
        last_name = last_names[int(rng.random() * len(last_names))]
        first_name = first_names[int(rng.random() * len(first_names))]
        if rng.random() < TWO_PROFESSIONS_SHARE:
            professions: tuple[str, ...] = TWO_PROFESSIONS.pick(rng)
        else:
            professions = (SINGLE_PROFESSION.pick(rng),)
        record: Record = {
            "ssin": f"{first9:09d}{mod97_check_digits(checked)}",
            "last_name": last_name,
            "first_name": first_name,
            "gender": gender,
            "birth_date": birth.isoformat(),
            "language": language,
            "practice_ban": False,
            "deceased": False,
            "version": self._version,
            "professions": [self._profession(name, birth.year) for name in professions],
        }
        # Always draw, so the share changes who is inactive and nothing else.
        draw = rng.random()
        if draw < self._inactive_share:
            reason = STOP_REASONS[int(draw / self._inactive_share * len(STOP_REASONS)) % 4]
            record, _ = apply_stop_reason(record, reason)
        return record

    def _profession(self, profession: str, birth_year: int) -> Record:
        rng = self._rng
        entry: Record = {
            "profession": profession,
            "visa_status": "active",
            "visa_number": str(100_000 + int(rng.random() * 900_000)),
        }
        if profession in PROFESSIONS_WITH_RIZIV:
            code, diplomas = self._qualification(profession, birth_year)
            digit = RIZIV_PROFESSION_DIGIT[profession]
            entry["riziv_number"] = self._riziv.allocate(digit, code)
            entry["riziv_status"] = "active"
            entry["qualification_code"] = code
        else:
            # Without a qualification code only the basic diploma counts, and every
            # generated age is old enough for it.
            diplomas = self._diplomas(profession, "", birth_year) or []
        convention = CONVENTION.get(profession)
        if convention is not None and (value := convention.pick(rng)) is not None:
            entry["convention"] = value
        entry["diplomas"] = diplomas
        return entry

    def _qualification(self, profession: str, birth_year: int) -> tuple[str, list[Record]]:
        """A qualification code with RIZIV numbers left, and the diplomas it rests on."""
        digit = RIZIV_PROFESSION_DIGIT[profession]
        chosen = QUALIFICATION[profession].pick(self._rng)
        # The drawn code; else the entry code, which every age qualifies for; only when
        # that has run out of numbers too, any other code of the profession.
        for code in (chosen, ENTRY_CODE[profession], *QUALIFICATION_CODES[profession]):
            if not self._riziv.has_room(digit, code):
                continue
            diplomas = self._diplomas(profession, code, birth_year)
            if diplomas is not None:
                return code, diplomas
        raise ValueError(
            f"RIZIV numbers used up for {profession}: the demo holds out to about 1.9 "
            "million people, generate fewer"
        )

    def _diplomas(self, profession: str, code: str, birth_year: int) -> list[Record] | None:
        """The diplomas behind `code`, or None if the person is too young for them.

        Each diploma comes at its typical age plus some delay (which carries over to
        the next one), before the snapshot date. When the delays would push a diploma
        past that date it comes at its typical age, or a year after the one before if
        that is later; only if even that is too late is the person too young.
        """
        rng = self._rng
        diplomas: list[Record] = []
        previous_year, previous_age = birth_year, 0
        for title, age in DIPLOMA_PLANS[profession, code]:
            delay = GRADUATION_DELAY.pick(rng)
            month_day = GRADUATION_DAY.pick(rng)
            year = previous_year + (age - previous_age) + delay
            # ISO dates with four-digit years compare correctly as strings.
            if f"{year}{month_day}" >= self._today:
                year = max(birth_year + age, previous_year + 1)
                if f"{year}{month_day}" >= self._today:
                    return None
            diplomas.append({"title": title, "date": f"{year}{month_day}"})
            previous_year, previous_age = year, age
        return diplomas


def generate_professionals(
    count: int,
    seed: int,
    version: str = DEFAULT_VERSION,
    inactive_share: float = 0.0,
) -> Iterator[Record]:
    """Yield `count` demo professionals as snapshot lines (dicts), one at a time.

    Deterministic for (`seed`, `version`, `inactive_share`), and the first `n` people do
    not depend on `count`. Every SSIN is unique, with valid check digits matching the
    birth date (century included) and the gender (odd birth sequence: man). Every
    RIZIV number is unique and valid, its first digit per `RIZIV_PROFESSION_DIGIT` and
    its last three the `qualification_code`, which the person's diplomas support; the
    keys `riziv_number`, `riziv_status` and `qualification_code` are absent for a
    profession without a RIZIV number. About 10% of people hold two professions.

    Everyone is active (visa and RIZIV number active, no practice ban, not deceased),
    except a share `inactive_share` (0 to 1) stopped for one of `STOP_REASONS`. People
    are 25 to 70 years old on the date of `version`.

    Memory stays constant whatever `count` is. Raises ValueError at once for a negative
    count, an `inactive_share` outside 0..1, or more people than birth dates and
    sequences can number (about 16 million); and while generating, once a profession has
    used up its RIZIV numbers, which happens somewhere near 1.9 million people.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if not 0.0 <= inactive_share <= 1.0:
        raise ValueError("inactive_share must be between 0 and 1")
    generator = _Generator(seed, version, inactive_share)
    if count > generator.capacity:
        raise ValueError(f"at most {generator.capacity} people can be generated")
    return (generator.person(index) for index in range(count))


# --- status changes --------------------------------------------------------------------


def apply_stop_reason(record: Record, reason: str) -> tuple[Record, str]:
    """Return a copy of `record` stopped for `reason`, and the reason actually applied.

    `visa_inactive` makes the visa of every profession inactive; `riziv_stopped` makes
    every RIZIV number inactive, or falls back to `visa_inactive` when the person has no
    RIZIV number at all; `practice_ban` and `deceased` set their flag. The input is not
    modified.
    """
    if reason not in STOP_REASONS:
        raise ValueError(f"unknown stop reason {reason!r}; expected one of {STOP_REASONS}")
    changed = dict(record)
    professions = [dict(entry) for entry in record.get("professions", [])]
    changed["professions"] = professions
    if reason == "riziv_stopped" and not any("riziv_number" in p for p in professions):
        reason = "visa_inactive"
    if reason == "visa_inactive":
        for entry in professions:
            entry["visa_status"] = "inactive"
    elif reason == "riziv_stopped":
        for entry in professions:
            if "riziv_number" in entry:
                entry["riziv_status"] = "inactive"
    elif reason == "practice_ban":
        changed["practice_ban"] = True
    else:
        changed["deceased"] = True
    return changed, reason


def follow_up_snapshot(
    records: Iterable[Record],
    change_percent: float,
    seed: int,
    new_version: str,
    total: int,
) -> Iterator[tuple[Record, str | None]]:
    """Yield the next snapshot of `records`: each record with the stop reason applied.

    Exactly `round(total * change_percent / 100)` records change, chosen by (`seed`,
    `total`) alone; their reasons are spread over `STOP_REASONS` in equal shares (give
    or take one), and each changed record gets `version = new_version`. Unchanged records
    come through as they are, with reason None. A `riziv_stopped` pick for someone
    without a RIZIV number is yielded as `visa_inactive`, the reason applied.

    `total` is the number of records, needed up front to choose exactly; only the
    chosen indices are held in memory. Raises ValueError (after the last record) when
    `records` does not hold exactly `total` records, and at once for a `change_percent`
    outside 0..100 or a negative `total`.
    """
    if not 0.0 <= change_percent <= 100.0:
        raise ValueError("change_percent must be between 0 and 100")
    if total < 0:
        raise ValueError("total must not be negative")
    changes = round(total * change_percent / 100)
    rng = random.Random(f"follow-up:{seed}:{total}")
    # `sample` returns the picks in random order, so dealing reasons round-robin over
    # that order both evens out the shares and scatters them over the file.
    chosen = rng.sample(range(total), changes)
    reasons = {index: STOP_REASONS[position % 4] for position, index in enumerate(chosen)}
    return _follow_up(records, reasons, new_version, total)


def _follow_up(
    records: Iterable[Record], reasons: dict[int, str], new_version: str, total: int
) -> Iterator[tuple[Record, str | None]]:
    seen = 0
    for index, record in enumerate(records):
        seen = index + 1
        reason = reasons.get(index)
        if reason is None:
            yield record, None
            continue
        changed, applied = apply_stop_reason(record, reason)
        changed["version"] = new_version
        yield changed, applied
    if seen != total:
        raise ValueError(f"expected {total} records, got {seen}")


# --- files -----------------------------------------------------------------------------


def _open_text(path: str | os.PathLike[str], *, write: bool) -> IO[str]:
    """Open a snapshot file as UTF-8 text, through gzip when its name ends in `.gz`."""
    if os.fspath(path).endswith(".gz"):
        if write:
            # Level 3: JSON Lines of people compress about as well as at level 6 (12% of
            # the size against 9%) at over twice the speed, which dominates at a million.
            return gzip.open(path, "wt", encoding="utf-8", compresslevel=3)
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, "w" if write else "r", encoding="utf-8")


def write_snapshot(path: str | os.PathLike[str], records: Iterable[Record]) -> int:
    """Write `records` to `path` as JSON Lines (gzip if it ends in `.gz`); return the count.

    UTF-8 with the characters as they are (names such as "Chloé" are not escaped), one
    compact JSON object a line.
    """
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    written = 0
    with _open_text(path, write=True) as out:
        for record in records:
            out.write(encode(record))
            out.write("\n")
            written += 1
    return written


def read_snapshot(path: str | os.PathLike[str]) -> Iterator[Record]:
    """Yield the records of a JSON Lines snapshot (gzip if it ends in `.gz`), streaming.

    Blank lines are skipped. Raises ValueError naming the line number (never its
    content, which holds personal data) for a line that is not a JSON object.
    """
    with _open_text(path, write=False) as lines:
        for line_number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"line {line_number}: not valid JSON ({error.msg})") from None
            if not isinstance(record, dict):
                raise ValueError(f"line {line_number}: not a JSON object")
            yield record


def count_snapshot_records(path: str | os.PathLike[str]) -> int:
    """Count the records (non-blank lines) of a snapshot without parsing them."""
    with _open_text(path, write=False) as lines:
        return sum(1 for line in lines if line.strip())
