"""trends: standards matched across cycles by key, on small cycles built on disk.

2017-18 numbers KLOE 1 information sharing (standards 1-4) and KLOE 2 thresholds (5-8);
2018-19 swapped them and added standard 14. So 2017-18's standard 1 is 2018-19's
standard 5 (partners-engaged) and 2017-18's standard 5 is 2018-19's standard 1
(threshold-guidance).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import write_bulk_csv, write_cases

from audit_analysis import load_cycle
from audit_analysis.analysis.inference import bh_adjust
from audit_analysis.analysis.stats import classify_change
from audit_analysis.analysis.trends import (
    CASE_MIX,
    NOT_IN_FRAMEWORK,
    combined_verdicts,
    kloe_trend_long,
    kloe_trend_table,
    overall_trend,
    trend_long,
    trend_table,
)

HEADER = ["agency", "case_id", "standard", "rating", "evidence"]
AGENCIES = ("WMP", "CCG", "EDU")
CASES = ("C01", "C02", "C03", "C04")


def all_rate(standard: int, rating: str) -> list[list[str]]:
    """Every agency rates every case the same on one standard: 12 ratings."""
    return [[a, c, str(standard), rating, ""] for a in AGENCIES for c in CASES]


def make_cycle(root: Path, cycle: str, records: list[list[str]]):
    folder = root / cycle
    write_cases(folder)
    write_bulk_csv(folder / "returns" / "all.csv", HEADER, records)
    return load_cycle(root, cycle)


@pytest.fixture(scope="module")
def cycles(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    earlier = make_cycle(
        root,
        "2017-18",
        all_rate(1, "unmet")  # partners-engaged: 0 of 12
        + all_rate(5, "met")[:6]  # threshold-guidance: 3 of 6
        + all_rate(5, "unmet")[6:]
        + all_rate(13, "met"),  # smart-plans: 12 of 12
    )
    current = make_cycle(
        root,
        "2018-19",
        all_rate(5, "met")  # partners-engaged: 12 of 12
        + all_rate(1, "met")[:6]  # threshold-guidance: 3 of 6
        + all_rate(1, "unmet")[6:]
        + all_rate(13, "unmet")  # smart-plans: 0 of 12
        + all_rate(14, "met")[:3],  # roles-in-complex-cases: new in 2018-19
    )
    return current, earlier


def row(table: pd.DataFrame, key: str) -> pd.Series:
    return table.set_index("standard_key").loc[key]


def test_rows_follow_the_current_numbering(cycles):
    table = trend_table(*[cycles[0], [cycles[1]]])
    assert len(table) == 24
    assert table["standard_2018-19"].tolist() == list(range(1, 25))
    assert table["standard_key"].iloc[0] == "threshold-guidance"
    assert table["standard_key"].iloc[13] == "roles-in-complex-cases"


def test_2017_18_standard_1_is_matched_to_2018_19_standard_5(cycles):
    current, earlier = cycles
    partners = row(trend_table(current, [earlier]), "partners-engaged")
    assert (partners["standard_2017-18"], partners["standard_2018-19"]) == (1, 5)
    assert (partners["kloe_2017-18"], partners["kloe_2018-19"]) == (1, 2)
    assert (partners["n_2017-18"], partners["met_or_better_2017-18"]) == (12, 0)
    assert (partners["n_2018-19"], partners["met_or_better_2018-19"]) == (12, 12)
    assert partners["share_2017-18"] == 0.0 and partners["share_2018-19"] == 1.0
    assert partners["diff_vs_2017-18"] == 1.0
    # four cases a cycle: too few for a case-level interval
    assert pd.isna(partners["diff_low_vs_2017-18"]) and pd.isna(partners["p_vs_2017-18"])
    assert partners["verdict_vs_2017-18"] == "not estimable"


WIDE_CASES = [[f"W{i:02d}", "neglect", "10", "", "", ""] for i in range(10)]


def rate_cases(standard: int, ratings: list[str]) -> list[list[str]]:
    """Case i rated ``ratings[i]`` by all three agencies."""
    return [[a, f"W{i:02d}", str(standard), r, ""] for i, r in enumerate(ratings) for a in AGENCIES]


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """Ten cases a cycle: enough for case-level intervals."""
    root = tmp_path_factory.mktemp("wide")
    loaded = []
    for cycle, records in (
        (
            "2017-18",
            rate_cases(5, ["met"] * 5 + ["unmet"] * 5)  # threshold-guidance 5 of 10 cases
            + rate_cases(13, ["met"] * 10)  # smart-plans: all met
            + rate_cases(9, ["met"] * 6 + ["unmet"] * 4),  # life-of-the-child
        ),
        (
            "2018-19",
            rate_cases(1, ["unmet"] * 5 + ["met"] * 5)  # the same share, other cases
            + rate_cases(13, ["unmet"] * 10)  # smart-plans: none met
            + rate_cases(9, ["met"] * 7 + ["unmet"] * 3),
        ),
    ):
        folder = root / cycle
        write_cases(folder, WIDE_CASES)
        write_bulk_csv(folder / "returns" / "all.csv", HEADER, records)
        loaded.append(load_cycle(root, cycle))
    return loaded[1], loaded[0]


def test_verdicts(wide):
    table = trend_table(wide[0], [wide[1]])
    threshold = row(table, "threshold-guidance")
    assert (threshold["standard_2017-18"], threshold["standard_2018-19"]) == (5, 1)
    assert threshold["share_2017-18"] == threshold["share_2018-19"] == 0.5
    assert threshold["cases_2018-19"] == 10
    assert threshold["diff_vs_2017-18"] == pytest.approx(0.0)
    assert threshold["p_vs_2017-18"] == 1.0
    assert threshold["verdict_vs_2017-18"] == "no clear change"
    smart = row(table, "smart-plans")
    assert smart["diff_vs_2017-18"] == -1.0 and smart["diff_high_vs_2017-18"] < 0
    assert smart["p_adjusted_vs_2017-18"] < 0.05
    assert smart["verdict_vs_2017-18"] == "declined"
    voice = row(table, "life-of-the-child")
    assert voice["verdict_vs_2017-18"] == "no clear change"
    # three agencies echoing each other on ten cases: the interval is that of ten
    # cases, one rating each (the three are one piece of evidence per case)
    assert voice["low_2018-19"] < 0.4
    # rated standards get a p-value; the others none
    rated = table["status_2018-19"] == "rated"
    assert table.loc[rated, "p_vs_2017-18"].notna().all()
    assert table.loc[~rated, "verdict_vs_2017-18"].eq("not estimable").all()


def test_standard_verdicts_are_adjusted_for_the_number_of_standards(wide):
    table = trend_table(wide[0], [wide[1]])
    p = table["p_vs_2017-18"].dropna()
    adjusted = table["p_adjusted_vs_2017-18"].dropna()
    assert len(p) == 3
    assert (adjusted >= p - 1e-15).all()
    for _, r in table.iterrows():
        if r["verdict_vs_2017-18"] in ("improved", "declined"):
            assert r["p_adjusted_vs_2017-18"] < 0.05
            assert (
                classify_change(r["diff_low_vs_2017-18"], r["diff_high_vs_2017-18"])
                == r["verdict_vs_2017-18"]
            )


def test_overall_verdict_reads_its_interval_and_kloes_are_adjusted(wide):
    kloes = kloe_trend_table(wide[0], [wide[1]])
    overall = overall_trend(wide[0], [wide[1]])
    assert len(overall) == 1 and overall["overall"].iloc[0] == "all standards"
    assert (overall["p_vs_2017-18"] == overall["p_adjusted_vs_2017-18"]).all()
    r = overall.iloc[0]
    assert r["verdict_vs_2017-18"] == classify_change(
        r["diff_low_vs_2017-18"], r["diff_high_vs_2017-18"]
    )
    # the KLOEs compared are a family, adjusted across the KLOEs as the standards are
    p = kloes["p_vs_2017-18"].dropna()
    assert len(p) > 1
    np.testing.assert_allclose(
        kloes["p_adjusted_vs_2017-18"].dropna(), bh_adjust(p.to_numpy()), rtol=1e-12
    )
    for _, r in kloes.iterrows():
        if r["verdict_vs_2017-18"] in ("improved", "declined"):
            assert r["p_adjusted_vs_2017-18"] < 0.05
    o = overall.iloc[0]
    assert (o["n_2018-19"], o["met_or_better_2018-19"]) == (90, 36)
    assert o["standards_2018-19"] == 24 and o["standards_2017-18"] == 23
    assert "standard 14" in o["note"]
    like = overall_trend(wide[0], [wide[1]], common_standards_only=True).iloc[0]
    assert like["standards_2018-19"] == 23


def test_a_standard_absent_earlier_is_not_in_framework(cycles):
    table = trend_table(cycles[0], [cycles[1]])
    new = row(table, "roles-in-complex-cases")
    assert new["status_2017-18"] == NOT_IN_FRAMEWORK
    assert pd.isna(new["standard_2017-18"]) and pd.isna(new["n_2017-18"])
    assert pd.isna(new["share_2017-18"])
    assert new["status_2018-19"] == "rated" and new["n_2018-19"] == 3
    assert new["verdict_vs_2017-18"] == "not estimable"
    assert row(table, "consent-requirement")["status_2018-19"] == "no ratings"
    assert (table["status_2017-18"] == NOT_IN_FRAMEWORK).sum() == 1


def test_keys_only_in_an_earlier_framework_come_last(cycles, tmp_path):
    """A partnership's own 2016-17 framework with a standard later retired."""
    folder = tmp_path / "2016-17"
    framework = {
        "cycle": "2016-17",
        "kloes": [
            {
                "number": 1,
                "key": "thresholds",
                "title": "Thresholds",
                "standards": [
                    {"number": 1, "key": "threshold-guidance", "text": "Guidance known."},
                    {"number": 2, "key": "retired-standard", "text": "Gone by 2018-19."},
                ],
            }
        ],
    }
    folder.mkdir()
    (folder / "framework.yaml").write_text(yaml.safe_dump(framework), encoding="utf-8")
    write_cases(folder)
    write_bulk_csv(folder / "returns" / "a.csv", HEADER, all_rate(2, "met") + all_rate(1, "met"))
    oldest = load_cycle(tmp_path, "2016-17")
    current, earlier = cycles
    table = trend_table(current, [earlier, oldest])
    assert len(table) == 25
    last = table.iloc[-1]
    assert last["standard_key"] == "retired-standard"
    assert last["text"] == "Gone by 2018-19."
    assert last["status_2018-19"] == last["status_2017-18"] == NOT_IN_FRAMEWORK
    assert (last["standard_2016-17"], last["n_2016-17"]) == (2, 12)
    assert last["verdict_vs_2016-17"] == "not estimable"
    # cycles oldest first, whatever order they were given in
    shares = [c for c in table.columns if c.startswith("share_")]
    assert shares == ["share_2016-17", "share_2017-18", "share_2018-19"]
    assert row(table, "threshold-guidance")["n_2016-17"] == 12


def test_trend_long(cycles):
    long = trend_long(cycles[0], [cycles[1]])
    assert len(long) == 24 * 2
    partners = long[long["standard_key"] == "partners-engaged"]
    assert partners["cycle"].tolist() == ["2017-18", "2018-19"]
    assert partners["standard"].tolist() == [1, 5]
    assert partners["share"].tolist() == [0.0, 1.0]
    assert partners["current"].tolist() == [False, True]
    assert long["position"].is_monotonic_increasing


def test_kloe_trend_matches_kloes_by_key(cycles):
    table = kloe_trend_table(cycles[0], [cycles[1]]).set_index("kloe_key")
    assert table.index[:2].tolist() == ["thresholds", "information-sharing"]
    sharing = table.loc["information-sharing"]
    assert (sharing["kloe_2017-18"], sharing["kloe_2018-19"]) == (1, 2)
    assert (sharing["n_2017-18"], sharing["met_or_better_2017-18"]) == (12, 0)
    assert (sharing["n_2018-19"], sharing["met_or_better_2018-19"]) == (12, 12)
    interventions = table.loc["interventions"]
    assert (interventions["standards_2017-18"], interventions["standards_2018-19"]) == (5, 6)
    assert (interventions["n_2018-19"], interventions["met_or_better_2018-19"]) == (15, 3)
    assert "standard 14" in interventions["note"]
    assert table.loc["supervision", "note"] == ""


def test_kloe_trend_common_standards_only(cycles):
    table = kloe_trend_table(cycles[0], [cycles[1]], common_standards_only=True)
    interventions = table.set_index("kloe_key").loc["interventions"]
    assert interventions["standards_2018-19"] == 5
    assert (interventions["n_2018-19"], interventions["met_or_better_2018-19"]) == (12, 0)
    long = kloe_trend_long(cycles[0], [cycles[1]], common_standards_only=True)
    assert len(long) == 12


def test_cycles_must_be_distinct_and_earlier(cycles):
    current, earlier = cycles
    with pytest.raises(ValueError, match="once"):
        trend_table(current, [current])
    with pytest.raises(ValueError, match="before"):
        trend_table(earlier, [current])


def _mix_cycle(root: Path, cycle: str, mix: dict[str, tuple[int, int]]):
    """``mix``: theme -> (cases met, cases unmet); every agency rates every case the
    same on standard 13 (smart-plans)."""
    rows, records, i = [], [], 0
    for theme, (met, unmet) in mix.items():
        for rating in ["met"] * met + ["unmet"] * unmet:
            ref = f"M{i:02d}"
            rows.append([ref, theme, "10", "", "", ""])
            records += [[a, ref, "13", rating, ""] for a in AGENCIES]
            i += 1
    folder = root / cycle
    write_cases(folder, rows)
    write_bulk_csv(folder / "returns" / "all.csv", HEADER, records)
    return load_cycle(root, cycle)


def test_a_planted_case_mix_shift_gives_no_verdict_of_change(tmp_path):
    """Early-help cases all met, neglect cases none, exploitation half, in both years:
    practice is the same; only the mix audited changed, from 8/8/8 to 2/20/2. The crude
    share falls from 50% to 12.5% and alone would be called a decline; standardised to
    the pooled mix it does not move, so no verdict of change is given."""
    earlier = _mix_cycle(
        tmp_path, "2017-18", {"early_help": (8, 0), "neglect": (0, 8), "exploitation": (4, 4)}
    )
    current = _mix_cycle(
        tmp_path, "2018-19", {"early_help": (2, 0), "neglect": (0, 20), "exploitation": (1, 1)}
    )
    e = "2017-18"
    tables = {
        "standard": row(trend_table(current, [earlier]), "smart-plans"),
        "kloe": kloe_trend_table(current, [earlier]).set_index("kloe_key").loc["interventions"],
        "overall": overall_trend(current, [earlier]).iloc[0],
    }
    for level, r in tables.items():
        assert r[f"share_{e}"] == 0.5 and r["share_2018-19"] == 3 / 24, level
        assert r[f"crude_verdict_vs_{e}"] == "declined", level
        assert r[f"std_diff_vs_{e}"] == pytest.approx(0.0, abs=1e-12), level
        assert r[f"std_diff_low_vs_{e}"] < 0 < r[f"std_diff_high_vs_{e}"], level
        assert r[f"std_verdict_vs_{e}"] == "no clear change", level
        assert r[f"verdict_vs_{e}"] == CASE_MIX, level


def test_combined_verdicts():
    crude = ["improved", "declined", "no clear change", "no clear change", "not estimable"]
    std = ["improved", "no clear change", "improved", "not estimable", "not estimable"]
    assert combined_verdicts(crude, std) == [
        "improved",
        CASE_MIX,
        CASE_MIX,
        "no clear change",
        "not estimable",
    ]
