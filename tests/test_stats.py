"""audit_analysis.analysis.stats against published worked examples, and its promised properties.

Every expected number below is a published value, with its source beside it; none is
produced by this code.
"""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit_analysis.analysis import stats

NAN = np.nan


def _raw_pairs(table: list[list[int]]) -> tuple[list[int], list[int]]:
    """Expand a two-rater contingency table (rows rater 1, columns rater 2) to ratings."""
    a: list[int] = []
    b: list[int] = []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [i] * count
            b += [j] * count
    return a, b


def _raw_from_counts(counts: list[list[int]]) -> np.ndarray:
    """Subjects x categories counts -> raters x units matrix (rater order is immaterial)."""
    columns = [[float(k) for k, count in enumerate(row) for _ in range(count)] for row in counts]
    return np.array(columns).T


# ------------------------------------------------------------------------ Wilson

# Newcombe RG (1998a), Stat Med 17:857-872, worked examples, method 3 (Wilson score
# interval without continuity correction).
NEWCOMBE_1998A = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
    (29, 29, 0.8830, 1.0000),
]


@pytest.mark.parametrize(("x", "n", "low", "high"), NEWCOMBE_1998A)
def test_wilson_matches_newcombe_1998a(x, n, low, high):
    got_low, got_high = stats.wilson_interval(x, n)
    assert got_low == pytest.approx(low, abs=5e-5)
    assert got_high == pytest.approx(high, abs=5e-5)


def test_wilson_limits_are_exact_at_the_boundaries():
    assert stats.wilson_interval(0, 20)[0] == 0.0
    assert stats.wilson_interval(20, 20)[1] == 1.0


def test_wilson_with_no_cases_is_nan():
    low, high = stats.wilson_interval(0, 0)
    assert math.isnan(low) and math.isnan(high)


def test_wilson_wider_at_higher_confidence():
    low95, high95 = stats.wilson_interval(15, 148)
    low99, high99 = stats.wilson_interval(15, 148, confidence=0.99)
    assert low99 < low95 and high99 > high95


@pytest.mark.parametrize(
    ("x", "n", "message"),
    [
        (5, 4, "cannot exceed"),
        (-1, 4, "negative"),
        (1, -4, "negative"),
        (1.5, 4, "whole number"),
        ("1", 4, "whole number"),
        (True, 4, "whole number"),
        (float("nan"), 4, "whole number"),
    ],
)
def test_wilson_rejects_impossible_counts(x, n, message):
    with pytest.raises(ValueError, match=message):
        stats.wilson_interval(x, n)


def test_wilson_accepts_whole_floats_and_numpy_integers():
    assert stats.wilson_interval(15.0, np.int64(148)) == stats.wilson_interval(15, 148)


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.1, "0.95"])
def test_wilson_rejects_bad_confidence(confidence):
    with pytest.raises(ValueError, match="confidence"):
        stats.wilson_interval(1, 10, confidence=confidence)


@given(
    n=st.integers(min_value=1, max_value=5000),
    fraction=st.floats(min_value=0, max_value=1),
    confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_wilson_lies_in_unit_interval_and_contains_p(n, fraction, confidence):
    x = round(fraction * n)
    low, high = stats.wilson_interval(x, n, confidence)
    assert 0.0 <= low <= x / n <= high <= 1.0


# ---------------------------------------------------------------------- Newcombe

# Newcombe RG (1998b), Stat Med 17:873-890, Table II, method 10 (hybrid score
# interval from Wilson limits, no continuity correction), examples (a)-(h).
# Note (c) 6/7 - 2/7 is 0.0582 to 0.8062 in the published table.
NEWCOMBE_1998B = [
    ((56, 70, 48, 80), 0.2, (0.0524, 0.3339)),
    ((9, 10, 3, 10), 0.6, (0.1705, 0.8090)),
    ((6, 7, 2, 7), 4 / 7, (0.0582, 0.8062)),
    ((5, 56, 0, 29), 5 / 56, (-0.0381, 0.1926)),
    ((0, 10, 0, 20), 0.0, (-0.1611, 0.2775)),
    ((0, 10, 0, 10), 0.0, (-0.2775, 0.2775)),
    ((10, 10, 0, 20), 1.0, (0.6791, 1.0000)),
    ((10, 10, 0, 10), 1.0, (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("counts", "diff", "interval"), NEWCOMBE_1998B)
def test_newcombe_matches_table_ii_method_10(counts, diff, interval):
    got_diff, low, high = stats.newcombe_difference_interval(*counts)
    assert got_diff == pytest.approx(diff, abs=1e-12)
    assert low == pytest.approx(interval[0], abs=5e-5)
    assert high == pytest.approx(interval[1], abs=5e-5)


def test_newcombe_is_antisymmetric():
    diff, low, high = stats.newcombe_difference_interval(56, 70, 48, 80)
    diff2, low2, high2 = stats.newcombe_difference_interval(48, 80, 56, 70)
    assert diff2 == pytest.approx(-diff)
    assert low2 == pytest.approx(-high) and high2 == pytest.approx(-low)


@pytest.mark.parametrize("counts", [(0, 0, 3, 10), (3, 10, 0, 0), (0, 0, 0, 0)])
def test_newcombe_with_an_empty_group_is_nan(counts):
    assert all(math.isnan(v) for v in stats.newcombe_difference_interval(*counts))


def test_newcombe_rejects_impossible_counts():
    with pytest.raises(ValueError, match="successes2 .* cannot exceed n2"):
        stats.newcombe_difference_interval(1, 10, 11, 10)


@given(
    n1=st.integers(min_value=1, max_value=2000),
    n2=st.integers(min_value=1, max_value=2000),
    f1=st.floats(min_value=0, max_value=1),
    f2=st.floats(min_value=0, max_value=1),
    confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_newcombe_contains_diff_and_lies_in_minus_one_one(n1, n2, f1, f2, confidence):
    x1, x2 = round(f1 * n1), round(f2 * n2)
    diff, low, high = stats.newcombe_difference_interval(x1, n1, x2, n2, confidence)
    assert diff == pytest.approx(x1 / n1 - x2 / n2)
    assert -1.0 <= low <= diff <= high <= 1.0


# --------------------------------------------------------------- classify_change


@pytest.mark.parametrize(
    ("low", "high", "verdict"),
    [
        (0.0524, 0.3339, "improved"),
        (-0.3339, -0.0524, "declined"),
        (-0.0381, 0.1926, "no clear change"),
        (0.0, 0.2, "no clear change"),
        (-0.2, 0.0, "no clear change"),
        (NAN, 0.2, "not estimable"),
        (0.1, NAN, "not estimable"),
        (None, None, "not estimable"),
    ],
)
def test_classify_change(low, high, verdict):
    assert stats.classify_change(low, high) == verdict


def test_classify_change_reads_newcombe_intervals():
    # Newcombe (1998b) example (a) excludes zero; (d) spans it.
    assert stats.classify_change(*stats.newcombe_difference_interval(56, 70, 48, 80)[1:]) == (
        "improved"
    )
    assert stats.classify_change(*stats.newcombe_difference_interval(5, 56, 0, 29)[1:]) == (
        "no clear change"
    )
    assert stats.classify_change(*stats.newcombe_difference_interval(0, 0, 1, 2)[1:]) == (
        stats.NOT_ESTIMABLE
    )


def test_classify_change_rejects_reversed_interval():
    with pytest.raises(ValueError, match="above"):
        stats.classify_change(0.3, 0.1)


# ------------------------------------------------------------------ Krippendorff

# Krippendorff K (2011), "Computing Krippendorff's Alpha-Reliability", the worked
# example: 4 observers (rows A-D) x 12 units, missing data; published
# alpha nominal 0.743, ordinal 0.815, interval 0.849, ratio 0.797.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_matches_krippendorff_2011(level, published):
    assert stats.krippendorff_alpha(KRIPPENDORFF_2011, level) == pytest.approx(published, abs=5e-4)


def test_krippendorff_default_level_is_ordinal():
    assert stats.krippendorff_alpha(KRIPPENDORFF_2011) == pytest.approx(0.815, abs=5e-4)


def test_krippendorff_accepts_a_dataframe_with_missing_values():
    frame = pd.DataFrame(KRIPPENDORFF_2011).astype("Float64")
    assert stats.krippendorff_alpha(frame, "nominal") == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_ordinal_ignores_code_spacing():
    spaced = np.array(KRIPPENDORFF_2011) ** 2
    assert stats.krippendorff_alpha(spaced, "ordinal") == pytest.approx(0.815, abs=5e-4)


@pytest.mark.parametrize("level", stats.ALPHA_LEVELS)
def test_identical_ratings_are_not_estimable(level):
    same = np.full((5, 8), 3.0)
    same[0, 0] = NAN
    assert math.isnan(stats.krippendorff_alpha(same, level))
    assert all(math.isnan(v) for v in stats.krippendorff_alpha_bootstrap(same, level))
    low, high = stats.bootstrap_interval(same, stats.krippendorff_alpha)
    assert math.isnan(low) and math.isnan(high)


def test_identical_pairable_values_are_not_estimable_even_if_single_ratings_vary():
    # Unit 3 has only one rating, so its 4 is not pairable.
    data = [[2, 2, 4], [2, 2, NAN]]
    assert math.isnan(stats.krippendorff_alpha(data, "nominal"))


def test_no_unit_rated_twice_is_not_estimable():
    data = [[1, NAN, 3], [NAN, 2, NAN]]
    assert math.isnan(stats.krippendorff_alpha(data))


def test_krippendorff_rejects_bad_input():
    with pytest.raises(ValueError, match="level"):
        stats.krippendorff_alpha(KRIPPENDORFF_2011, "ordered")
    with pytest.raises(ValueError, match="2-D"):
        stats.krippendorff_alpha([1, 2, 3])
    with pytest.raises(ValueError, match="numeric"):
        stats.krippendorff_alpha([["met", "unmet"], ["met", "met"]])


# ----------------------------------------------------------------- Cohen's kappa


def test_cohen_kappa_wikipedia_example():
    # Wikipedia, "Cohen's kappa", worked example: 50 proposals, both yes 20, A yes /
    # B no 5, A no / B yes 10, both no 15: p_o = 0.7, p_e = 0.5, kappa = 0.4.
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert stats.cohen_kappa(a, b) == pytest.approx(0.4, abs=1e-12)


# Gwet (2014) Handbook, 4th ed., irrCAC dataset cont3x3abstractors (100 pregnancies,
# rows abstractor 1, columns abstractor 2: Ectopic, AIU, NIU).
CONT3X3ABSTRACTORS = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]


@pytest.mark.parametrize(
    ("weights", "published", "tolerance"),
    [
        # irrCAC overview vignette / README: kappa2.table -> 0.7964094
        (None, 0.7964094, 5e-7),
        # irrCAC "weighting" vignette: kappa2.table(quadratic.weights) -> 0.8921569
        ("quadratic", 0.8921569, 5e-7),
        # irrCAC (Python port's tests reproducing the R package): linear -> 0.843
        ("linear", 0.843, 5e-4),
    ],
)
def test_cohen_kappa_matches_irrcac_cont3x3abstractors(weights, published, tolerance):
    a, b = _raw_pairs(CONT3X3ABSTRACTORS)
    assert stats.cohen_kappa(a, b, weights) == pytest.approx(published, abs=tolerance)


@pytest.mark.parametrize(
    ("weights", "published"),
    # SAS PROC FREQ agreement example, as quoted in statsmodels' test_inter_rater.py:
    # simple kappa 0.4842; weighted kappa with Cicchetti-Allison (linear) weights on
    # equally spaced scores 0.4701.
    [(None, 0.4842), ("linear", 0.4701)],
)
def test_cohen_kappa_matches_sas_example(weights, published):
    a, b = _raw_pairs([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    assert stats.cohen_kappa(a, b, weights) == pytest.approx(published, abs=5e-5)


def test_cohen_kappa_drops_units_either_rater_missed():
    a, b = _raw_pairs(CONT3X3ABSTRACTORS)
    a2 = [*a, None, 2, float("nan")]
    b2 = [*b, 1, None, 0]
    assert stats.cohen_kappa(a2, b2) == pytest.approx(stats.cohen_kappa(a, b))


def test_cohen_kappa_text_labels_need_an_order_to_be_weighted():
    scale = ["unmet", "partially_met", "met", "exceeded"]
    a, b = _raw_pairs(CONT3X3ABSTRACTORS)
    ta = [scale[i] for i in a]
    tb = [scale[i] for i in b]
    with pytest.raises(ValueError, match="ordered categories"):
        stats.cohen_kappa(ta, tb, "quadratic")
    assert stats.cohen_kappa(ta, tb, "quadratic", categories=scale[:3]) == pytest.approx(
        0.8921569, abs=5e-7
    )
    assert stats.cohen_kappa(ta, tb) == pytest.approx(0.7964094, abs=5e-7)


def test_cohen_kappa_unused_category_inside_the_scale_changes_weighted_spacing():
    a, b = _raw_pairs(CONT3X3ABSTRACTORS)
    linear = stats.cohen_kappa(a, b, "linear")
    # An unused category at the end only rescales the weights: kappa is unchanged.
    assert stats.cohen_kappa(a, b, "linear", categories=[0, 1, 2, 3]) == pytest.approx(linear)
    # One inside the scale moves category 2 one step further from the others.
    assert stats.cohen_kappa(a, b, "linear", categories=[0, 1, 1.5, 2]) != pytest.approx(linear)
    # Unweighted kappa never depends on unused categories.
    assert stats.cohen_kappa(a, b, categories=[0, 1, 1.5, 2]) == pytest.approx(0.7964094, abs=5e-7)


def test_cohen_kappa_not_estimable_and_errors():
    assert math.isnan(stats.cohen_kappa([1, 1, 1], [1, 1, 1]))
    assert math.isnan(stats.cohen_kappa([None, 1], [2, None]))
    with pytest.raises(ValueError, match="same units"):
        stats.cohen_kappa([1, 2], [1])
    with pytest.raises(ValueError, match="weights"):
        stats.cohen_kappa([1, 2], [1, 2], "cubic")
    with pytest.raises(ValueError, match="outside the categories"):
        stats.cohen_kappa([1, 2], [1, 3], categories=[1, 2])


# ----------------------------------------------------------------- Fleiss' kappa

# Fleiss JL (1971), Psychol Bull 76:378-382: 30 patients, 6 psychiatrists, 5
# diagnoses; published kappa = 0.430. Raw ratings as distributed in the R package irr
# (`diagnoses`) and statsmodels' tests (which give 0.4302445 from irr).
FLEISS_1971 = [
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]  # fmt: skip


def _counts(raw: list[list[int]], k: int) -> np.ndarray:
    return np.array([[row.count(c) for c in range(1, k + 1)] for row in raw])


def test_fleiss_kappa_matches_fleiss_1971():
    counts = _counts(FLEISS_1971, 5)
    assert counts.sum(axis=0).tolist() == [26, 26, 30, 55, 43]
    assert stats.fleiss_kappa(counts) == pytest.approx(0.430, abs=5e-4)


def test_fleiss_kappa_matches_wikipedia_example():
    # Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5
    # categories; published kappa = 0.210.
    counts = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]  # fmt: skip
    assert stats.fleiss_kappa(counts) == pytest.approx(0.210, abs=5e-4)


# irrCAC dataset distrib.6raters: 15 patients x 5 diagnoses, 6 psychiatrists (from
# Fleiss 1971). irrCAC README: fleiss.kappa.dist -> 0.4139265, gwet.ac1.dist -> 0.4448007.
DISTRIB_6RATERS = [
    [0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6], [0, 3, 0, 3, 0],
    [2, 0, 4, 0, 0], [0, 0, 4, 0, 2], [2, 0, 3, 1, 0], [2, 0, 0, 4, 0], [0, 0, 0, 0, 6],
    [1, 0, 0, 5, 0], [1, 1, 0, 4, 0], [0, 3, 3, 0, 0], [1, 0, 0, 5, 0], [0, 2, 0, 3, 1],
]  # fmt: skip


def test_fleiss_kappa_matches_irrcac_distrib_6raters():
    assert stats.fleiss_kappa(DISTRIB_6RATERS) == pytest.approx(0.4139265, abs=5e-7)


def test_fleiss_kappa_not_estimable_and_errors():
    assert math.isnan(stats.fleiss_kappa([[3, 0], [3, 0]]))
    with pytest.raises(ValueError, match="same number of raters"):
        stats.fleiss_kappa([[3, 0], [1, 1]])
    with pytest.raises(ValueError, match="whole, non-negative"):
        stats.fleiss_kappa([[1.5, 0.5], [1, 1]])
    with pytest.raises(ValueError, match="at least 2 raters"):
        stats.fleiss_kappa([[1, 0], [0, 1]])


# ------------------------------------------------------------------- Gwet's AC1

# irrCAC dataset cac.raw4raters (Gwet 2014, Handbook 4th ed., p. 120): 4 raters x 12
# units, missing ratings. irrCAC README, gwet.ac1.raw: pa 0.8181818, pe 0.1903212,
# AC1 0.77544. (The same data minus one single rating is Krippendorff's example.)
CAC_RAW4RATERS = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, NAN],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 3],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]


def test_gwet_ac1_matches_irrcac_raw4raters():
    assert stats.gwet_ac1(CAC_RAW4RATERS) == pytest.approx(0.77544, abs=5e-6)
    # AC1 = (pa - pe) / (1 - pe) with irrCAC's published pa and pe
    assert stats.gwet_ac1(CAC_RAW4RATERS) == pytest.approx(
        (0.8181818 - 0.1903212) / (1 - 0.1903212), abs=1e-6
    )


def test_gwet_ac1_matches_irrcac_two_rater_table():
    # irrCAC overview vignette: gwet.ac1.table(cont3x3abstractors) -> 0.8493305
    a, b = _raw_pairs(CONT3X3ABSTRACTORS)
    assert stats.gwet_ac1([a, b]) == pytest.approx(0.8493305, abs=5e-7)


def test_gwet_ac1_matches_irrcac_distrib_6raters():
    assert stats.gwet_ac1(_raw_from_counts(DISTRIB_6RATERS)) == pytest.approx(0.4448007, abs=5e-7)


def test_gwet_ac1_ignores_units_nobody_rated():
    padded = np.hstack([np.array(CAC_RAW4RATERS), np.full((4, 3), NAN)])
    assert stats.gwet_ac1(padded) == pytest.approx(0.77544, abs=5e-6)


def test_gwet_ac1_categories():
    same = np.full((3, 6), 2.0)
    assert math.isnan(stats.gwet_ac1(same))  # one category known: q - 1 = 0
    assert stats.gwet_ac1(same, categories=[1, 2, 3, 4]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="outside the categories"):
        stats.gwet_ac1(CAC_RAW4RATERS, categories=[1, 2, 3, 4])
    assert math.isnan(stats.gwet_ac1([[1, NAN], [NAN, 2]]))  # no unit rated twice


# --------------------------------------------------------------------- bootstrap


def _typical_matrix(seed: int = 7, raters: int = 13, units: int = 24) -> np.ndarray:
    """Synthetic agencies x cases ratings on a 1-4 scale: a true grade per case, raters
    mostly agreeing, about a quarter of ratings missing."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 5, size=units)
    noise = rng.choice([-1, 0, 0, 0, 0, 1], size=(raters, units))
    data = np.clip(truth + noise, 1, 4).astype(float)
    data[rng.random(data.shape) < 0.25] = NAN
    return data


def _slow_alpha(data: np.ndarray, level: str) -> float:
    try:
        return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))
    except ValueError:  # the package refuses a resample with no variation
        return NAN


@pytest.mark.parametrize("level", stats.ALPHA_LEVELS)
def test_vectorised_alpha_bootstrap_equals_a_loop_over_krippendorff_alpha(level):
    data = _typical_matrix()
    indices = stats._resample_indices(data.shape[1], 300, seed=3)
    fast = stats._alpha_replicates(data, level, indices)
    slow = np.array([_slow_alpha(data[:, idx], level) for idx in indices])
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(slow))
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-9)


def test_vectorised_alpha_bootstrap_handles_degenerate_draws():
    # Two units only: many draws repeat one unit, where alpha is undefined.
    data = np.array([[1, 2], [1, 2], [1, 3.0]])
    indices = stats._resample_indices(2, 200, seed=0)
    fast = stats._alpha_replicates(data, "ordinal", indices)
    slow = np.array([_slow_alpha(data[:, idx], "ordinal") for idx in indices])
    assert np.isnan(fast).any()
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(slow))
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-9)


def test_generic_bootstrap_equals_vectorised_alpha_bootstrap():
    data = _typical_matrix()
    alpha, low, high = stats.krippendorff_alpha_bootstrap(data, "ordinal", n_boot=200, seed=11)
    generic = stats.bootstrap_interval(data, stats.krippendorff_alpha, n_boot=200, seed=11)
    assert alpha == pytest.approx(stats.krippendorff_alpha(data, "ordinal"))
    assert (low, high) == pytest.approx(generic, abs=1e-9)


def test_vectorised_ac1_bootstrap_equals_a_loop_over_gwet_ac1():
    data = _typical_matrix()
    categories = [1.0, 2.0, 3.0, 4.0]
    indices = stats._resample_indices(data.shape[1], 300, seed=5)
    fast = stats._ac1_replicates(data, np.array(categories), indices)
    slow = np.array([stats.gwet_ac1(data[:, idx], categories=categories) for idx in indices])
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12)
    ac1, low, high = stats.gwet_ac1_bootstrap(data, n_boot=200, seed=2, categories=categories)
    generic = stats.bootstrap_interval(
        data, lambda d: stats.gwet_ac1(d, categories=categories), n_boot=200, seed=2
    )
    assert ac1 == pytest.approx(stats.gwet_ac1(data))
    assert (low, high) == pytest.approx(generic, abs=1e-12)


def test_bootstrap_contains_the_estimate_for_a_typical_matrix():
    data = _typical_matrix()
    for level in stats.ALPHA_LEVELS:
        alpha, low, high = stats.krippendorff_alpha_bootstrap(data, level)
        assert low <= alpha <= high, level
        assert -1.0 < low < high <= 1.0
    ac1, low, high = stats.gwet_ac1_bootstrap(data)
    assert low <= ac1 <= high


def test_bootstrap_is_deterministic_by_seed():
    data = _typical_matrix()
    first = stats.krippendorff_alpha_bootstrap(data, seed=42)
    assert stats.krippendorff_alpha_bootstrap(data, seed=42) == first
    assert stats.krippendorff_alpha_bootstrap(data, seed=43) != first
    assert stats.gwet_ac1_bootstrap(data, seed=42) == stats.gwet_ac1_bootstrap(data, seed=42)
    generic = stats.bootstrap_interval(data, stats.gwet_ac1, n_boot=50, seed=9)
    assert stats.bootstrap_interval(data, stats.gwet_ac1, n_boot=50, seed=9) == generic


def test_bootstrap_ignores_units_nobody_rated():
    data = _typical_matrix()
    padded = np.hstack([data, np.full((data.shape[0], 2), NAN)])
    assert stats.krippendorff_alpha_bootstrap(padded) == stats.krippendorff_alpha_bootstrap(data)


def test_bootstrap_rejects_bad_arguments():
    data = _typical_matrix()
    with pytest.raises(ValueError, match="n_boot"):
        stats.krippendorff_alpha_bootstrap(data, n_boot=0)
    with pytest.raises(ValueError, match="confidence"):
        stats.gwet_ac1_bootstrap(data, confidence=95)
    with pytest.raises(ValueError, match="level"):
        stats.krippendorff_alpha_bootstrap(data, level="rank")


# ------------------------------------------------------------- cluster bootstrap

# 5 raters x 12 units in 6 clusters of unequal size, labels neither sorted nor adjacent
SMALL_CLUSTERS = ["c4", "c1", "c4", "c2", "c9", "c1", "c4", "c3", "c9", "c5", "c1", "c4"]


def _reference_cluster_draws(clusters, n_boot: int, seed: int) -> list[np.ndarray]:
    """Column indices of each draw, the slow way: number the clusters in order of first
    appearance, draw that many cluster numbers with the same generator, concatenate the
    drawn clusters' columns."""
    labels = np.array(clusters, dtype=object)
    order = list(dict.fromkeys(clusters))
    members = [np.flatnonzero(labels == label) for label in order]
    draws = np.random.default_rng(seed).integers(0, len(order), size=(n_boot, len(order)))
    return [np.concatenate([members[c] for c in draw]) for draw in draws]


def _reference_interval(replicates: np.ndarray, confidence: float = 0.95) -> np.ndarray:
    defined = replicates[np.isfinite(replicates)]
    return np.quantile(defined, [(1 - confidence) / 2, (1 + confidence) / 2])


@pytest.mark.parametrize("level", stats.ALPHA_LEVELS)
def test_clusters_of_one_unit_give_exactly_the_unclustered_bootstrap(level):
    data = np.hstack([_typical_matrix(), np.full((13, 1), NAN)])  # one unit nobody rated
    singletons = [f"case {u}" for u in range(data.shape[1])][::-1]  # not in sorted order
    plain = stats.krippendorff_alpha_bootstrap(data, level, n_boot=300, seed=4)
    assert (
        stats.krippendorff_alpha_bootstrap(data, level, n_boot=300, seed=4, clusters=singletons)
        == plain
    )
    plain_ac1 = stats.gwet_ac1_bootstrap(data, n_boot=300, seed=4)
    assert stats.gwet_ac1_bootstrap(data, n_boot=300, seed=4, clusters=singletons) == plain_ac1
    generic = stats.bootstrap_interval(data, stats.gwet_ac1, n_boot=30, seed=4)
    assert (
        stats.bootstrap_interval(data, stats.gwet_ac1, n_boot=30, seed=4, clusters=singletons)
        == generic
    )


@pytest.mark.parametrize("level", stats.ALPHA_LEVELS)
def test_clustered_alpha_bootstrap_equals_a_loop_over_krippendorff_alpha(level):
    data = _typical_matrix(seed=1, raters=5, units=12)
    draws = _reference_cluster_draws(SMALL_CLUSTERS, 200, seed=8)
    slow = np.array([_slow_alpha(data[:, columns], level) for columns in draws])
    assert np.isfinite(slow).sum() > 150
    _, codes = stats._rated_clustered_units(data, SMALL_CLUSTERS)
    indices = stats._resample_indices(6, 200, seed=8)
    fast = stats._alpha_replicates(data, level, indices, codes)
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(slow))
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-9)
    alpha, low, high = stats.krippendorff_alpha_bootstrap(
        data, level, n_boot=200, seed=8, clusters=SMALL_CLUSTERS
    )
    assert alpha == stats.krippendorff_alpha(data, level)
    np.testing.assert_allclose((low, high), _reference_interval(slow), rtol=0, atol=1e-9)
    generic = stats.bootstrap_interval(
        data,
        lambda d: stats.krippendorff_alpha(d, level),
        n_boot=200,
        seed=8,
        clusters=SMALL_CLUSTERS,
    )
    np.testing.assert_allclose(generic, (low, high), rtol=0, atol=1e-9)


def test_clustered_ac1_bootstrap_equals_a_loop_over_gwet_ac1():
    data = _typical_matrix(seed=1, raters=5, units=12)
    categories = [1.0, 2.0, 3.0, 4.0]
    draws = _reference_cluster_draws(SMALL_CLUSTERS, 200, seed=6)
    slow = np.array([stats.gwet_ac1(data[:, columns], categories=categories) for columns in draws])
    _, codes = stats._rated_clustered_units(data, SMALL_CLUSTERS)
    indices = stats._resample_indices(6, 200, seed=6)
    fast = stats._ac1_replicates(data, np.array(categories), indices, codes)
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-9)
    ac1, low, high = stats.gwet_ac1_bootstrap(
        data, n_boot=200, seed=6, categories=categories, clusters=np.array(SMALL_CLUSTERS)
    )
    assert ac1 == pytest.approx(stats.gwet_ac1(data, categories=categories), abs=1e-12)
    np.testing.assert_allclose((low, high), _reference_interval(slow), rtol=0, atol=1e-9)


def test_clustered_interval_is_wider_when_a_case_s_units_are_perfectly_correlated():
    # Each case's 6 standards duplicate one another: 144 units carry 24 cases' information.
    cases = _typical_matrix()
    data = np.repeat(cases, 6, axis=1)
    clusters = np.repeat([f"C{c:02d}" for c in range(24)], 6)
    _, low, high = stats.krippendorff_alpha_bootstrap(data, seed=1)
    _, c_low, c_high = stats.krippendorff_alpha_bootstrap(data, seed=1, clusters=clusters)
    assert c_high - c_low > 1.5 * (high - low)
    _, low, high = stats.gwet_ac1_bootstrap(data, seed=1)
    ac1, c_low, c_high = stats.gwet_ac1_bootstrap(data, seed=1, clusters=clusters)
    assert c_high - c_low > 1.5 * (high - low)
    # AC1 is a ratio of sums over units, so duplicating units changes nothing: the
    # clustered interval is the 24 cases' own interval.
    expected = stats.gwet_ac1_bootstrap(cases, seed=1)
    np.testing.assert_allclose((ac1, c_low, c_high), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("clusters", "message"),
    [
        (["a", "b"], "one label per unit"),
        ([None, *range(23)], "missing"),
        (np.zeros((2, 12)), "1-D"),
        ([[u] for u in range(24)], "hashable"),
        (3, "hashable"),
    ],
)
def test_bootstrap_rejects_bad_clusters(clusters, message):
    data = _typical_matrix()
    with pytest.raises(ValueError, match=message):
        stats.krippendorff_alpha_bootstrap(data, clusters=clusters)
    with pytest.raises(ValueError, match=message):
        stats.gwet_ac1_bootstrap(data, clusters=clusters)
    with pytest.raises(ValueError, match=message):
        stats.bootstrap_interval(data, stats.gwet_ac1, clusters=clusters)
