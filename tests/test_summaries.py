"""summaries: counts, shares and case counts against hand counts on a tiny cycle.

The cycle: 3 agencies x 4 cases (the conftest cohort) on standard 1, and one case on
standard 13. Standard 1, by case and agency:

    case  WMP           CCG            EDU
    C01   met           met            unmet
    C02   exceeded      partially_met  not_applicable
    C03   unmet         met            met
    C04   not_recorded  met            exceeded

Standard 13, case C01: WMP met, CCG unmet.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest
from conftest import write_bulk_csv

from audit_analysis import load_cycle
from audit_analysis.analysis.summaries import (
    AGE_BANDS,
    STAT_COLUMNS,
    age_band,
    kloe_summary,
    overall_summary,
    standard_summary,
    with_case_characteristics,
)
from audit_analysis.io.frameworks import load_framework
from audit_analysis.io.ratings import RATING_DTYPE

FW = load_framework("2018-19")

GRID = {
    "C01": ("met", "met", "unmet"),
    "C02": ("exceeded", "partially_met", "not_applicable"),
    "C03": ("unmet", "met", "met"),
    "C04": ("not_recorded", "met", "exceeded"),
}
AGENCIES = ("WMP", "CCG", "EDU")


def rows() -> list[tuple[str, str, int, str]]:
    out = [
        (agency, case, 1, rating)
        for case, ratings in GRID.items()
        for agency, rating in zip(AGENCIES, ratings, strict=True)
    ]
    return [*out, ("WMP", "C01", 13, "met"), ("CCG", "C01", 13, "unmet")]


def frame(records) -> pd.DataFrame:
    """A ratings table shaped like load_cycle's, from (agency, case, standard, rating)."""
    table = pd.DataFrame(
        [
            {
                "cycle": "2018-19",
                "agency": a,
                "case_ref": c,
                "kloe": FW.by_number(s).kloe,
                "standard": s,
                "standard_key": FW.by_number(s).key,
                "rating": r,
                "evidence": None,
                "source_file": "x.csv",
                "source_row": i + 2,
            }
            for i, (a, c, s, r) in enumerate(records)
        ]
    )
    table["rating"] = table["rating"].astype(RATING_DTYPE)
    return table


@pytest.fixture
def ratings() -> pd.DataFrame:
    return frame(rows())


def test_standard_summary_hand_counts(ratings):
    table = standard_summary(ratings, FW)
    assert len(table) == 24
    assert list(table["standard"]) == list(range(1, 25))
    s1 = table.iloc[0]
    assert s1["standard_key"] == "threshold-guidance"
    assert s1["kloe_title"] == "Thresholds and referrals"
    counts = {c: s1[c] for c in STAT_COLUMNS[:6]}
    assert counts == {
        "exceeded": 2,
        "met": 5,
        "partially_met": 1,
        "unmet": 2,
        "not_applicable": 1,
        "not_recorded": 1,
    }
    assert (s1["n"], s1["met_or_better"], s1["cases"]) == (10, 7, 4)
    assert s1["share"] == pytest.approx(0.7)
    # 4 cases: fewer than inference.MIN_CASES, so the interval is not estimable
    assert pd.isna(s1["low"]) and pd.isna(s1["high"])
    s13 = table[table["standard"] == 13].iloc[0]
    assert (s13["n"], s13["met_or_better"], s13["cases"], s13["share"]) == (2, 1, 1, 0.5)


def test_standards_without_ratings_show_zero_and_nan(ratings):
    table = standard_summary(ratings, FW)
    empty = table[~table["standard"].isin([1, 13])]
    assert (empty["n"] == 0).all() and (empty["cases"] == 0).all()
    assert empty[["share", "low", "high"]].isna().all().all()
    assert table["n"].dtype == "int64" and table["share"].dtype == "float64"


def test_standard_summary_by_agency(ratings):
    table = standard_summary(ratings, FW, by="agency")
    assert len(table) == 24 * 3
    s1 = table[table["standard"] == 1].set_index("agency")
    assert list(s1.index) == ["CCG", "EDU", "WMP"]
    # WMP: met, exceeded, unmet, not_recorded; CCG: met, partially_met, met, met;
    # EDU: unmet, not_applicable, met, exceeded.
    assert s1.loc["WMP", ["n", "met_or_better", "cases", "not_recorded"]].tolist() == [3, 2, 3, 1]
    assert s1.loc["CCG", ["n", "met_or_better", "cases"]].tolist() == [4, 3, 4]
    assert s1.loc["EDU", ["n", "met_or_better", "cases", "not_applicable"]].tolist() == [3, 2, 3, 1]
    s2 = table[table["standard"] == 2]
    assert (s2["n"] == 0).all() and s2["share"].isna().all()


def test_kloe_summary(ratings):
    table = kloe_summary(ratings, FW)
    assert list(table["kloe"]) == [1, 2, 3, 4, 5, 6]
    assert list(table["standards"]) == [4, 4, 4, 6, 4, 2]
    by_kloe = table.set_index("kloe")
    assert by_kloe.loc[1, ["n", "met_or_better", "cases"]].tolist() == [10, 7, 4]
    assert by_kloe.loc[4, ["n", "met_or_better", "cases"]].tolist() == [2, 1, 1]
    assert by_kloe.loc[2, "n"] == 0 and math.isnan(by_kloe.loc[2, "share"])


def test_age_bands():
    ages = pd.Series([0, 4, 5, 10, 11, 15, 16, 17, 18, 21, None], dtype="Int64")
    bands = age_band(ages)
    expected = ["0-4", "0-4", "5-10", "5-10", "11-15", "11-15", "16-17", "16-17", "18+", "18+"]
    assert bands.iloc[:10].tolist() == expected
    assert pd.isna(bands.iloc[10])
    assert list(bands.cat.categories) == list(AGE_BANDS)


def test_with_case_characteristics_and_summary_by_priority(ratings, cycle_dir):
    cases = load_cycle(cycle_dir.parent, "2018-19").cases  # the conftest cohort
    joined = with_case_characteristics(ratings, cases)
    assert list(joined.columns) == [*ratings.columns, "priority", "age_band"]
    c01 = joined[joined["case_ref"] == "C01"].iloc[0]
    assert (c01["priority"], c01["age_band"]) == ("early_help", "0-4")
    assert joined.set_index("case_ref")["age_band"].groupby(level=0).first().to_dict() == {
        "C01": "0-4",
        "C02": "5-10",
        "C03": "11-15",
        "C04": "16-17",
    }
    table = standard_summary(joined, FW, by="priority")
    s1 = table[table["standard"] == 1]
    assert list(s1["priority"]) == ["early_help", "neglect", "exploitation"]
    # early_help = C01: met, met, unmet; neglect = C02: exceeded, partially_met (n/a out);
    # exploitation = C03 + C04: unmet, met, met, met, exceeded (not_recorded out).
    assert s1[["n", "met_or_better", "cases"]].to_numpy().tolist() == [
        [3, 2, 1],
        [2, 1, 1],
        [5, 4, 2],
    ]


def test_case_missing_from_cohort_gets_missing_characteristics(ratings):
    cases = pd.DataFrame(
        {"case_ref": ["C01"], "priority": ["neglect"], "age": pd.array([18], dtype="Int64")}
    )
    joined = with_case_characteristics(ratings, cases)
    assert joined["priority"].isna().sum() == len(ratings) - 5
    table = standard_summary(joined, FW, by="priority")
    s1 = table[table["standard"] == 1]
    # every priority category, then the missing group last
    assert s1["priority"].iloc[:3].tolist() == ["early_help", "neglect", "exploitation"]
    assert pd.isna(s1["priority"].iloc[3])
    assert s1["n"].tolist() == [0, 3, 0, 7]


def test_overall_summary(ratings):
    row = overall_summary(ratings).iloc[0]
    assert row["ratings"] == 14
    assert (row["n"], row["met_or_better"], row["cases"], row["agencies"]) == (12, 8, 4, 3)
    assert row["standards"] == 2
    assert row["share"] == pytest.approx(8 / 12)
    assert pd.isna(row["low"]) and pd.isna(row["high"])  # 4 cases: not estimable


def test_same_inputs_in_any_order_give_the_same_csv(ratings):
    shuffled = rows()
    random.Random(3).shuffle(shuffled)
    other = frame(shuffled)
    for build in (
        lambda r: standard_summary(r, FW, by="agency"),
        lambda r: kloe_summary(r, FW),
        overall_summary,
    ):
        assert build(ratings).to_csv(index=False) == build(other).to_csv(index=False)


def test_loaded_cycle_gives_the_hand_counts(cycle_dir, ratings):
    records = [[a, c, s, r.replace("not_recorded", ""), ""] for a, c, s, r in rows()]
    write_bulk_csv(
        cycle_dir / "returns" / "all.csv",
        ["agency", "case_id", "standard", "rating", "evidence"],
        records,
    )
    data = load_cycle(cycle_dir.parent, "2018-19")
    assert len(data.ratings) == 14
    loaded = standard_summary(data.ratings, data.framework)
    pd.testing.assert_frame_equal(loaded, standard_summary(ratings, FW))


def test_unknown_standard_key_is_an_error(ratings):
    bad = ratings.copy()
    bad.loc[0, "standard_key"] = "no-such-standard"
    with pytest.raises(ValueError, match="no-such-standard"):
        standard_summary(bad, FW)


def test_empty_ratings_give_every_standard_with_n_zero(ratings):
    table = standard_summary(ratings.iloc[:0], FW)
    assert len(table) == 24 and (table["n"] == 0).all()
    assert np.isnan(table["share"]).all()
