"""Shares weighted to the draw (issue 26), against a hand computation."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats

from audit_analysis.analysis.design import (
    design_weights,
    kloe_shares,
    overall_share,
    weighted_shares,
)
from audit_analysis.analysis.summaries import kloe_summary, overall_summary
from audit_analysis.io.frameworks import load_framework

# Two themes. early_help: 10 eligible children, 2 cases audited; neglect: 30 eligible,
# 3 cases. Per case (met or better, ratings on the scale):
CASES = {"A1": (4, 4), "A2": (2, 4), "B1": (2, 4), "B2": (0, 4), "B3": (1, 4)}
THEME = {"A1": "early_help", "A2": "early_help", "B1": "neglect", "B2": "neglect", "B3": "neglect"}
POPULATION = {"early_help": 10, "neglect": 30}
KEYS = ["threshold-guidance", "consent-requirement", "partners-engaged", "sharing-protocols"]


def ratings_of(per_case=CASES, keys=KEYS) -> pd.DataFrame:
    """Ratings with ``met`` for the successes and ``unmet``/``partially_met`` for the
    rest, plus one ``not_applicable`` per case, which counts nowhere."""
    rows = []
    for case, (y, n) in per_case.items():
        for j in range(n):
            rating = "met" if j < y else ("unmet" if j % 2 else "partially_met")
            rows.append(("WMP", case, keys[j % len(keys)], rating))
        rows.append(("NHS", case, keys[0], "not_applicable"))
    return pd.DataFrame(rows, columns=["agency", "case_ref", "standard_key", "rating"])


def cases_of(theme=THEME) -> pd.DataFrame:
    return pd.DataFrame({"case_ref": list(theme), "priority": list(theme.values())})


def wilson(p: float, n: float, crit: float) -> tuple[float, float]:
    k = crit**2 / n
    centre = (p + k / 2) / (1 + k)
    half = crit * math.sqrt(p * (1 - p) / n + k / (4 * n)) / (1 + k)
    return centre - half, centre + half


def test_weights_are_eligible_over_audited_per_theme() -> None:
    w = design_weights(ratings_of(), cases_of(), POPULATION).set_index("case_ref")["weight"]
    assert w.to_dict() == {"A1": 5.0, "A2": 5.0, "B1": 10.0, "B2": 10.0, "B3": 10.0}


def test_weighted_overall_share_matches_the_hand_computation() -> None:
    # By hand: weights 10/2 = 5 and 30/3 = 10.
    #   p = (5*(4+2) + 10*(2+0+1)) / (5*8 + 10*12) = 60/160 = 0.375
    #   (the cases' own share is 9/20 = 0.45; and with 4 ratings a case the weighted
    #   share is the themes' shares weighted by eligible children: (10*0.75+30*0.25)/40)
    #   z_i = w_i (y_i - 0.375 n_i) / 160: A 0.078125, 0.015625; B 0.03125, -0.09375,
    #   -0.03125. Within themes, about each theme's mean (0.046875; -0.03125):
    #   A: (1 - 2/10) * 2/1 * 2 * 0.03125**2            = 0.003125
    #   B: (1 - 3/30) * 3/2 * (0.0625**2 + 0.0625**2)    = 0.010546875
    #   V = 0.013671875 = 7/512; n_eff = 0.375*0.625/V = 120/7; df = 5 cases - 2 themes
    row = overall_share(ratings_of(), cases_of(), POPULATION).iloc[0]
    assert row["weighting"] == "design"
    assert row["share"] == pytest.approx(0.375, abs=1e-12)
    assert row["se"] == pytest.approx(math.sqrt(7 / 512), abs=1e-12)
    assert (row["n"], row["met_or_better"], row["cases"]) == (20, 9, 5)
    low, high = wilson(0.375, 120 / 7, stats.t.isf(0.025, 3))
    assert row["low"] == pytest.approx(low, abs=1e-9)
    assert row["high"] == pytest.approx(high, abs=1e-9)


def test_without_the_finite_population_correction() -> None:
    # V = 2 * 2 * 0.03125**2 + 3/2 * 2 * 0.0625**2 = 0.00390625 + 0.01171875 = 1/64;
    # n_eff = 0.234375 * 64 = 15
    row = weighted_shares(ratings_of(), cases_of(), POPULATION, fpc=False).iloc[0]
    assert row["se"] == pytest.approx(1 / 8, abs=1e-12)
    low, high = wilson(0.375, 15.0, stats.t.isf(0.025, 3))
    assert (row["low"], row["high"]) == (
        pytest.approx(low, abs=1e-9),
        pytest.approx(high, abs=1e-9),
    )


def test_proportional_populations_give_the_cases_own_share() -> None:
    row = overall_share(ratings_of(), cases_of(), {"early_help": 20, "neglect": 30}).iloc[0]
    assert row["share"] == pytest.approx(9 / 20, abs=1e-12)


def test_the_cases_weighting_is_the_plain_summary() -> None:
    plain = overall_share(ratings_of(), cases_of(), POPULATION, weighting="cases").iloc[0]
    summary = overall_summary(ratings_of()).iloc[0]
    assert plain["weighting"] == "cases"
    for column in ("share", "low", "high"):
        assert plain[column] == pytest.approx(summary[column], abs=1e-12)
    # and without a record there is nothing to weight to
    assert overall_share(ratings_of(), cases_of(), None).iloc[0]["weighting"] == "cases"


def test_kloe_shares_weighted_and_plain() -> None:
    framework = load_framework("2018-19")
    ratings = ratings_of()
    weighted = kloe_shares(ratings, framework, cases_of(), POPULATION).set_index("kloe_key")
    assert list(weighted.index) == ["thresholds", "information-sharing"]
    # the thresholds KLOE (keys 0 and 1): per case, met or better / on the scale
    # A1 2/2, A2 1/2 ... computed as the overall share of that KLOE's ratings
    keys = {"threshold-guidance", "consent-requirement"}
    subset = ratings[ratings["standard_key"].isin(keys)]
    expected = weighted_shares(subset, cases_of(), POPULATION).iloc[0]
    assert weighted.loc["thresholds", "share"] == pytest.approx(expected["share"], abs=1e-12)
    # by hand: A1 2/2, A2 2/2, B1 2/2, B2 0/2, B3 1/2 (ratings 0 and 1 of each case)
    # (5*4 + 10*3) / (5*4 + 10*6) = 50/80
    assert weighted.loc["thresholds", "share"] == pytest.approx(50 / 80, abs=1e-12)
    plain = kloe_shares(ratings, framework, cases_of(), weighting="cases").set_index("kloe_key")
    summary = kloe_summary(ratings, framework).set_index("kloe_key")
    for kloe in plain.index:
        assert plain.loc[kloe, "share"] == pytest.approx(summary.loc[kloe, "share"], abs=1e-12)
        assert plain.loc[kloe, "low"] == pytest.approx(summary.loc[kloe, "low"], abs=1e-12)


def test_cases_that_cannot_be_weighted_are_refused() -> None:
    theme = dict(THEME, B3=None)
    with pytest.raises(ValueError, match="1 rated case"):
        overall_share(ratings_of(), cases_of(theme), POPULATION)
    with pytest.raises(ValueError, match="fewer eligible children than cases"):
        overall_share(ratings_of(), cases_of(), {"early_help": 1, "neglect": 30})
    with pytest.raises(ValueError, match="weighting must be one of"):
        overall_share(ratings_of(), cases_of(), POPULATION, weighting="people")


def test_too_few_cases_for_an_interval() -> None:
    few = {k: CASES[k] for k in ("A1", "A2", "B1", "B2")}
    row = overall_share(ratings_of(few), cases_of(), POPULATION).iloc[0]
    # B3 unrated: neglect's weight is 30/2 = 15; (5*6 + 15*2) / (5*8 + 15*8)
    assert row["share"] == pytest.approx(60 / 160, abs=1e-12)
    assert math.isnan(row["low"]) and math.isnan(row["high"])


def test_one_theme_without_the_correction_is_the_plain_interval_by_case() -> None:
    """With a single theme the weights are all equal and, without the finite population
    correction, the stratified variance is the case-level variance of
    :mod:`audit_analysis.analysis.inference` term for term: the same share and interval."""
    one = dict.fromkeys(THEME, "neglect")
    ratings = ratings_of()
    weighted = weighted_shares(ratings, cases_of(one), {"neglect": 1000}, fpc=False).iloc[0]
    plain = overall_summary(ratings).iloc[0]
    for column in ("share", "low", "high"):
        assert weighted[column] == pytest.approx(plain[column], abs=1e-12)
