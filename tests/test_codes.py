"""Typed rejection codes: every rejection carries a code, and the data-quality tables
count rejections by their code exactly as they counted them when the kind was read off
the reason's wording (the reference below is that old reading, kept only as a check)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import write_bulk_csv, write_cases

from audit_analysis import load_cycle
from audit_analysis.analysis.quality import REJECTION_KINDS, classified_rejections
from audit_analysis.exceptions import RejectionCode

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"

_SHEET = re.compile(r"""^sheet (?P<q>['"]).*?(?P=q): """)
_OLD = (
    ("duplicate", re.compile(r"^duplicate\b")),
    ("unknown rating", re.compile(r"^unknown rating\b")),
    (
        "template",
        re.compile(
            r"^(unknown template version|standard \d+ of the .* template\b|"
            r"the return is for audit cycle)"
        ),
    ),
    ("agency", re.compile(r"^(unknown agency|no agency)\b")),
    ("case ID", re.compile(r"^(no )?case id\b")),
    ("standard", re.compile(r"^(no standard number|unreadable standard|standard \d+ is not in)")),
)


def old_kind(reason: str, source_file: str, whole_file: bool) -> str:
    if source_file == "cases.csv":
        return "cases file"
    text = _SHEET.sub("", reason.strip()).casefold()
    for kind, pattern in _OLD:
        if pattern.match(text):
            return kind
    return "whole file" if whole_file else "other"


@pytest.mark.parametrize("cycle", ["2016-17", "2017-18", "2018-19"])
def test_codes_give_the_kinds_the_wording_gave(cycle):
    data = load_cycle(DEMO, cycle)
    table = classified_rejections(data)
    assert set(table["code"]) <= {c.value for c in RejectionCode}
    for r in table.itertuples():
        assert r.kind == old_kind(r.reason, r.source_file, r.whole_file), r.reason
        assert r.kind in REJECTION_KINDS


def test_every_kind_of_problem_gets_its_code(tmp_path):
    folder = tmp_path / "2018-19"
    write_cases(
        folder,
        [
            ["C01", "early_help", "4", "900101", "", ""],
            ["C02", "neglect", "9", "900102", "", ""],
            ["C03", "unknown theme", "15", "900103", "", ""],
            ["", "neglect", "9", "900104", "", ""],
        ],
    )
    write_bulk_csv(
        folder / "returns" / "all.csv",
        ["agency", "case_id", "standard", "rating", "evidence"],
        [
            ["WMP", "C01", "1", "met", ""],
            ["WMP", "C01", "1", "unmet", ""],  # duplicate
            ["WMP", "C01", "99", "met", ""],  # standard
            ["WMP", "C01", "S?", "met", ""],  # unreadable standard
            ["Nobody", "C01", "2", "met", ""],  # agency
            ["WMP", "C99", "2", "met", ""],  # case ID
            ["WMP", "C02", "2", "maybe", ""],  # rating
        ],
    )
    (folder / "returns" / "empty.csv").write_text("", encoding="utf-8")  # file
    (folder / "deep_dive.csv").write_text("case_ref,discussed\nC77,yes\n", encoding="utf-8")
    (folder / "development_areas.csv").write_text(
        "area_id,kloe,standards,area\nA1,9,,text\n", encoding="utf-8"
    )
    data = load_cycle(tmp_path, "2018-19")
    table = classified_rejections(data)
    for r in table.itertuples():
        assert r.kind == old_kind(r.reason, r.source_file, r.whole_file), r.reason
    assert set(table["code"]) == {
        "duplicate", "standard", "agency", "case-id", "unknown-rating", "file",
        "case-left-out", "case-field", "record", "development",
    }  # fmt: skip
