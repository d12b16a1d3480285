"""Calibration by simulation: cycles simulated from a known model with case effects
(``bench/calibration.py``: 24 cases, 6 to 8 agencies a case, 24 standards, case effect
sd 1 on the logit scale), written as cycle folders and loaded with ``load_cycle``.

Where nothing changed, verdicts must stay near the nominal 5% at KLOE and overall
level, and share intervals must cover the true share. Treating ratings as independent
(the suite before case-level inference) gives about 35% false verdicts per KLOE and 70%
overall on this model, so these bounds fail for it. ``make bench`` runs the same model
over hundreds of pairs (``calibration.*``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit_analysis import load_cycle
from bench import calibration as sim

pytestmark = pytest.mark.slow

PAIRS = 30


def _through_files(tmp_path, scenario, pairs, seed):
    rng = np.random.default_rng(seed)
    totals: dict[str, dict[str, int]] = {}
    for i in range(pairs):
        (r1, c1, t1), (r2, c2, t2) = sim.simulate_pair(rng, scenario)
        root = tmp_path / f"pair{i}"
        sim.write_cycle(root, sim.EARLIER, r1, c1)
        sim.write_cycle(root, sim.LATER, r2, c2)
        first, second = load_cycle(root, sim.EARLIER), load_cycle(root, sim.LATER)
        assert len(first.rejections) == len(second.rejections) == 0
        assert len(first.ratings) == len(r1) and len(second.ratings) == len(r2)
        for level, counts in sim.evaluate(first, second, (t1, t2)).items():
            into = totals.setdefault(level, dict.fromkeys(counts, 0))
            for k, v in counts.items():
                into[k] += v
    return totals


@pytest.fixture(scope="module")
def null_totals(tmp_path_factory):
    return _through_files(tmp_path_factory.mktemp("null"), sim.NULL, PAIRS, seed=11)


def test_no_change_gives_few_verdicts_at_kloe_and_overall_level(null_totals):
    kloe, overall = null_totals["kloe"], null_totals["overall"]
    assert kloe["estimable"] == 6 * PAIRS and overall["estimable"] == PAIRS
    # nominal 5%; 180 KLOE comparisons and 30 overall ones
    assert kloe["verdicts"] / kloe["estimable"] <= 0.09
    assert overall["verdicts"] / overall["estimable"] <= 0.15
    # the same data read as if ratings were independent: far too many verdicts
    assert kloe["naive_verdicts"] / kloe["estimable"] >= 0.2
    assert overall["naive_verdicts"] / overall["estimable"] >= 0.4


def test_standard_verdicts_control_false_discoveries(null_totals):
    standard = null_totals["standard"]
    # every standard is unchanged: any verdict at all is a false discovery; with
    # Benjamini-Hochberg at 5% a pair has one with probability at most about 5%
    assert standard["any_verdict"] <= 4
    assert standard["unadjusted"] / standard["estimable"] <= 0.09


@pytest.mark.parametrize("level", ["standard", "kloe", "overall"])
def test_share_intervals_cover_the_true_share(null_totals, level):
    t = null_totals[level]
    assert t["intervals"] > 0
    assert t["covered"] / t["intervals"] >= 0.92


def test_a_real_improvement_is_detected(tmp_path):
    totals = _through_files(tmp_path, sim.IMPROVED, 10, seed=5)
    kloe = totals["kloe"]
    assert kloe["improved"] / kloe["estimable"] >= 0.6


def test_the_bench_runs_the_same_tables_as_a_loaded_cycle(tmp_path):
    """The bench skips the files for speed; what it analyses is what load_cycle gives."""
    rng = np.random.default_rng(3)
    (r1, c1, _), (r2, c2, _) = sim.simulate_pair(rng, sim.NULL)
    sim.write_cycle(tmp_path, sim.EARLIER, r1, c1)
    sim.write_cycle(tmp_path, sim.LATER, r2, c2)
    loaded = [load_cycle(tmp_path, c) for c in (sim.EARLIER, sim.LATER)]
    direct = [sim.as_cycle(sim.EARLIER, r1, c1), sim.as_cycle(sim.LATER, r2, c2)]
    from audit_analysis.analysis.trends import trend_table

    pd.testing.assert_frame_equal(
        trend_table(loaded[1], [loaded[0]]), trend_table(direct[1], [direct[0]])
    )


def test_the_harder_designs_are_what_they_say():
    """Cheap checks of the simulation itself: cases, agencies a case, N/A, mix."""
    rng = np.random.default_rng(1)
    (r1, c1, _), _ = sim.simulate_pair(rng, sim.FEW_CASES)
    assert len(c1) == 10 and r1["case_ref"].nunique() == 10
    (r1, _, t1), _ = sim.simulate_pair(rng, sim.HIGH_SHARE)
    assert 0.3 < (r1["rating"] == "not_applicable").mean() < 0.5
    assert t1["overall"] > 0.85
    (r1, _, _), _ = sim.simulate_pair(rng, sim.UNBALANCED)
    per_case = r1.groupby("case_ref")["agency"].nunique()
    assert per_case.min() >= 1 and per_case.max() <= 10 and per_case.nunique() > 3
    (_, c1, t1), (_, c2, t2) = sim.simulate_pair(rng, sim.CASE_MIX)
    assert c1["priority"].value_counts().to_dict() == {
        "neglect": 16,
        "early_help": 4,
        "exploitation": 4,
    }
    assert set(c2["priority"].value_counts()) == {8}
    assert t2["overall"] > t1["overall"]  # the mix alone moves the crude target
    (_, _, t1), (r2, _, t2) = sim.simulate_pair(rng, sim.SHARED_DRIFT)
    assert t1["overall"] == pytest.approx(t2["overall"])  # practice unchanged


def test_a_case_mix_shift_gives_few_false_verdicts_where_the_crude_change_gives_many():
    """4/16/4 neglect-heavy cases one year, 8/8/8 the next, practice unchanged: the
    crude change alone calls many changes; with the standardised one beside it, the
    suite's verdicts stay near the nominal rate."""
    got = sim.run(sim.CASE_MIX, 40, seed=4)
    assert got["false_overall_crude"] >= 0.15
    assert got["false_overall"] <= 0.10
    assert got["false_kloe"] <= 0.10


def test_the_kloe_power_decomposition_ends_in_the_suites_own_verdicts():
    """``kloe_power_decomposition`` takes the suite's KLOE verdicts apart step by step
    (unadjusted, Benjamini-Hochberg, crude and standardised agreeing): its last step is
    the detection rate the bench reports, and each step can only lose verdicts."""
    got = sim.kloe_power_decomposition(sim.IMPROVED, 4, seed=7)
    assert got["suite: both, Benjamini-Hochberg"] == pytest.approx(
        sim.run(sim.IMPROVED, 4, seed=7)["detect_kloe"]
    )
    assert got["crude, unadjusted"] >= got["crude, Benjamini-Hochberg"]
    assert got["both, unadjusted"] >= got["suite: both, Benjamini-Hochberg"]
    assert got["crude, Benjamini-Hochberg"] >= got["suite: both, Benjamini-Hochberg"]
    assert got["standardised, Benjamini-Hochberg"] >= got["suite: both, Benjamini-Hochberg"]
