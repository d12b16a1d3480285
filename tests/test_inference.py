"""audit_analysis.analysis.inference: shares and changes with the case as the unit.

Checked against published worked examples where the method reduces to a published
one (Wilson, Newcombe's method 10, Benjamini and Hochberg's own example), against an
independent implementation of the cluster-robust variance (statsmodels), and against
properties that only a case-level method has. Calibration by simulation is in
``test_calibration.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from audit_analysis.analysis import inference
from audit_analysis.analysis.summaries import overall_summary, standard_summary
from audit_analysis.io.frameworks import load_framework

# Newcombe (1998a) method 3 and (1998b) Table II method 10: the published values, as in
# test_stats.py. With every case holding one rating (no clustering) and infinitely many
# degrees of freedom, the case-level intervals must give exactly these.
NEWCOMBE_1998A = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
    (29, 29, 0.8830, 1.0000),
]
NEWCOMBE_1998B = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
]


@pytest.mark.parametrize(("x", "n", "low", "high"), NEWCOMBE_1998A)
def test_share_limits_reduce_to_wilson(x, n, low, high):
    got = inference.share_limits(x / n, n, np.inf)
    assert got[0] == pytest.approx(low, abs=5e-5)
    assert got[1] == pytest.approx(high, abs=5e-5)


@pytest.mark.parametrize(("counts", "interval"), NEWCOMBE_1998B)
def test_difference_limits_reduce_to_newcombe_method_10(counts, interval):
    x1, n1, x2, n2 = counts
    diff, low, high = inference.difference_limits(x1 / n1, n1, np.inf, x2 / n2, n2, np.inf)
    assert diff == pytest.approx(x1 / n1 - x2 / n2)
    assert low == pytest.approx(interval[0], abs=5e-5)
    assert high == pytest.approx(interval[1], abs=5e-5)


def test_benjamini_hochberg_1995_worked_example():
    """Benjamini and Hochberg (1995), section 4.2: 15 p-values from a trial; at a
    false discovery rate of 0.05 the procedure rejects the four smallest."""
    p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459,
         0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0000]  # fmt: skip
    adjusted = inference.bh_adjust(p)
    assert (adjusted < 0.05).tolist() == [True] * 4 + [False] * 11
    assert np.isnan(inference.bh_adjust([0.01, np.nan])[1])


def test_benjamini_hochberg_is_statsmodels_fdr_bh_value_for_value():
    """bh_adjust does statsmodels' arithmetic without importing it (and scipy.stats)
    into every notebook: the same values, ties, ones and nan included."""
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(25)
    for size in (1, 2, 7, 40, 300):
        p = rng.random(size) ** 3
        p[rng.random(size) < 0.2] = 1.0
        p[: size // 3] = p[0]  # ties
        expected = multipletests(p, alpha=0.05, method="fdr_bh")[1]
        assert inference.bh_adjust(p).tolist() == expected.tolist()
    p = np.array([0.2, np.nan, 0.01, 0.04, np.nan])
    expected = multipletests(p[~np.isnan(p)], method="fdr_bh")[1]
    assert inference.bh_adjust(p)[~np.isnan(p)].tolist() == expected.tolist()


def test_critical_values_and_tail_are_scipy_stats_value_for_value():
    """The t and normal quantiles (and the t tail of within_difference) come from
    scipy.special, whose ufuncs scipy.stats' t and norm call: exactly its values."""
    from scipy import special

    for level in (0.8, 0.9, 0.95, 0.99, 1 - 0.05 / 15):
        q = (1.0 - level) / 2.0
        assert inference._t_crit_scalar(level, np.inf) == scipy_stats.norm.isf(q)
        for df in (1.0, 2.0, 4.0, 11.0, 23.0, 150.0, 10_000.0):
            assert inference._t_crit_scalar(level, df) == scipy_stats.t.isf(q, df)
    for df in (4, 11, 23):
        for x in (0.0, 0.3, 1.7, 4.2, 40.0):
            assert special.stdtr(df, -x) == scipy_stats.t.sf(x, df)


def _clustered(seed: int, cases: int = 24) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(cases):
        effect = rng.normal()
        for _ in range(rng.integers(3, 9)):
            rows.append((i, float(rng.random() < 1 / (1 + np.exp(-(0.8 + effect))))))
    return pd.DataFrame(rows, columns=["case", "y"])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_case_variance_is_statsmodels_cluster_robust_variance(seed):
    """The share's variance equals the CR1 sandwich variance of the mean rating with
    errors clustered by case (statsmodels, ``cov_type="cluster"``)."""
    df = _clustered(seed)
    fit = sm.OLS(df["y"].to_numpy(), np.ones(len(df))).fit(
        cov_type="cluster", cov_kwds={"groups": df["case"].to_numpy()}
    )
    sums = inference.case_sums(np.zeros(len(df), int), df["case"], df["y"], np.ones(len(df)))
    c, big_n = sums["cases"][0], sums["N"][0]
    variance = c / (c - 1) * sums["case_ss"][0] / big_n**2
    assert variance == pytest.approx(fit.bse[0] ** 2, rel=1e-10)
    p, n_eff, df_ = inference.effective_sizes(sums["Y"], sums["N"], sums["case_ss"], sums["cases"])
    assert n_eff[0] == pytest.approx(min(p[0] * (1 - p[0]) / variance, big_n))
    assert df_[0] == c - 1


def test_within_difference_is_statsmodels_cluster_robust_difference():
    """Two groups of ratings on the same cases: the linearised difference's variance is
    the cluster-robust variance of a regression on a group indicator (statsmodels applies
    one more small-sample factor, (N - 1) / (N - 2), which this method does not)."""
    rng = np.random.default_rng(8)
    rows = []
    for i in range(20):
        effect = rng.normal()
        for group in ("a", "b"):
            for _ in range(rng.integers(2, 6)):
                shift = 0.5 if group == "a" else 0.0
                met = rng.random() < 1 / (1 + np.exp(-(effect + shift)))
                rows.append((f"C{i}", group, "met" if met else "unmet"))
    ratings = pd.DataFrame(rows, columns=["case_ref", "group", "rating"])
    result = inference.within_difference(ratings, ratings["group"] == "a", ratings["group"] == "b")
    y = (ratings["rating"] == "met").to_numpy(float)
    x = sm.add_constant((ratings["group"] == "a").to_numpy(float))
    fit = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": ratings["case_ref"]})
    assert result["diff"] == pytest.approx(fit.params[1])
    n = len(ratings)
    se = (result["high"] - result["diff"]) / scipy_stats.t.isf(0.025, 19)
    assert se**2 * (n - 1) / (n - 2) == pytest.approx(fit.bse[1] ** 2, rel=1e-9)


def _ratings_from(cases: dict[str, list[str]], copies: int = 1) -> pd.DataFrame:
    fw = load_framework("2018-19")
    s = fw.standards[0]
    rows = [
        {
            "agency": f"A{a}",
            "case_ref": ref,
            "kloe": s.kloe,
            "standard": s.number,
            "standard_key": s.key,
            "rating": rating,
        }
        for ref, ratings in cases.items()
        for _ in range(copies)
        for a, rating in enumerate(ratings)
    ]
    return pd.DataFrame(rows)


def test_agencies_repeating_one_another_add_no_information():
    """A case rated the same by every agency is one piece of evidence, not several:
    twelve agencies echoing each other give the interval that three do (the rating-level
    interval would shrink by half)."""
    cases = {f"C{i:02d}": ["met"] * 3 if i % 3 else ["unmet"] * 3 for i in range(12)}
    three = overall_summary(_ratings_from(cases)).iloc[0]
    twelve = overall_summary(_ratings_from(cases, copies=4)).iloc[0]
    assert twelve["n"] == 4 * three["n"]
    assert (twelve["low"], twelve["high"]) == pytest.approx((three["low"], three["high"]))
    # perfectly clustered: the effective sample size is the cases (less the CR1 factor)
    p, n_eff, df = inference.effective_sizes([24], [36], [24.0], [12])
    assert n_eff[0] == pytest.approx(11.0)


def test_fewer_cases_than_the_minimum_is_not_estimable():
    few = {f"C{i}": ["met", "unmet", "met"] for i in range(inference.MIN_CASES - 1)}
    row = standard_summary(_ratings_from(few), load_framework("2018-19")).iloc[0]
    assert row["share"] == pytest.approx(2 / 3)
    assert np.isnan(row["low"]) and np.isnan(row["high"])
    enough = {f"C{i}": ["met", "unmet", "met"] for i in range(inference.MIN_CASES)}
    row = standard_summary(_ratings_from(enough), load_framework("2018-19")).iloc[0]
    assert 0 < row["low"] < 2 / 3 < row["high"] < 1


shares = st.floats(0.0, 1.0)
sizes = st.floats(2.0, 500.0)
dfs = st.integers(4, 60)


@settings(max_examples=200, deadline=None)
@given(shares, sizes, dfs, shares, sizes, dfs, st.sampled_from([0.9, 0.95, 0.99]))
def test_p_value_agrees_with_the_interval(p1, n1, d1, p2, n2, d2, confidence):
    """p < 1 - confidence exactly when the interval at that confidence excludes zero."""
    p = inference.difference_p_values(p1, n1, d1, p2, n2, d2)[0]
    _, low, high = inference.difference_limits(p1, n1, d1, p2, n2, d2, confidence)
    excludes = low > 0 or high < 0
    alpha = 1 - confidence
    if abs(p - alpha) > 1e-6:  # away from the knife edge
        assert (p < alpha) == excludes
    assert 0 <= p <= 1


@settings(max_examples=100, deadline=None)
@given(shares, sizes, dfs)
def test_share_interval_contains_the_share_and_narrows_with_more_cases(p, n, df):
    low, high = inference.share_limits(p, n, df)
    assert 0 <= low <= p <= high <= 1
    wide = inference.share_limits(p, n, 4)
    assert wide[0] <= low + 1e-12 and high <= wide[1] + 1e-12


# ----------------------------------------------------------------- standardised to one theme mix


def _cases(theme: str, pairs: list[tuple[int, int]]) -> pd.DataFrame:
    return pd.DataFrame({"theme": theme, "y": [y for y, _ in pairs], "n": [n for _, n in pairs]})


def test_standardised_pair_by_hand():
    """Two themes, A and B. Cycle 1: A cases rated 2/2, 0/2, 2/2 (p_A = 2/3), B cases
    1/2, 0/2 (p_B = 1/4). Cycle 2: A 2/2, 1/2 (3/4); B 0/2, 1/2, 0/2, 2/2 (3/8). Pooled
    mix: A 5 of 11 cases, B 6 of 11."""
    first = pd.concat([_cases("A", [(2, 2), (0, 2), (2, 2)]), _cases("B", [(1, 2), (0, 2)])])
    second = pd.concat(
        [_cases("A", [(2, 2), (1, 2)]), _cases("B", [(0, 2), (1, 2), (0, 2), (2, 2)])]
    )
    (p1, n1, d1), (p2, n2, d2), strata = inference.standardised_pair(first, second)
    assert strata == 2
    wa, wb = 5 / 11, 6 / 11
    assert p1 == pytest.approx(wa * 2 / 3 + wb * 1 / 4)  # 58/132
    assert p2 == pytest.approx(wa * 3 / 4 + wb * 3 / 8)  # 6/11
    # stratum variances C/(C-1) * sum (y - p n)^2 / N^2, by hand:
    # cycle 1, A: residuals 2/3, -4/3, 2/3 -> 24/9; 3/2 * 24/9 / 36 = 1/9
    #          B: residuals 1/2, -1/2 -> 1/2;     2 * 1/2 / 16 = 1/16
    v1 = wa**2 / 9 + wb**2 / 16
    # cycle 2, A: residuals 1/2, -1/2 -> 1/2;     2 * 1/2 / 16 = 1/16
    #          B: residuals -3/4, 1/4, -3/4, 5/4 -> 11/4; 4/3 * 11/4 / 64 = 11/192
    v2 = wa**2 / 16 + wb**2 * 11 / 192
    assert n1 == pytest.approx(p1 * (1 - p1) / v1)
    assert n2 == pytest.approx(p2 * (1 - p2) / v2)
    assert (d1, d2) == (3, 4)  # cases minus strata


def test_standardised_pairs_keep_each_key_to_its_own_cases():
    """Many groups at once (how the trends tables call it): each key's figures are those
    of its own rows alone, whatever the other keys hold; a key in one cycle only is
    standardised on that cycle's side alone; a key in neither is nan."""
    parts = {  # key: (the current cycle's cases, the earlier cycle's)
        "hand": (  # the worked example above
            pd.concat([_cases("A", [(2, 2), (0, 2), (2, 2)]), _cases("B", [(1, 2), (0, 2)])]),
            pd.concat(
                [_cases("A", [(2, 2), (1, 2)]), _cases("B", [(0, 2), (1, 2), (0, 2), (2, 2)])]
            ),
        ),
        "mixed": (
            pd.concat(
                [_cases("A", [(1, 3), (3, 3), (0, 2)] * 3), _cases("C", [(2, 2), (1, 1)] * 2)]
            ),
            pd.concat([_cases("C", [(0, 3), (2, 2)] * 3), _cases(None, [(1, 2)] * 2)]),
        ),
        "earlier only": (_cases("A", []), _cases("A", [(1, 2), (2, 2)] * 4)),
    }
    now = pd.concat([a.assign(key=k) for k, (a, _) in parts.items()])
    now = pd.concat([_cases("A", [(2, 2)] * 6).assign(key="not asked"), now])
    earlier = pd.concat([b.assign(key=k) for k, (_, b) in parts.items()])
    keys = ["mixed", "nowhere", "hand", "earlier only"]
    got = np.column_stack(inference.standardised_pairs(now, earlier, keys))
    assert np.isnan(got[1, :6]).all() and got[1, 6] == 0  # in neither
    for key in ("mixed", "hand", "earlier only"):
        (p1, n1, d1), (p2, n2, d2), strata = inference.standardised_pair(*parts[key])
        want = np.array([p1, n1, d1, p2, n2, d2, strata], dtype=float)
        np.testing.assert_allclose(got[keys.index(key)], want, rtol=1e-12, equal_nan=True)
    hand = got[keys.index("hand")]
    assert hand[0] == pytest.approx(5 / 11 * 2 / 3 + 6 / 11 * 1 / 4)  # by hand, above
    assert hand[3] == pytest.approx(5 / 11 * 3 / 4 + 6 / 11 * 3 / 8)
    assert hand[6] == 2
    alone = got[keys.index("earlier only")]
    assert np.isnan(alone[:3]).all() and alone[3] == pytest.approx(6 / 8) and alone[6] == 1


def test_one_stratum_is_the_crude_share_and_interval():
    first = _cases("A", [(2, 3), (0, 3), (3, 3), (1, 2), (2, 2), (0, 1)])
    second = _cases("A", [(1, 3), (0, 3), (3, 3), (0, 2), (2, 2)])
    got = inference.standardised_pair(first, second)
    for side, part in zip(got[:2], (first, second), strict=True):
        y, n = part["y"].to_numpy(float), part["n"].to_numpy(float)
        p = y.sum() / n.sum()
        want = inference.effective_sizes(y.sum(), n.sum(), np.sum((y - p * n) ** 2), len(part))
        assert side == pytest.approx(tuple(float(v) for v in want))
    assert got[2] == 1


def test_themes_with_one_case_are_collapsed_into_the_largest():
    into = inference.collapse_strata(
        {"neglect": 10, "early_help": 1, "exploitation": 6},
        {"neglect": 8, "early_help": 5, "exploitation": 6},
    )
    assert into == {"neglect": "neglect", "early_help": "neglect", "exploitation": "exploitation"}
    # a theme absent from one cycle cannot be compared on its own either
    assert inference.collapse_strata({"a": 5}, {"a": 5, "b": 3}) == {"a": "a", "b": "a"}
    assert inference.collapse_strata({"a": 5, "b": 5}, {"a": 5, "b": 5}) == {"a": "a", "b": "b"}


def test_standardised_change_is_zero_when_only_the_mix_changes():
    """Each theme rated the same in both years, the mix changed: crude shares differ,
    standardised ones do not."""

    def cycle(eh: int, ne: int) -> pd.DataFrame:
        return pd.concat([_cases("early_help", [(3, 3)] * eh), _cases("neglect", [(1, 3)] * ne)])

    (p1, *_), (p2, *_), _ = inference.standardised_pair(cycle(8, 8), cycle(2, 14))
    assert p1 == pytest.approx(p2)
