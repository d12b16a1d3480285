"""docs/data-contract.md kept true to the code: its tables are read here and checked
against what the loader, the registers and the enums actually hold, on small synthetic
cycles built with conftest's helpers. Every identifier here is invented."""

from __future__ import annotations

import dataclasses
import itertools
import re
import subprocess
from pathlib import Path

import pytest
from conftest import CASES, write_bulk_csv, write_cases, write_toolkit

from audit_analysis import CycleData, RejectionCode, load_cycle
from audit_analysis.io import returns as readers
from audit_analysis.io.agencies import agency_codes, resolve_agency
from audit_analysis.io.frameworks import load_framework
from audit_analysis.io.ratings import (
    CATEGORIES,
    NOT_APPLICABLE,
    NOT_RECORDED,
    SCALE,
    rating_words,
)
from audit_analysis.io.schemas import FORMS, PRIORITIES, STATUSES
from audit_analysis.io.text import header_key, label_key

ROOT = Path(__file__).resolve().parent.parent
DOC_PATH = ROOT / "docs" / "data-contract.md"
DOC = DOC_PATH.read_text(encoding="utf-8")
# Written in two parts so that this file does not itself hold the text it looks for.
FORBIDDEN = "../" + "shared"


# ----------------------------------------------------------------- reading the doc


def section(heading: str) -> str:
    """The text under ``heading`` (a whole line such as ``## Ratings``) up to the next
    heading of the same or a higher level, code blocks skipped over."""
    lines = DOC.splitlines()
    assert heading in lines, f"the doc has no heading {heading!r}"
    level = len(heading.split(" ")[0])
    out, fenced = [], False
    for line in lines[lines.index(heading) + 1 :]:
        if line.startswith("```"):
            fenced = not fenced
        marks = line.split(" ")[0]
        if not fenced and marks and set(marks) == {"#"} and len(marks) <= level:
            break
        out.append(line)
    return "\n".join(out)


def tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Every markdown table in ``text``: (heading cells, rows of cells)."""
    found: list[tuple[list[str], list[list[str]]]] = []
    block: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            block.append([cell.strip() for cell in line.strip().strip("|").split("|")])
            continue
        if block:
            assert len(block) >= 2 and set("".join(block[1])) <= set("-: "), block[:2]
            found.append((block[0], block[2:]))
            block = []
    return found


def table(heading: str, index: int = 0) -> tuple[list[str], list[list[str]]]:
    found = tables(section(heading))
    assert len(found) > index, f"no table {index} under {heading!r}"
    return found[index]


def ticked(cell: str) -> list[str]:
    """The `code` spans of a cell, in order."""
    return re.findall(r"`([^`]+)`", cell)


def first_ticked(rows: list[list[str]]) -> list[str]:
    names = []
    for row in rows:
        spans = ticked(row[0])
        assert spans, f"no name in the first cell of {row}"
        names.append(spans[0])
    return names


# ----------------------------------------------------------------- a small cycle


@pytest.fixture
def small_cycle(cycle_dir: Path) -> CycleData:
    """A cycle with a toolkit, a bulk table, a skipped file, a rejected row of each kind
    the four tables need, a cases.csv with a field to blank and one optional file."""
    write_cases(cycle_dir, rows=[*CASES, ["C05", "neglect", "forty", "", "", ""]])
    returns = cycle_dir / "returns"
    write_toolkit(
        returns / "WMP" / "C01.xlsx",
        [(1, "met", "seen in the plan"), (2, "maybe", None), (3, None, None)],
    )
    write_bulk_csv(
        returns / "CCG" / "ccg.csv",
        ["case_id", "case_id_type", "standard", "rating", "evidence"],
        [["TR-102", "tribal", "1", "partially met", ""], ["C03", "", "S1", "Exceeded.", "x"]],
    )
    (returns / "notes.txt").write_text("not a return", encoding="utf-8")
    (cycle_dir / "family_feedback.csv").write_text(
        "case_ref,invited,responded\nC01,yes,no\nC09,yes,yes\n", encoding="utf-8"
    )
    data = load_cycle(cycle_dir.parent, "2018-19")
    for name in ("ratings", "cases", "returns", "rejections"):
        assert not getattr(data, name).empty, name
    return data


# ----------------------------------------------------------------- the tests


def test_no_tracked_file_mentions_the_shared_folder():
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    names = {name for name in listed.decode("utf-8").split("\0") if name}
    # The doc and this test may not be committed yet: they are checked all the same.
    names |= {"docs/data-contract.md", "tests/test_data_contract.py", "README.md"}
    assert len(names) > 10
    offenders = []
    for name in sorted(names):
        path = ROOT / name
        if not path.is_file():
            continue  # deleted in the working tree
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary: workbooks, images
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if FORBIDDEN in text:
            offenders.append(name)
    assert offenders == []


def test_every_rejection_code_is_documented_and_no_other():
    heading, rows = table("## The rejection log")
    assert heading[0] == "code"
    documented = first_ticked(rows)
    real = [code.value for code in RejectionCode]
    assert sorted(set(documented) - set(real)) == [], "documented codes that do not exist"
    assert sorted(set(real) - set(documented)) == [], "codes missing from the doc"
    assert len(documented) == len(set(documented))
    kinds = {ticked(row[0])[0]: row[-1] for row in rows}
    for code in RejectionCode:
        row_kind, file_kind = code.kind(False), code.kind(True)
        expected = (
            row_kind if row_kind == file_kind else f"{row_kind}; {file_kind} when the whole file"
        )
        assert kinds[code.value] == expected, code


def test_every_code_in_the_doc_text_is_real():
    # The prose names codes as "(`file`)", "else `standard`" or "a `case-id` rejection";
    # the only other lower-case words quoted in parentheses are framework keys.
    patterns = (r"\(`([a-z-]+)`\)", r"else `([a-z-]+)`", r"`([a-z-]+)` rejection")
    quoted = {word for pattern in patterns for word in re.findall(pattern, DOC)}
    keys = set()
    for cycle in ("2016-17", "2017-18", "2018-19"):
        framework = load_framework(cycle)
        keys |= {s.key for s in framework.standards} | {k.key for k in framework.kloes}
    real = {code.value for code in RejectionCode}
    named = quoted - keys
    assert named - real == set(), "the doc names codes that do not exist"
    assert len(named) >= 8, sorted(named)


@pytest.mark.parametrize("name", ["ratings", "cases", "returns", "rejections"])
def test_documented_columns_and_dtypes_are_load_cycles(small_cycle, name):
    heading, rows = table(f"### `{name}`")
    assert heading[:2] == ["column", "dtype"]
    documented = [(ticked(row[0])[0], ticked(row[1])[0]) for row in rows]
    frame = getattr(small_cycle, name)
    actual = [(column, str(frame[column].dtype)) for column in frame.columns]
    assert documented == actual


def test_documented_optional_tables_are_load_cycles(small_cycle):
    _, rows = table("### The optional tables")
    documented = {}
    for row in rows:
        plain = re.sub(r"\([^)]*\)", "", row[1])  # drop the notes in parentheses
        documented[ticked(row[0])[0]] = ticked(plain)
    assert set(documented) == {
        "deep_dive",
        "learning_event",
        "family_feedback",
        "development.areas",
        "development.progress",
        "development.recommendations",
    }
    assert len(small_cycle.family_feedback) == 1  # the file was read (C09 is rejected)
    for dotted, columns in documented.items():
        frame = small_cycle
        for part in dotted.split("."):
            frame = getattr(frame, part)
        assert columns == list(frame.columns), dotted


def test_cycle_data_attributes_are_documented():
    _, rows = table("## What `load_cycle` gives back")
    assert first_ticked(rows) == [field.name for field in dataclasses.fields(CycleData)]


def test_documented_forms_statuses_and_priorities_are_the_schemas():
    _, returns_rows = table("### `returns`")
    meaning = {ticked(row[0])[0]: row[-1] for row in returns_rows}
    assert set(ticked(meaning["form"])) == set(FORMS)
    assert set(ticked(meaning["status"])) == set(STATUSES)
    _, cases_rows = table("### `cases`")
    meaning = {ticked(row[0])[0]: row[-1] for row in cases_rows}
    assert set(ticked(meaning["priority"])) == set(PRIORITIES)


def documented_ratings() -> dict[str, list[str]]:
    _, rows = table("## Ratings")
    return {ticked(row[0])[0]: ticked(row[1]) for row in rows}


def test_documented_rating_words_are_the_data_files():
    documented = documented_ratings()
    assert list(documented) == [*SCALE, NOT_APPLICABLE, NOT_RECORDED]
    assert documented[NOT_RECORDED] == []  # a blank cell, described in words
    words = rating_words()
    assert {c: sorted(w) for c, w in documented.items() if w} == {
        c: sorted(w) for c, w in words.items()
    }
    order = re.search(r"categories run (.*?)\. The first two", DOC, flags=re.S)
    assert order is not None
    assert ticked(order.group(1)) == list(CATEGORIES)


def test_documented_rating_words_are_accepted_by_the_loader(cycle_dir):
    written: list[tuple[str, str | None]] = []
    for category, words in documented_ratings().items():
        for word in words:
            # as listed, and as an auditor might type it
            written += [(word, category), (f" {word.upper().replace(' ', '-')}.", category)]
    written += [("", NOT_RECORDED), ("maybe", None)]
    slots = itertools.product(["WMP", "CCG", "EDU"], ["C01", "C02", "C03", "C04"], range(1, 25))
    rows = [
        [agency, case, str(standard), word]
        for (agency, case, standard), (word, _) in zip(slots, written, strict=False)
    ]
    assert len(rows) == len(written)
    write_bulk_csv(
        cycle_dir / "returns" / "all.csv", ["agency", "case_id", "standard", "rating"], rows
    )
    data = load_cycle(cycle_dir.parent, "2018-19")
    got = dict(zip(data.ratings["source_row"], data.ratings["rating"].astype(str), strict=True))
    for row, (word, category) in enumerate(written, start=2):
        if category is None:
            continue
        assert got.get(row) == category, word
    unknown = data.rejections
    assert list(unknown["code"]) == [RejectionCode.UNKNOWN_RATING.value]
    assert list(unknown["raw_value"]) == ["maybe"]


@pytest.mark.parametrize(
    ("heading", "index"),
    [("## Form 1: the toolkit workbook", 0), ("## Form 2: the bulk table", 0)],
)
def test_documented_table_headings_are_the_readers(heading, index):
    synonyms = {
        "standard": readers.STANDARD_HEADERS,
        "rating": readers.RATING_HEADERS,
        "evidence": readers.EVIDENCE_HEADERS,
        "agency": readers.AGENCY_HEADERS,
        "case_id": readers.CASE_ID_HEADERS,
        "case_id_type": readers.CASE_ID_TYPE_HEADERS,
    }
    head, rows = table(heading, index)
    assert head[:2] == ["column", "headings accepted"]
    assert rows
    for row in rows:
        field = row[0]
        assert {header_key(h) for h in ticked(row[1])} == synonyms[field], field
    if "bulk" in heading:
        needed = {row[0] for row in rows if row[2] == "yes"}
        assert needed == {"case_id", "standard", "rating"}


def test_documented_toolkit_labels_are_the_readers():
    head, rows = table("## Form 1: the toolkit workbook", 1)
    assert head[:2] == ["label", "key"]
    documented = {label_key(ticked(row[0])[0]): ticked(row[1])[0] for row in rows}
    assert documented == readers.LABELS


def test_agency_register_is_documented():
    head, rows = table("## Agencies")
    assert head[0] == "code"
    assert first_ticked(rows) == agency_codes()
    for row in rows:
        code = ticked(row[0])[0]
        names = [row[1], *(name for name in row[2].split(";") if name.strip())]
        for name in names:
            assert resolve_agency(name) == code, name


def test_builtin_frameworks_are_documented():
    head, rows = table("### Built in")
    spans = re.compile(r"(\d+)-(\d+) \(KLOE (\d+)\)")
    columns = {2: ["2018-19"], 3: ["2016-17", "2017-18"]}
    for j, cycles in columns.items():
        total = int(re.search(r"\((\d+)\)", head[j]).group(1))
        for cycle in cycles:
            framework = load_framework(cycle)
            assert len(framework.standards) == total, cycle
            documented = set()
            for row in rows:
                first, last, kloe = map(int, spans.fullmatch(row[j]).groups())
                key = ticked(row[1])[0]
                documented.add(key)
                found = next(k for k in framework.kloes if k.key == key)
                assert found.number == kloe, (cycle, key)
                assert found.title == row[0], (cycle, key)
                assert [s.number for s in found.standards] == list(range(first, last + 1))
            assert documented == {k.key for k in framework.kloes}, cycle
