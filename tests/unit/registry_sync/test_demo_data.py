"""Demo snapshots: generated people, follow-up snapshots, files and the demo CLI."""

import csv
import gzip
import itertools
import json
import re
import tracemalloc
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from registry_sync.domain.identifiers import (
    PROFESSIONS,
    PROFESSIONS_WITH_RIZIV,
    QUALIFICATION_CODES,
    RIZIV_PROFESSION_DIGIT,
    is_valid_riziv_number,
    is_valid_ssin,
    ssin_check_digits,
)
from registry_sync.entrypoints.demo_cli import demo_app
from registry_sync.simulator.demo_data import (
    DEFAULT_VERSION,
    FLEMISH_MUNICIPALITIES,
    STOP_REASONS,
    Record,
    count_snapshot_records,
    follow_up_snapshot,
    generate_professionals,
    read_snapshot,
    write_snapshot,
)

SAMPLE = 20_000
SNAPSHOT_DATE = date(2026, 11, 27)
NEW_VERSION = "2026-12-04T22:00:00Z"

PERSON_KEYS = {
    "ssin",
    "last_name",
    "first_name",
    "gender",
    "birth_date",
    "language",
    "practice_ban",
    "deceased",
    "version",
    "professions",
}
PROFESSION_KEYS = {"profession", "visa_status", "visa_number", "diplomas"}
RIZIV_KEYS = {"riziv_number", "riziv_status", "qualification_code"}
CONVENTIONS = {"conventioned", "partially_conventioned", "not_conventioned"}


@pytest.fixture(scope="module")
def population() -> list[Record]:
    return list(generate_professionals(SAMPLE, seed=2026))


def professions_of(records: list[Record]) -> list[Record]:
    return [entry for record in records for entry in record["professions"]]


def is_active(record: Record) -> bool:
    return (
        not record["practice_ban"]
        and not record["deceased"]
        and all(entry["visa_status"] == "active" for entry in record["professions"])
        and all(entry.get("riziv_status", "active") == "active" for entry in record["professions"])
    )


def assert_documented_format(record: Any) -> None:
    """One snapshot line as SOURCE-FORMAT.md documents it, nothing more, nothing less."""
    assert isinstance(record, dict)
    assert set(record) == PERSON_KEYS
    for key in ("ssin", "last_name", "first_name", "version"):
        assert isinstance(record[key], str) and record[key]
    assert record["gender"] in {"M", "F"}
    assert record["language"] in {"nl", "fr", "en"}
    date.fromisoformat(record["birth_date"])
    assert isinstance(record["practice_ban"], bool)
    assert isinstance(record["deceased"], bool)
    assert isinstance(record["professions"], list) and record["professions"]
    for entry in record["professions"]:
        assert PROFESSION_KEYS <= set(entry) <= PROFESSION_KEYS | RIZIV_KEYS | {"convention"}
        assert entry["profession"] in PROFESSIONS
        assert entry["visa_status"] in {"active", "inactive"}
        assert entry["visa_number"].isdigit()
        if "riziv_number" in entry:
            assert set(entry) >= RIZIV_KEYS
            assert entry["riziv_status"] in {"active", "inactive"}
        else:
            assert not RIZIV_KEYS & set(entry)
        assert entry.get("convention", "conventioned") in CONVENTIONS
        for diploma in entry["diplomas"]:
            assert set(diploma) == {"title", "date"}
            assert isinstance(diploma["title"], str) and diploma["title"]
            date.fromisoformat(diploma["date"])


# --- generation ----------------------------------------------------------------------


def test_the_same_seed_gives_the_same_people() -> None:
    assert list(generate_professionals(300, seed=7)) == list(generate_professionals(300, seed=7))


def test_another_seed_gives_other_people() -> None:
    first = list(generate_professionals(300, seed=7))
    other = list(generate_professionals(300, seed=8))
    assert first != other
    # Chance alone could make a stray SSIN coincide, never a whole population.
    assert len({r["ssin"] for r in first} & {r["ssin"] for r in other}) < 3


def test_the_first_people_do_not_depend_on_how_many_are_asked_for() -> None:
    few = list(generate_professionals(100, seed=3))
    many = list(itertools.islice(generate_professionals(5_000, seed=3), 100))
    assert few == many


def test_generation_streams_in_constant_memory() -> None:
    # A million asked for, one produced: nothing is built up front.
    assert set(next(generate_professionals(1_000_000, seed=1))) == PERSON_KEYS
    tracemalloc.start()
    try:
        for _ in generate_professionals(5_000, seed=1):
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Keeping 5,000 records (or a set of their numbers) would take megabytes.
    assert peak < 64 * 1024


def test_every_generated_record_has_the_documented_format(population: list[Record]) -> None:
    for record in population:
        assert_documented_format(record)
        assert record["version"] == DEFAULT_VERSION


def test_every_ssin_is_valid_and_unique(population: list[Record]) -> None:
    ssins = [record["ssin"] for record in population]
    assert all(is_valid_ssin(ssin) for ssin in ssins)
    assert len(set(ssins)) == SAMPLE


def test_every_ssin_matches_birth_date_gender_and_century(population: list[Record]) -> None:
    born_after_2000 = 0
    for record in population:
        ssin, birth = record["ssin"], date.fromisoformat(record["birth_date"])
        assert ssin[:6] == birth.strftime("%y%m%d")
        assert int(ssin[6:9]) % 2 == (1 if record["gender"] == "M" else 0)
        # The check digits must be those of the right century, not just either variant.
        assert ssin[9:] == ssin_check_digits(ssin[:9], born_after_2000=birth.year >= 2000)
        born_after_2000 += birth.year >= 2000
    assert born_after_2000 > 0
    assert Counter(r["gender"] for r in population)["F"] / SAMPLE == pytest.approx(0.5, abs=0.03)


def test_people_are_25_to_70_on_the_snapshot_date(population: list[Record]) -> None:
    ages = [
        (SNAPSHOT_DATE - date.fromisoformat(record["birth_date"])).days / 365.25
        for record in population
    ]
    assert 24.9 < min(ages) < 26 and 69 < max(ages) < 70.1


def test_every_riziv_number_is_valid_and_unique(population: list[Record]) -> None:
    numbers = [e["riziv_number"] for e in professions_of(population) if "riziv_number" in e]
    assert all(is_valid_riziv_number(number) for number in numbers)
    assert len(set(numbers)) == len(numbers) > SAMPLE * 0.9


def test_riziv_numbers_carry_the_profession_digit_and_qualification_code(
    population: list[Record],
) -> None:
    for entry in professions_of(population):
        profession = entry["profession"]
        if profession not in PROFESSIONS_WITH_RIZIV:
            assert not RIZIV_KEYS & set(entry)
            continue
        number, code = entry["riziv_number"], entry["qualification_code"]
        assert number[0] == RIZIV_PROFESSION_DIGIT[profession]
        assert number[8:] == code
        assert code in QUALIFICATION_CODES[profession]


def test_the_person_part_of_riziv_numbers_is_unique_in_a_sample(
    population: list[Record],
) -> None:
    # Two people never share the first eight digits at this size (see the module docs).
    bases = [e["riziv_number"][:8] for e in professions_of(population) if "riziv_number" in e]
    assert len(set(bases)) == len(bases)


def test_everyone_is_active_by_default(population: list[Record]) -> None:
    assert all(is_active(record) for record in population)


def test_real_professions_are_weighted_like_the_workforce(population: list[Record]) -> None:
    counts = Counter(entry["profession"] for entry in professions_of(population))
    assert set(counts) == set(PROFESSIONS)
    assert counts["nurse"] > counts["physician"] > counts["physiotherapist"]
    assert counts["physiotherapist"] > counts["dietitian"]


def test_about_one_in_ten_holds_two_professions(population: list[Record]) -> None:
    sizes = Counter(len(record["professions"]) for record in population)
    assert set(sizes) == {1, 2}
    assert sizes[2] / SAMPLE == pytest.approx(0.10, abs=0.02)
    pairs = Counter(
        frozenset(e["profession"] for e in r["professions"])
        for r in population
        if len(r["professions"]) == 2
    )
    assert pairs.most_common(1)[0][0] == {"nurse", "midwife"}


def test_most_people_speak_dutch_and_some_french_or_english(population: list[Record]) -> None:
    languages = Counter(record["language"] for record in population)
    assert languages["nl"] / SAMPLE == pytest.approx(0.85, abs=0.03)
    assert languages["fr"] > languages["en"] > 0


def test_names_are_flemish_with_hundreds_of_combinations(population: list[Record]) -> None:
    dutch = [r for r in population if r["language"] == "nl"]
    assert {"Peeters", "Janssens", "Van den Broeck", "Van Schelvergem"} <= {
        r["last_name"] for r in dutch
    }
    assert len({(r["first_name"], r["last_name"]) for r in population}) > 500


def test_general_practitioners_hold_a_gp_diploma(population: list[Record]) -> None:
    gps = [
        e
        for e in professions_of(population)
        if e["profession"] == "physician" and e["qualification_code"] in {"003", "004"}
    ]
    assert gps
    for entry in gps:
        titles = [diploma["title"] for diploma in entry["diplomas"]]
        assert titles == ["Master in de geneeskunde", "Master in de huisartsgeneeskunde"]


def test_diplomas_come_after_birth_in_order_and_before_the_snapshot(
    population: list[Record],
) -> None:
    for record in population:
        birth = date.fromisoformat(record["birth_date"])
        for entry in record["professions"]:
            dates = [date.fromisoformat(d["date"]) for d in entry["diplomas"]]
            assert dates and dates == sorted(dates)
            assert (dates[0] - birth).days > 20 * 365
            assert dates[-1] < SNAPSHOT_DATE


def test_conventions_cover_the_three_values_or_are_absent(population: list[Record]) -> None:
    entries = professions_of(population)
    values = Counter(entry.get("convention") for entry in entries)
    assert set(values) == CONVENTIONS | {None}
    assert all("convention" not in e for e in entries if e["profession"] == "pharmacist")


def test_an_inactive_share_stops_that_share_for_each_reason() -> None:
    records = list(generate_professionals(4_000, seed=11, inactive_share=0.2))
    inactive = [record for record in records if not is_active(record)]
    assert len(inactive) / len(records) == pytest.approx(0.2, abs=0.03)
    assert any(r["deceased"] for r in inactive) and any(r["practice_ban"] for r in inactive)
    entries = professions_of(inactive)
    assert any(e["visa_status"] == "inactive" for e in entries)
    assert any(e.get("riziv_status") == "inactive" for e in entries)


def test_an_inactive_share_changes_who_is_active_and_nothing_else() -> None:
    active = list(generate_professionals(500, seed=11))
    some_inactive = list(generate_professionals(500, seed=11, inactive_share=0.3))
    assert [r["ssin"] for r in active] == [r["ssin"] for r in some_inactive]
    for plain, stopped in zip(active, some_inactive, strict=True):
        if is_active(stopped):
            assert stopped == plain


@pytest.mark.parametrize(
    ("count", "inactive_share"), [(-1, 0.0), (10, -0.1), (10, 1.5), (10**9, 0.0)]
)
def test_impossible_requests_are_refused(count: int, inactive_share: float) -> None:
    with pytest.raises(ValueError):
        generate_professionals(count, seed=1, inactive_share=inactive_share)


def test_flemish_municipalities_are_real_postcodes_of_flanders_and_brussels() -> None:
    assert len(FLEMISH_MUNICIPALITIES) >= 40
    assert len(set(FLEMISH_MUNICIPALITIES)) == len(FLEMISH_MUNICIPALITIES)
    assert {("9000", "Gent"), ("2000", "Antwerpen"), ("3000", "Leuven")} <= set(
        FLEMISH_MUNICIPALITIES
    )
    for postcode, name in FLEMISH_MUNICIPALITIES:
        assert len(postcode) == 4 and postcode.isdigit() and name
        # Wallonia has 1300-1499 and 4000-7999; none of those belong here.
        assert 1000 <= int(postcode) < 1300 or 1500 <= int(postcode) < 4000 or int(postcode) >= 8000


# --- follow-up snapshots -------------------------------------------------------------


def follow_up(records: list[Record], percent: float, seed: int) -> list[tuple[Record, str | None]]:
    return list(follow_up_snapshot(records, percent, seed, NEW_VERSION, len(records)))


def test_follow_up_changes_exactly_the_requested_share(population: list[Record]) -> None:
    pairs = follow_up(population, 3.3, seed=5)
    assert len(pairs) == SAMPLE
    assert sum(reason is not None for _, reason in pairs) == round(SAMPLE * 3.3 / 100) == 660


@pytest.mark.parametrize(
    ("total", "percent", "expected"), [(999, 10, 100), (10, 100, 10), (10, 0, 0)]
)
def test_follow_up_rounds_the_count_of_changes(total: int, percent: float, expected: int) -> None:
    records = list(generate_professionals(total, seed=1))
    changed = [reason for _, reason in follow_up(records, percent, seed=2) if reason]
    assert len(changed) == expected


def test_follow_up_spreads_changes_over_the_four_reasons(population: list[Record]) -> None:
    reasons = Counter(reason for _, reason in follow_up(population, 4, seed=5) if reason)
    assert set(reasons) == set(STOP_REASONS)
    # Equal shares, except that people without a RIZIV number lose their visa instead.
    assert reasons["practice_ban"] == reasons["deceased"] == 200
    assert reasons["visa_inactive"] + reasons["riziv_stopped"] == 400
    assert reasons["riziv_stopped"] > 150


def test_follow_up_applies_each_reason_and_the_new_version(population: list[Record]) -> None:
    for (after, reason), before in zip(follow_up(population, 5, seed=5), population, strict=True):
        if reason is None:
            assert after == before
            continue
        assert after["version"] == NEW_VERSION and after["ssin"] == before["ssin"]
        assert not is_active(after)
        entries = after["professions"]
        if reason == "visa_inactive":
            assert all(entry["visa_status"] == "inactive" for entry in entries)
        elif reason == "riziv_stopped":
            assert all(e["riziv_status"] == "inactive" for e in entries if "riziv_number" in e)
            assert all(entry["visa_status"] == "active" for entry in entries)
        elif reason == "practice_ban":
            assert after["practice_ban"] and not after["deceased"]
        else:
            assert after["deceased"] and not after["practice_ban"]


def test_follow_up_leaves_the_input_records_untouched() -> None:
    records = list(generate_professionals(50, seed=4))
    copies = json.loads(json.dumps(records))
    follow_up(records, 100, seed=1)
    assert records == copies


def test_follow_up_is_deterministic_by_seed(population: list[Record]) -> None:
    def changed(seed: int) -> list[tuple[int, str | None]]:
        pairs = follow_up(population[:2_000], 10, seed)
        return [(index, reason) for index, (_, reason) in enumerate(pairs) if reason]

    assert changed(seed=1) == changed(seed=1)
    assert changed(seed=1) != changed(seed=2)


def test_riziv_stop_becomes_a_visa_stop_for_someone_without_riziv_number() -> None:
    psychologist = {
        "ssin": "85073003328",
        "last_name": "Segers",
        "first_name": "Albert",
        "gender": "M",
        "birth_date": "1985-07-30",
        "language": "nl",
        "practice_ban": False,
        "deceased": False,
        "version": DEFAULT_VERSION,
        "professions": [
            {
                "profession": "psychologist",
                "visa_status": "active",
                "visa_number": "123456",
                "diplomas": [],
            },
        ],
    }
    pairs = follow_up([psychologist] * 4, 100, seed=1)
    reasons = Counter(reason for _, reason in pairs)
    assert reasons == {"visa_inactive": 2, "practice_ban": 1, "deceased": 1}


def test_follow_up_refuses_a_total_that_does_not_match_the_records() -> None:
    records = list(generate_professionals(10, seed=1))
    with pytest.raises(ValueError, match="expected 11 records, got 10"):
        list(follow_up_snapshot(records, 50, 1, NEW_VERSION, total=11))


@pytest.mark.parametrize(("percent", "total"), [(-1, 10), (100.5, 10), (10, -1)])
def test_follow_up_refuses_impossible_arguments(percent: float, total: int) -> None:
    with pytest.raises(ValueError):
        follow_up_snapshot([], percent, 1, NEW_VERSION, total)


# --- files ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["snapshot.jsonl", "snapshot.jsonl.gz"])
def test_written_snapshot_is_json_lines_in_the_documented_format(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    records = list(generate_professionals(300, seed=9))
    assert write_snapshot(path, records) == 300
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as lines:
        parsed = [json.loads(line) for line in lines]
    assert parsed == records
    for record in parsed:
        assert_documented_format(record)
    assert count_snapshot_records(path) == 300
    assert list(read_snapshot(path)) == records


def test_names_are_written_as_utf8_text(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.jsonl"
    write_snapshot(path, [{"first_name": "Chloé", "last_name": "Diëtist"}])
    assert path.read_bytes() == '{"first_name":"Chloé","last_name":"Diëtist"}\n'.encode()


def test_a_bad_line_is_reported_by_number_without_its_content(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.jsonl"
    path.write_text('{"ssin": "85073003328"}\n\n{"ssin": "85073003328",\n', encoding="utf-8")
    assert count_snapshot_records(path) == 2
    with pytest.raises(ValueError, match=r"^line 3: not valid JSON") as raised:
        list(read_snapshot(path))
    assert "85073003328" not in str(raised.value)


# --- the demo CLI --------------------------------------------------------------------


def test_cli_generates_a_snapshot_and_a_follow_up_with_changes_by_line(tmp_path: Path) -> None:
    runner = CliRunner()
    first, second, changes = tmp_path / "s1.jsonl.gz", tmp_path / "s2.jsonl", tmp_path / "c.csv"
    generated = runner.invoke(
        demo_app, ["generate", "--count", "2000", "--seed", "4", "--output", str(first)]
    )
    assert generated.exit_code == 0, generated.output
    assert "2,000" in generated.output
    assert list(read_snapshot(first)) == list(generate_professionals(2_000, seed=4))

    followed = runner.invoke(
        demo_app,
        [
            "follow-up",
            "--from",
            str(first),
            "--change-percent",
            "10",
            "--seed",
            "8",
            "--output",
            str(second),
            "--changes-file",
            str(changes),
            "--version",
            NEW_VERSION,
        ],
    )
    assert followed.exit_code == 0, followed.output
    assert "200" in followed.output

    with changes.open(encoding="utf-8", newline="") as rows:
        changed = {int(row["line"]): row["reason"] for row in csv.DictReader(rows)}
    assert len(changed) == 200 and set(changed.values()) <= set(STOP_REASONS)
    text = changes.read_text(encoding="utf-8")
    assert text.startswith("line,reason\n")
    assert not re.search(r"\d{11}", text)  # no national register number, nor a RIZIV one
    lines = second.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2_000
    for number, line in enumerate(lines, start=1):
        record = json.loads(line)
        assert (record["version"] == NEW_VERSION) == (number in changed)
        assert record["ssin"] not in followed.output


def test_cli_follow_up_refuses_to_overwrite_its_source(tmp_path: Path) -> None:
    source = tmp_path / "s1.jsonl"
    write_snapshot(source, generate_professionals(10, seed=1))
    result = CliRunner().invoke(
        demo_app,
        [
            "follow-up",
            "--from",
            str(source),
            "--change-percent",
            "10",
            "--seed",
            "1",
            "--output",
            str(source),
        ],
    )
    assert result.exit_code != 0
    assert count_snapshot_records(source) == 10
