"""planning: the minimum detectable change (Bloom 1995) from a cycle's design effects,
checked against a t table, a hand computation and simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit_analysis.analysis import planning
from audit_analysis.io.ratings import CATEGORIES
from bench import calibration as sim


def test_detectable_change_against_the_t_table():
    """24 cases: t(0.975, 23) = 2.069 and t(0.80, 23) = 0.858 from a printed table.
    The change d from 75% towards 50% solves d = M sqrt((p q + p' q') (1 + (m-1) rho) / (C m))."""
    p, rho, m, c = 0.75, 0.2, 10, 24
    d = planning.detectable_change(p, rho, m, c)
    other = p - d
    inflation = (1 + (m - 1) * rho) / (c * m)
    want = (2.069 + 0.858) * np.sqrt((p * (1 - p) + other * (1 - other)) * inflation)
    assert d == pytest.approx(want, rel=1e-3)
    assert 0.15 < d < 0.25


def test_more_agencies_help_only_as_far_as_ratings_of_a_case_differ():
    # ratings of one case all alike (rho = 1): a case is one observation however many rate it
    assert planning.detectable_change(0.7, 1.0, 3, 24) == pytest.approx(
        planning.detectable_change(0.7, 1.0, 30, 24)
    )
    # independent ratings (rho = 0): 24 cases of 10 ratings are 240 observations
    assert planning.detectable_change(0.7, 0.0, 10, 24) < planning.detectable_change(
        0.7, 0.0, 1, 24
    )
    # more cases always help; a stricter level (alpha / K) asks for more
    assert planning.detectable_change(0.7, 0.3, 6, 48) < planning.detectable_change(0.7, 0.3, 6, 24)
    assert planning.detectable_change(0.7, 0.3, 6, 24, alpha=0.05 / 24) > (
        planning.detectable_change(0.7, 0.3, 6, 24)
    )
    assert np.isnan(planning.detectable_change(1.0, 0.3, 6, 24))


def _cycle(met_by_case: list[int], agencies: int = 3):
    """One standard; case i rated met by the first ``met_by_case[i]`` agencies."""
    rows = []
    for i, met in enumerate(met_by_case):
        for a in range(agencies):
            rows.append((sim.AGENCIES[a], f"K{i:02d}", "met" if a < met else "unmet"))
    fw = sim.framework(sim.EARLIER)
    s = fw.standards[0]
    ratings = pd.DataFrame(
        {
            "cycle": sim.EARLIER,
            "agency": [r[0] for r in rows],
            "case_ref": [r[1] for r in rows],
            "kloe": s.kloe,
            "standard": s.number,
            "standard_key": s.key,
            "rating": pd.Categorical(
                [r[2] for r in rows], categories=list(CATEGORIES), ordered=True
            ),
            "evidence": pd.Series([None] * len(rows), dtype="object"),
            "source_file": "returns/all.csv",
            "source_row": np.arange(2, len(rows) + 2),
        }
    )
    cases = pd.DataFrame(
        {
            "case_ref": [f"K{i:02d}" for i in range(len(met_by_case))],
            "priority": "neglect",
            "age": 5,
        }
    )
    return sim.as_cycle(sim.EARLIER, ratings, cases)


def test_design_reads_rho_from_the_case_level_design_effect():
    """Ten cases, three agencies: met by all three on cases 0-4, by two on 5-7, by none
    on 8-9. p = 21/30 = 0.7; residuals y - 2.1: 0.9 (x5), -0.1 (x3), -2.1 (x2), squares
    summing to 12.9; V = 10/9 * 12.9 / 900 = 0.0159259; p q / N = 0.007; deff = 2.27513;
    rho = (deff - 1) / (3 - 1) = 0.637566."""
    table = planning.design(_cycle([3] * 5 + [2] * 3 + [0] * 2))
    row = table[table["level"] == "standard"].iloc[0]
    assert row["share"] == pytest.approx(0.7)
    assert row["deff"] == pytest.approx(2.275132, rel=1e-5)
    assert row["rho"] == pytest.approx(0.637566, rel=1e-5)
    assert (row["ratings_per_case"], row["agencies_per_case"]) == (3, 3)


def test_the_plan_covers_each_level_cohort_and_agencies():
    data = _cycle([3] * 5 + [2] * 3 + [0] * 2)
    plan = planning.minimum_detectable_change(data, cohorts=(12, 24), agencies=(3, 6))
    assert set(plan["level"]) == {"standard", "kloe", "overall"}
    assert set(plan["cases"]) == {10, 12, 24}  # this cycle's own 10 cases added
    assert plan["this_cycle"].sum() == 3  # one row per level: 10 cases, 3 agencies
    for _, part in plan.groupby(["level", "agencies_per_case"]):
        assert part.sort_values("cases")["mdc"].is_monotonic_decreasing
    assert (plan["mdc_alone"] >= plan["mdc"] - 1e-12).all()


@pytest.mark.parametrize(
    "cases, ratings_per_case, share, rho",
    [(24, 6, 0.75, 0.3), (12, 24, 0.8, 0.2), (48, 5, 0.4, 0.5), (24, 140, 0.77, 0.13)],
)
def test_a_change_of_the_stated_size_is_detected_about_80_percent_of_the_time(
    cases, ratings_per_case, share, rho
):
    """2000 simulated pairs per design, tested as the suite tests a change (case-level
    MOVER interval); 80% is the target, the suite's interval being slightly
    conservative (about 76% to 80% in these designs)."""
    got = sim.mdc_detection(cases, ratings_per_case, share, rho, pairs=2000, seed=7)
    assert 0.72 <= got["detected"] <= 0.86
