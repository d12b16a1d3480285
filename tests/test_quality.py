"""quality: the data-quality tables against hand counts on one small cycle on disk.

The cycle's returns:

* WMP, toolkit for C01 on the 2018-19 template: standards 1-10 met (1-5 with evidence),
  11-20 not met (11-12 with evidence), 21-23 n/a, 24 left blank (not recorded).
* WMP, toolkit for C02 on the 2017-18 template: its standards 1-23 all met, no evidence
  (so 2018-19's standard 14 is missing).
* WMP, toolkit for C03 on an unknown template version (2009-10): rejected whole.
* CCG, bulk CSV, 7 rows: 3 accepted (C01 s1 met with evidence, C01 s2 unmet with none,
  C02 s5 exceeded with evidence); rejected: an unknown rating, an unknown case ID, a
  duplicate, standard 99.
* A toolkit naming an unknown agency, and a file that is not a workbook: rejected
  whole, tied to no agency. A notes file: skipped.
* cases.csv has a fifth case, C05, with an unknown priority: a cases-file rejection.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import CASES, write_bulk_csv, write_cases, write_toolkit

from audit_analysis import load_cycle
from audit_analysis.analysis.quality import (
    UNATTRIBUTED,
    agency_summary,
    classified_rejections,
    classify_rejection,
    completeness,
    coverage,
    evidence_rate,
    rejections_summary,
    returns_by_agency,
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data") / "2018-19"
    write_cases(folder, rows=[*CASES, ["C05", "urgent", "7", "", "", ""]])
    returns = folder / "returns"
    current = (
        [(s, "met", "seen on record" if s <= 5 else None) for s in range(1, 11)]
        + [(s, "not met", "not evidenced" if s <= 12 else None) for s in range(11, 21)]
        + [(s, "n/a", None) for s in range(21, 24)]
        + [(24, None, None)]
    )
    write_toolkit(returns / "wmp" / "c01.xlsx", current, agency="WMP", case_id="C01")
    write_toolkit(
        returns / "wmp" / "c02.xlsx",
        [(s, "met", None) for s in range(1, 24)],
        agency="WMP",
        case_id="C02",
        template_version="2017-18",
    )
    write_toolkit(
        returns / "wmp" / "c03.xlsx",
        [(1, "met", None)],
        agency="WMP",
        case_id="C03",
        template_version="2009-10",
    )
    write_bulk_csv(
        returns / "ccg.csv",
        ["agency", "case_id", "standard", "rating", "evidence"],
        [
            ["CCG", "C01", "1", "met", "evidence A"],
            ["CCG", "C01", "2", "unmet", ""],
            ["CCG", "C01", "3", "maybe", ""],
            ["CCG", "ZZZ", "1", "met", ""],
            ["CCG", "C01", "1", "unmet", ""],
            ["CCG", "C02", "99", "met", ""],
            ["CCG", "C02", "5", "exceeded", "x"],
        ],
    )
    write_toolkit(returns / "leisure.xlsx", [(1, "met", None)], agency="Leisure Centre")
    (returns / "broken.xlsx").write_bytes(b"this is not a workbook")
    (returns / "notes.txt").write_text("remember to chase SCH", encoding="utf-8")
    return load_cycle(folder.parent, "2018-19")


def test_fixture_loaded_as_described(data):
    counts = data.ratings.groupby("agency").size().to_dict()
    assert counts == {"CCG": 3, "WMP": 47}
    assert len(data.rejections) == 8


def test_returns_by_agency(data):
    table = returns_by_agency(data)
    assert table["agency"].tolist() == ["CCG", "WMP", UNATTRIBUTED]
    rows = table.set_index("agency")
    assert rows.loc["WMP"].to_dict() == {
        "returns": 3,
        "toolkit": 3,
        "bulk": 0,
        "cases": 2,
        "ratings": 47,
        "rejected_rows": 1,
        "template_versions": "2017-18 (1), 2018-19 (1)",
        "on_old_template": 1,
        "loaded": 2,
        "partial": 0,
        "rejected": 1,
    }
    assert rows.loc["CCG"].to_dict() == {
        "returns": 1,
        "toolkit": 0,
        "bulk": 1,
        "cases": 2,
        "ratings": 3,
        "rejected_rows": 4,
        "template_versions": "2018-19 (1)",
        "on_old_template": 0,
        "loaded": 0,
        "partial": 1,
        "rejected": 0,
    }
    loose = rows.loc[UNATTRIBUTED]
    assert (loose["returns"], loose["rejected"], loose["rejected_rows"]) == (2, 2, 2)
    assert (loose["cases"], loose["ratings"]) == (0, 0)
    # the same numbers as `validate` prints
    summary = agency_summary(data).set_index("agency")
    for column in ("returns", "cases", "ratings", "rejected_rows"):
        assert rows.loc[["CCG", "WMP"], column].tolist() == summary[column].tolist()


def test_completeness(data):
    rows = completeness(data).set_index("agency")
    wmp = rows.loc["WMP"]
    # C03's return (unknown template version) is rejected, but the case is owed all the same
    assert wmp[["cases", "standards", "expected", "present", "recorded"]].tolist() == [
        3,
        24,
        72,
        47,
        46,
    ]
    assert (wmp["not_recorded"], wmp["absent"]) == (1, 25)
    assert wmp["completeness"] == pytest.approx(46 / 72)
    assert (wmp["old_template_returns"], wmp["absent_old_template"]) == (1, 1)
    assert wmp["old_template_standards"] == "14"
    ccg = rows.loc["CCG"]
    assert ccg[["cases", "expected", "present", "recorded", "absent"]].tolist() == [
        2,
        48,
        3,
        3,
        45,
    ]
    assert (ccg["absent_old_template"], ccg["old_template_standards"]) == (0, "")


def test_evidence_rate_by_agency(data):
    rows = evidence_rate(data).set_index("agency")
    wmp = rows.loc["WMP"]
    assert wmp[["met_or_better", "met_or_better_evidenced", "met_or_better_bare"]].tolist() == [
        33,
        5,
        28,
    ]
    assert wmp["met_or_better_evidence_share"] == pytest.approx(5 / 33)
    assert wmp[["unmet", "unmet_evidenced", "unmet_bare"]].tolist() == [10, 2, 8]
    assert wmp["unmet_evidence_share"] == pytest.approx(0.2)
    ccg = rows.loc["CCG"]
    assert ccg[["met_or_better", "met_or_better_evidenced", "unmet", "unmet_bare"]].tolist() == [
        2,
        2,
        1,
        1,
    ]
    assert ccg["unmet_evidence_share"] == 0.0
    summary = agency_summary(data).set_index("agency")
    assert rows["met_or_better_evidence_share"].tolist() == pytest.approx(
        summary["evidence_rate"].tolist()
    )


def test_evidence_rate_other_groupings(data):
    overall = evidence_rate(data, by=None)
    assert len(overall) == 1 and overall.loc[0, "met_or_better"] == 35
    by_standard = evidence_rate(data, by="standard")
    assert list(by_standard.columns[:3]) == ["kloe", "standard", "standard_key"]
    s1 = by_standard.set_index("standard").loc[1]
    assert (s1["met_or_better"], s1["met_or_better_evidenced"]) == (3, 2)
    s21 = by_standard.set_index("standard").loc[21]
    assert s21["met_or_better"] == 1 and pd.isna(s21["unmet_evidence_share"])


def test_rejections_summary(data):
    table = rejections_summary(data)
    assert table[["agency", "kind", "rejections"]].values.tolist() == [
        ["CCG", "unknown rating", 1],
        ["CCG", "case ID", 1],
        ["CCG", "standard", 1],
        ["CCG", "duplicate", 1],
        ["WMP", "template", 1],
        [UNATTRIBUTED, "agency", 1],
        [UNATTRIBUTED, "whole file", 1],
        [UNATTRIBUTED, "cases file", 1],
    ]
    assert table["whole_files"].tolist() == [0, 0, 0, 0, 1, 1, 1, 0]
    assert (table["rows"] + table["whole_files"] == table["rejections"]).all()
    by_agency = rejections_summary(data, by="agency")
    assert by_agency[["agency", "rejections", "files"]].values.tolist() == [
        ["CCG", 4, 1],
        ["WMP", 1, 1],
        [UNATTRIBUTED, 3, 3],
    ]
    assert rejections_summary(data, by="kind")["rejections"].sum() == 8
    assert len(classified_rejections(data)) == len(data.rejections)


@pytest.mark.parametrize(
    ("code", "whole", "kind"),
    [
        ("unknown-rating", False, "unknown rating"),
        ("agency", True, "agency"),
        ("agency", False, "agency"),
        ("template", False, "template"),
        ("template", True, "template"),
        ("case-id", False, "case ID"),
        ("standard", False, "standard"),
        ("duplicate", False, "duplicate"),
        ("file", True, "whole file"),
        ("row", False, "other"),
        ("case-left-out", False, "cases file"),
        ("case-field", False, "cases file"),
        ("record", False, "other"),
        ("record", True, "whole file"),
        ("development", False, "other"),
    ],
)
def test_classify_rejection_reads_the_code(code, whole, kind):
    assert classify_rejection(code, whole_file=whole) == kind
    with pytest.raises(ValueError):
        classify_rejection("not a code")


def test_coverage(data):
    table = coverage(data)
    assert list(table.columns) == ["case_ref", "CCG", "WMP"]
    assert table.values.tolist() == [
        ["C01", 2, 24],
        ["C02", 1, 23],
        ["C03", 0, 0],
        ["C04", 0, 0],
        ["C05", 0, 0],
    ]
    assert coverage(data, recorded_only=True).loc[0, "WMP"] == 23


def test_tables_are_deterministic(data):
    for build in (returns_by_agency, completeness, evidence_rate, rejections_summary, coverage):
        assert build(data).to_csv(index=False) == build(data).to_csv(index=False)


def test_a_cycle_without_returns_gives_empty_tables(cycle_dir):
    empty = load_cycle(cycle_dir.parent, "2018-19")
    for build in (returns_by_agency, completeness, evidence_rate, rejections_summary):
        assert build(empty).empty
    assert coverage(empty)["case_ref"].tolist() == ["C01", "C02", "C03", "C04"]


def test_evidence_share_interval_treats_the_case_as_the_unit():
    """One auditor writes (or skips) the evidence for all of a case's ratings: ten cases
    of five ratings each, evidence all-or-nothing by case, are ten pieces of evidence,
    so five times the ratings must not narrow the interval."""
    from pathlib import Path

    from audit_analysis.analysis import quality
    from audit_analysis.io.dataset import CycleData
    from audit_analysis.io.frameworks import load_framework

    def data(copies: int) -> CycleData:
        rows = [
            {
                "agency": "WMP",
                "case_ref": f"C{i:02d}",
                "standard_key": "smart-plans",
                "rating": "met",
                "evidence": "seen in the plan" if i < 7 else None,
            }
            for i in range(10)
            for _ in range(copies)
        ]
        return CycleData(
            "2018-19", load_framework("2018-19"), pd.DataFrame(rows), None, None, None, Path()
        )

    one, five = quality.evidence_shares(data(1)).iloc[0], quality.evidence_shares(data(5)).iloc[0]
    assert (one["n"], five["n"], one["cases"]) == (10, 50, 10)
    assert one["share"] == five["share"] == 0.7
    assert (five["low"], five["high"]) == pytest.approx((one["low"], one["high"]), abs=0.03)
    assert five["low"] < 0.45  # 50 independent ratings would give about 0.56
