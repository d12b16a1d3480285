"""Inference by case: intervals and tests for shares of ratings when the case, not the
rating, is the sampling unit.

A cycle audits a sample of about 24 children's cases, and every agency involved rates
every standard on the same case. A case handled well is rated well by every agency at
once, so a cycle's thousands of ratings are a couple of dozen clusters, and an interval
that treats ratings as independent is several times too narrow. Every share the suite
shows (``met_or_better / n``: by standard, KLOE, priority theme, age band, agency or
overall) and every change between cycles is therefore computed here with the case as
the unit.

The method
----------
**Variance of a share.** A share ``p = Y / N`` sums, over the ``C`` cases ``i`` with a
rating on the scale, ``y_i`` ratings rated good out of ``n_i``. It is a ratio
estimator; its linearised (Taylor series), cluster-robust variance with the usual
small-sample factor ``C / (C - 1)`` is ::

    V = C / (C - 1) * sum_i (y_i - p * n_i) ** 2 / N ** 2

(Cochran 1977, section 6.11; Wolter 2007, ch. 6; the same as the CR1 sandwich variance
of the mean of the ratings clustered by case, which ``tests/test_inference.py`` checks
against statsmodels' ``cov_type="cluster"``).

**Interval for a share.** Korn and Graubard's (1998) effective-sample-size approach:
the design effect ``deff = V / (p (1 - p) / N)`` turns ``N`` ratings into ``N / deff``
effectively independent ones, and the Wilson (1927) score interval is computed on that
effective size with the critical value of Student's t on ``C - 1`` degrees of freedom
instead of the normal one (Korn and Graubard's degrees-of-freedom adjustment, which
for Wilson's interval is exactly this substitution; Kott and Carr 1997). ``deff`` is
taken as at least 1 (ratings within a case are never treated as more informative than
independent ones), and as 1 where ``p`` is 0 or 1 and no variation between cases can
be seen (Korn and Graubard 1998). With ``deff = 1`` and infinitely many cases the
interval is Wilson's, and the tests check it against Newcombe's (1998a) worked
examples.

**Interval for a change between cycles.** Cycles are independent samples of cases.
The change ``p1 - p2`` gets the MOVER interval of Zou and Donner (2008) built from the
two shares' intervals above::

    low  = d - sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)

which with plain Wilson limits is Newcombe's (1998b) hybrid score interval, method 10
(checked against his worked examples). Its p-value is the one consistent with the
interval: the largest ``1 - confidence`` at which the interval still contains zero,
found by bisection, so that ``p < 0.05`` exactly when the 95% interval excludes zero.

**Many standards at once.** Standards (and KLOEs) compared within one pair of cycles
are a family of tests: their verdicts control the false discovery rate at 5% with the
Benjamini-Hochberg (1995) step-up procedure (statsmodels' ``multipletests``), and a
change is called only where its adjusted p-value is below 5%.

**Standardised to one theme mix.** Cases are sampled per priority theme and the themes
differ in practice, so a change in the mix audited moves a crude share with no change in
practice. A change between cycles is also estimated with both cycles' shares
standardised directly to the pooled theme mix of the two cycles (Curtin and Klein
1995): ``P = sum_h w_h p_h``, each theme's share ``p_h`` by case as above, with the
stratified variance ``sum_h w_h ** 2 V_h`` (weights held fixed), Korn and Graubard's
interval on ``C - H`` degrees of freedom and the MOVER interval for the change
(:func:`standardised_pair`). Themes with fewer than two cases in either cycle are
collapsed into the largest (:func:`collapse_strata`).

**Differences within a cycle** (one KLOE against another, one priority theme against
another, one standard against the cycle's overall share) share cases, so their
difference is linearised case by case (Binder 1983): ``d_i = r_ai - r_bi`` with
``r_gi = (y_gi - p_g n_gi) / N_g``, ``V = C / (C - 1) * sum_i d_i ** 2`` and Student's
t on ``min(C_a, C_b) - 1`` degrees of freedom. A "best" or "worst" picked after
looking at the data is tested with a Bonferroni adjustment over every pair that could
have been picked.

**Not estimable.** With fewer than :data:`MIN_CASES` cases behind a share (or behind
either side of a difference) the interval is ``nan`` and shown as "not estimable",
never a number.

What the intervals cover, and what they do not
----------------------------------------------
They cover the sampling of cases: which children happened to be audited. They do not
cover the auditors: an agency whose auditor grows more lenient between years moves its
ratings with no change in practice, and no resampling of cases can see that
(``bench/calibration.py`` measures how often that alone produces a verdict).

The computation is closed-form and deterministic: the same inputs give the same tables,
byte for byte, and no seed is involved. Its calibration is proven by simulation from a
model with case effects (``tests/test_calibration.py`` quickly; ``make bench``,
``calibration.*``, at length).

References
----------
Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate: a practical and
    powerful approach to multiple testing. J R Stat Soc B 57:289-300.
Binder DA (1983). On the variances of asymptotically normal estimators from complex
    surveys. Int Stat Rev 51:279-292.
Cochran WG (1977). Sampling Techniques, 3rd ed. Wiley.
Curtin LR, Klein RJ (1995). Direct standardization (age-adjusted death rates). Healthy
    People 2000 Statistical Notes 6. National Center for Health Statistics.
Korn EL, Graubard BI (1998). Confidence intervals for proportions with small expected
    number of positive counts estimated from survey data. Surv Methodol 24:193-201.
Kott PS, Carr DA (1997). Developing an estimation strategy for a pesticide data
    program. J Off Stat 13:367-383.
Newcombe RG (1998a, 1998b): see :mod:`audit_analysis.analysis.stats`.
Wolter KM (2007). Introduction to Variance Estimation, 2nd ed. Springer.
Zou GY, Donner A (2008). Construction of confidence limits about effect measures: a
    general approach. Stat Med 27:1693-1702.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "MIN_CASES",
    "bh_adjust",
    "case_sums",
    "collapse_strata",
    "difference_limits",
    "difference_p_values",
    "effective_sizes",
    "share_limits",
    "standardised_pair",
    "standardised_pairs",
    "within_difference",
]

MIN_CASES = 5
"""Fewer cases with a rating than this behind a share: its interval is not estimable."""

_P_FLOOR = 1e-12


# ----------------------------------------------------------------- per-case sums


def case_sums(
    group: npt.ArrayLike, case: npt.ArrayLike, success: npt.ArrayLike, rated: npt.ArrayLike
) -> dict[str, np.ndarray]:
    """Per group, the sums a share's case-level variance needs.

    Args:
        group: each rating's group number, 0 to G - 1 (for example from
            ``DataFrame.groupby(...).ngroup()``).
        case: each rating's case number (``-1`` for no case: left out).
        success: 1 where the rating is good, else 0.
        rated: True where the rating is on the scale (counts in ``n``).

    Returns:
        ``cases`` (distinct cases with a rating on the scale), ``N``, ``Y`` and
        ``case_ss``, the sum over cases of ``(y_i - p n_i) ** 2`` with ``p = Y / N``;
        each an array of length G (G being ``max(group) + 1``).
    """
    group = np.asarray(group, dtype=np.int64)
    case = np.asarray(case, dtype=np.int64)
    keep = np.asarray(rated, dtype=bool) & (case >= 0)
    size = int(group.max()) + 1 if group.size else 0
    g, c = group[keep], case[keep]
    s = np.asarray(success, dtype=np.float64)[keep]
    span = int(c.max()) + 1 if c.size else 1
    combo = pd.factorize(g * span + c)[0]
    cells = int(combo.max()) + 1 if combo.size else 0
    y = np.bincount(combo, weights=s, minlength=cells)
    n = np.bincount(combo, minlength=cells).astype(np.float64)
    first = np.full(cells, -1, dtype=np.int64)
    first[combo[::-1]] = np.arange(combo.size)[::-1]
    cell_group = g[first] if cells else np.empty(0, dtype=np.int64)
    big_y = np.bincount(cell_group, weights=y, minlength=size)
    big_n = np.bincount(cell_group, weights=n, minlength=size)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(big_n > 0, big_y / np.where(big_n > 0, big_n, 1), 0.0)
    residual = y - p[cell_group] * n
    return {
        "cases": np.bincount(cell_group, minlength=size).astype(np.int64),
        "N": big_n,
        "Y": big_y,
        "case_ss": np.bincount(cell_group, weights=residual**2, minlength=size),
    }


# ----------------------------------------------------------------- one share


def effective_sizes(
    successes: npt.ArrayLike,
    n: npt.ArrayLike,
    case_ss: npt.ArrayLike,
    cases: npt.ArrayLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share, effective sample size and degrees of freedom for each row.

    ``p = successes / n``; ``n_eff = p (1 - p) / V`` with ``V`` the case-level variance
    (module docstring), at most ``n`` and equal to ``n`` where ``p`` is 0 or 1 or
    ``V`` is 0; ``df = cases - 1``. ``n_eff`` is ``nan`` (not estimable) where ``n`` is
    0 or ``cases`` is below :data:`MIN_CASES`.
    """
    x = np.asarray(successes, dtype=np.float64)
    total = np.asarray(n, dtype=np.float64)
    ss = np.asarray(case_ss, dtype=np.float64)
    c = np.asarray(cases, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(total > 0, x / np.where(total > 0, total, 1), np.nan)
        variance = c / (c - 1) * ss / total**2
        n_eff = p * (1 - p) / variance
    plain = (p == 0) | (p == 1) | ~(variance > 0)
    n_eff = np.where(plain, total, np.minimum(n_eff, total))
    estimable = (total > 0) & (c >= MIN_CASES) & np.isfinite(n_eff)
    n_eff = np.where(estimable, n_eff, np.nan)
    return p, n_eff, np.where(estimable, c - 1, np.nan)


@lru_cache(maxsize=64)
def _t_crit_scalar(level: float, df: float) -> float:
    # scipy.stats' norm.isf and t.isf are these ufuncs (``-ndtri(q)``, ``-stdtrit(df,
    # q)``), value for value; scipy.special costs each kernel of the annual run a
    # fraction of scipy.stats' import (tests/test_inference.py checks they agree)
    from scipy import special

    if np.isinf(df):
        return float(-special.ndtri((1.0 - level) / 2.0))
    return float(-special.stdtrit(df, (1.0 - level) / 2.0))


def _t_crit(alpha: npt.ArrayLike, df: npt.ArrayLike) -> np.ndarray:
    """Two-sided critical values of Student's t (normal where ``df`` is infinite)."""

    alpha = np.asarray(alpha, dtype=np.float64)
    df = np.asarray(df, dtype=np.float64)
    if alpha.ndim == 0 and df.ndim <= 1:
        unique, inverse = np.unique(df, return_inverse=True)
        values = np.array(
            [
                _t_crit_scalar(float(1 - alpha), d) if np.isfinite(d) or np.isinf(d) else np.nan
                for d in unique
            ]
        )
        return values[inverse].reshape(df.shape)
    from scipy import special

    # scipy.stats' t.isf and norm.isf are these ufuncs (``-stdtrit(df, q)``,
    # ``-ndtri(q)``) behind argument checks that cost more than the sums, in the
    # bisection of :func:`difference_p_values`
    with np.errstate(invalid="ignore"):
        return np.where(
            np.isinf(df), -special.ndtri(alpha / 2.0), -special.stdtrit(df, alpha / 2.0)
        )


def _wilson(p: np.ndarray, n_eff: np.ndarray, crit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wilson's score limits for a share ``p`` on ``n_eff`` observations at the
    critical value ``crit``; exactly 0 and 1 at the ends."""
    with np.errstate(divide="ignore", invalid="ignore"):
        k = crit**2 / n_eff
        centre = (p + k / 2) / (1 + k)
        half = crit * np.sqrt(p * (1 - p) / n_eff + k / (4 * n_eff)) / (1 + k)
    low = np.minimum(np.clip(centre - half, 0.0, 1.0), p)  # rounding never puts p outside
    high = np.maximum(np.clip(centre + half, 0.0, 1.0), p)
    low = np.where(p == 0, 0.0, low)
    high = np.where(p == 1, 1.0, high)
    return low, high


def share_limits(
    p: npt.ArrayLike, n_eff: npt.ArrayLike, df: npt.ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Korn and Graubard's interval: Wilson's on the effective sample size with the
    t critical value on ``df`` degrees of freedom (``inf`` for the normal). ``nan``
    where ``n_eff`` is ``nan``."""
    p = np.asarray(p, dtype=np.float64)
    n_eff = np.asarray(n_eff, dtype=np.float64)
    df = np.asarray(df, dtype=np.float64)
    crit = _t_crit(1.0 - confidence, np.where(np.isnan(df), np.inf, df))
    low, high = _wilson(p, n_eff, crit)
    missing = np.isnan(n_eff) | np.isnan(p) | np.isnan(df)
    return np.where(missing, np.nan, low), np.where(missing, np.nan, high)


# ----------------------------------------------------------------- changes


def difference_limits(
    p1: npt.ArrayLike,
    n_eff1: npt.ArrayLike,
    df1: npt.ArrayLike,
    p2: npt.ArrayLike,
    n_eff2: npt.ArrayLike,
    df2: npt.ArrayLike,
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``p1 - p2`` for independent samples of cases, with the MOVER interval (Zou and
    Donner 2008) from each share's :func:`share_limits`: Newcombe's method 10 when both
    are plain Wilson intervals. Returns ``(diff, low, high)``, ``nan`` where either
    share is not estimable."""
    p1, p2 = np.asarray(p1, dtype=np.float64), np.asarray(p2, dtype=np.float64)
    l1, u1 = share_limits(p1, n_eff1, df1, confidence)
    l2, u2 = share_limits(p2, n_eff2, df2, confidence)
    diff = p1 - p2
    low = np.maximum(diff - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), -1.0)
    high = np.minimum(diff + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2), 1.0)
    missing = np.isnan(low) | np.isnan(high)
    return (
        np.where(np.isnan(diff), np.nan, diff),
        np.where(missing, np.nan, low),
        np.where(missing, np.nan, high),
    )


def difference_p_values(
    p1: npt.ArrayLike,
    n_eff1: npt.ArrayLike,
    df1: npt.ArrayLike,
    p2: npt.ArrayLike,
    n_eff2: npt.ArrayLike,
    df2: npt.ArrayLike,
    iterations: int = 60,
) -> np.ndarray:
    """Two-sided p-values consistent with :func:`difference_limits`: the largest
    ``alpha`` at which the ``1 - alpha`` interval still contains zero, by bisection on
    ``log(alpha)``. 1 where the difference is 0; ``nan`` where not estimable."""
    args = [
        np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in (p1, n_eff1, df1, p2, n_eff2, df2)
    ]
    args = np.broadcast_arrays(*args)
    a1, ne1, d1, a2, ne2, d2 = args
    diff = a1 - a2
    missing = np.isnan(diff) | np.isnan(ne1) | np.isnan(ne2) | np.isnan(d1) | np.isnan(d2)
    df1c, df2c = np.where(np.isnan(d1), np.inf, d1), np.where(np.isnan(d2), np.inf, d2)

    def excludes_zero(alpha: np.ndarray) -> np.ndarray:
        c1, c2 = _t_crit(alpha, df1c), _t_crit(alpha, df2c)
        l1, u1 = _wilson(a1, ne1, c1)
        l2, u2 = _wilson(a2, ne2, c2)
        low = diff - np.sqrt((a1 - l1) ** 2 + (u2 - a2) ** 2)
        high = diff + np.sqrt((u1 - a1) ** 2 + (a2 - l2) ** 2)
        return (low > 0) | (high < 0)

    # Invariant: the interval excludes zero at alpha = exp(hi) (at alpha = 1 it is the
    # point ``diff``) and contains it at alpha = exp(lo).
    floor = np.log(_P_FLOOR)
    lo = np.full(diff.shape, floor)
    hi = np.zeros(diff.shape)
    tiny = excludes_zero(np.exp(lo))
    for _ in range(iterations):
        mid = (lo + hi) / 2
        out = excludes_zero(np.exp(mid))
        hi = np.where(out, mid, hi)
        lo = np.where(out, lo, mid)
    p = np.where(tiny, _P_FLOOR, np.exp(hi))  # below the floor: only known to be tiny
    p = np.where(diff == 0, 1.0, p)
    return np.where(missing, np.nan, np.minimum(p, 1.0))


def bh_adjust(p: npt.ArrayLike) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values, over the values that are not ``nan``;
    ``nan`` stays ``nan``.

    The arithmetic is statsmodels' ``multipletests(method="fdr_bh")``, step for step
    (``tests/test_inference.py`` checks it value for value): importing statsmodels'
    module imports scipy.stats, which costs every notebook of the annual run and the
    explorer's first render more than the adjustment itself."""
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        values = p[ok]
        order = np.argsort(values)
        ranked = values[order] / (np.arange(1, values.size + 1) / float(values.size))
        adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
        adjusted[adjusted > 1] = 1
        back = np.empty_like(adjusted)
        back[order] = adjusted
        out[ok] = back
    return out


# ----------------------------------------------------------------- within a cycle


def within_difference(
    ratings: pd.DataFrame,
    in_a: npt.ArrayLike,
    in_b: npt.ArrayLike,
    confidence: float = 0.95,
    comparisons: int = 1,
) -> dict[str, float]:
    """Share rated good of ratings ``in_a`` minus that of ratings ``in_b``, both
    from one cycle (they may share cases, and may overlap), with a case-level interval.

    ``ratings`` needs ``case_ref`` and ``rating``; ``in_a`` and ``in_b`` are boolean
    masks over its rows. The interval is Wald's on the linearised difference (module
    docstring) with Student's t on ``min(C_a, C_b) - 1`` degrees of freedom, at the
    confidence level Bonferroni-adjusted for ``comparisons`` comparisons.

    Returns ``diff``, ``low``, ``high``, ``p`` (two-sided, adjusted the same way,
    capped at 1), ``share_a``, ``share_b``, ``cases_a``, ``cases_b``; the interval and
    ``p`` are ``nan`` when either side rests on fewer than :data:`MIN_CASES` cases.
    """
    # t.isf and t.sf are -stdtrit and stdtr (see _t_crit_scalar): scipy.special only
    from scipy import special

    from audit_analysis.io.ratings import scale_of

    scale = scale_of(ratings["rating"])
    rating = ratings["rating"].astype("object").to_numpy()
    rated = np.isin(rating, list(scale.levels))
    success = np.isin(rating, list(scale.good)).astype(np.float64)
    case = pd.factorize(ratings["case_ref"])[0]
    ok = rated & (case >= 0)
    n_cases = int(case.max()) + 1 if case.size else 0
    sides = []
    for mask in (np.asarray(in_a, dtype=bool), np.asarray(in_b, dtype=bool)):
        m = mask & ok
        y = np.bincount(case[m], weights=success[m], minlength=n_cases)
        n = np.bincount(case[m], minlength=n_cases).astype(np.float64)
        total = n.sum()
        p = y.sum() / total if total else np.nan
        residual = (y - p * n) / total if total else np.zeros(n_cases)
        sides.append((p, residual, int((n > 0).sum()), n > 0))
    (pa, ra, ca, ina), (pb, rb, cb, inb) = sides
    diff = pa - pb
    out = {
        "diff": float(diff),
        "low": np.nan,
        "high": np.nan,
        "p": np.nan,
        "share_a": float(pa),
        "share_b": float(pb),
        "cases_a": ca,
        "cases_b": cb,
    }
    if min(ca, cb) < MIN_CASES or np.isnan(diff):
        return out
    involved = ina | inb
    c = int(involved.sum())
    d = (ra - rb)[involved]
    se = float(np.sqrt(c / (c - 1) * np.sum(d**2)))
    df = min(ca, cb) - 1
    alpha = (1.0 - confidence) / max(int(comparisons), 1)
    crit = float(-special.stdtrit(df, alpha / 2))
    out["low"], out["high"] = float(diff - crit * se), float(diff + crit * se)
    if se == 0:
        out["p"] = 1.0 if diff == 0 else 0.0
    else:
        p_value = 2 * float(special.stdtr(df, -abs(diff) / se)) * max(int(comparisons), 1)
        out["p"] = min(p_value, 1.0)
    return out


# ----------------------------------------------------------------- standardised to one theme mix


def collapse_strata(cases1: dict[str, int], cases2: dict[str, int]) -> dict[str, str]:
    """Which stratum each theme is estimated in: its own where both cycles have at least
    two cases of it, else merged into the theme with the most cases over both cycles
    (collapsed strata: Cochran 1977, section 5A.12; Wolter 2007, section 2.5), repeated
    until every stratum left has two cases in each cycle or one stratum is left."""
    themes = sorted(set(cases1) | set(cases2))
    into = {t: t for t in themes}
    c1 = {t: cases1.get(t, 0) for t in themes}
    c2 = {t: cases2.get(t, 0) for t in themes}
    while len(c1) > 1:
        small = [t for t in c1 if min(c1[t], c2[t]) < 2]
        if not small:
            break
        worst = min(small, key=lambda t: (min(c1[t], c2[t]), c1[t] + c2[t], t))
        target = max((t for t in c1 if t != worst), key=lambda t: (c1[t] + c2[t], t))
        c1[target] += c1.pop(worst)
        c2[target] += c2.pop(worst)
        into = {t: (target if s == worst else s) for t, s in into.items()}
    return into


def standardised_pair(
    first: pd.DataFrame, second: pd.DataFrame
) -> tuple[tuple[float, float, float], tuple[float, float, float], int]:
    """Two cycles' shares of one group (a standard, a KLOE, all standards) standardised
    directly to their pooled theme mix, each as ``(share, n_eff, df)`` for
    :func:`difference_limits` and :func:`difference_p_values`, and the number of strata.

    ``first`` and ``second`` hold one row per case with a rating on the scale in the
    group: ``theme`` (the case's priority theme; missing cases form a stratum of their
    own), ``y`` (ratings rated good) and ``n`` (ratings on the scale). Themes are
    collapsed by :func:`collapse_strata`. With ``w_h`` the share of the two cycles'
    cases (pooled) in stratum ``h``, each cycle's standardised share is
    ``P = sum_h w_h p_h`` with ``p_h = Y_h / N_h`` the ratio estimator of the stratum, and
    its variance, the weights held fixed (direct standardisation: Curtin and Klein 1995;
    SAS/STAT User's Guide, PROC STDRATE, "Direct Standardization"), is the stratified one
    ``V = sum_h w_h ** 2 * C_h / (C_h - 1) * sum_{i in h} (y_i - p_h n_i) ** 2 / N_h ** 2``
    (each stratum's term the ratio variance of the module docstring; Cochran 1977,
    ch. 5 and section 6.11). ``n_eff = P (1 - P) / V`` (at most the number of ratings;
    all of them where ``P`` is 0 or 1 or ``V`` is 0) and ``df = C - H`` (cases minus
    strata, the usual design degrees of freedom). With one stratum this is exactly the
    crude share and its interval (:func:`effective_sizes`). ``nan`` where a cycle has
    fewer than :data:`MIN_CASES` cases.
    """
    if "key" in first.columns or "key" in second.columns:
        first, second = first.drop(columns="key"), second.drop(columns="key")
    pairs = standardised_pairs(first.assign(key=0), second.assign(key=0), [0])
    p1, n1, d1, p2, n2, d2, strata = (float(a[0]) for a in pairs)
    return (p1, n1, d1), (p2, n2, d2), int(strata)


def _stratum_sums(values: np.ndarray, stratum: np.ndarray, size: int) -> np.ndarray:
    """Sum of ``values`` per stratum (0 to ``size`` - 1), each one ``np.sum`` of its
    values in their order: numpy's pairwise summation, as one stratum's sum has always
    been computed (a bincount adds in another order and differs in the last bits)."""
    order = np.argsort(stratum, kind="stable")
    ordered = values[order]
    bounds = np.searchsorted(stratum[order], np.arange(size + 1))
    return np.array([ordered[a:b].sum() for a, b in zip(bounds[:-1], bounds[1:], strict=True)])


def standardised_pairs(
    first: pd.DataFrame, second: pd.DataFrame, keys: list[object]
) -> tuple[np.ndarray, ...]:
    """:func:`standardised_pair` for many groups at once (each standard, KLOE or set
    of standards of a table), its arithmetic in one pass over every group's cases.

    ``first`` and ``second`` hold the rows of all groups, told apart by ``key``: the
    cases of ``key`` k in ``first`` against those of k in ``second``. Returns seven
    arrays, one entry per key of ``keys`` in its order: ``p1``, ``n_eff1``, ``df1``,
    ``p2``, ``n_eff2``, ``df2`` and the number of strata, each what
    :func:`standardised_pair` gives for that key's rows alone; all ``nan`` (strata 0)
    where a key has no row in either frame.
    """
    size = len(keys)
    position = {k: i for i, k in enumerate(keys)}
    sides = []
    for part in (first, second):
        key = np.fromiter(
            (position.get(k, -1) for k in part["key"].to_numpy(dtype=object)),
            dtype=np.int64,
            count=len(part),
        )
        named = pd.Series(part["theme"].to_numpy(dtype=object), dtype=object)
        theme = named.where(named.notna(), "(no theme)").astype(str).to_numpy(dtype=object)
        keep = key >= 0
        y = np.asarray(part["y"], dtype=np.float64)[keep]
        n = np.asarray(part["n"], dtype=np.float64)[keep]
        sides.append((key[keep], theme[keep], y, n))
    names, codes = np.unique(np.concatenate([t for _, t, _, _ in sides]), return_inverse=True)
    width = max(len(names), 1)
    split = len(sides[0][0])
    themes = (codes[:split], codes[split:])
    # cases of each key in each theme, each cycle: what collapse_strata decides on
    counts = [
        np.bincount(k * width + t, minlength=size * width).reshape(size, width)
        for (k, _, _, _), t in zip(sides, themes, strict=True)
    ]
    present = (counts[0].sum(axis=1) > 0) | (counts[1].sum(axis=1) > 0)
    code = {str(name): t for t, name in enumerate(names)}
    # each key's strata in sorted order, numbered across keys
    stratum_of = np.full((size, width), -1, dtype=np.int64)
    owner: list[int] = []
    for i in np.flatnonzero(present):
        c1, c2 = ({str(names[t]): int(c[i, t]) for t in np.flatnonzero(c[i])} for c in counts)
        into = collapse_strata(c1, c2)
        strata = sorted(set(into.values()))
        number = {h: len(owner) + j for j, h in enumerate(strata)}
        for theme, h in into.items():
            stratum_of[i, code[theme]] = number[h]
        owner += [int(i)] * len(strata)
    owner_of = np.asarray(owner, dtype=np.int64)
    total_strata = len(owner)
    cases = []
    rows = []
    for (k, _, y, n), t in zip(sides, themes, strict=True):
        h = stratum_of[k, t] if len(k) else np.empty(0, dtype=np.int64)
        ok = h >= 0
        h, y, n = h[ok], y[ok], n[ok]
        cases.append(np.bincount(h, minlength=total_strata))
        rows.append((k[ok], h, y, n))
    every = np.bincount(owner_of, weights=cases[0] + cases[1], minlength=size)
    strata_of_key = np.bincount(owner_of, minlength=size)
    weights = (cases[0] + cases[1]) / np.where(every > 0, every, 1)[owner_of]
    out: list[np.ndarray] = []
    for (k, h, y, n), c in zip(rows, cases, strict=True):
        big_c = np.bincount(owner_of, weights=c, minlength=size)
        ratings = np.bincount(k, weights=n, minlength=size)
        big_y = np.bincount(k, weights=y, minlength=size)
        stratum_y = np.bincount(h, weights=y, minlength=total_strata)
        stratum_n = np.bincount(h, weights=n, minlength=total_strata)
        with np.errstate(divide="ignore", invalid="ignore"):
            p_h = stratum_y / stratum_n
            ss = _stratum_sums((y - p_h[h] * n) ** 2, h, total_strata)
            term = weights**2 * c / (c - 1) * ss / stratum_n**2
        share = np.bincount(owner_of, weights=np.where(c > 0, weights * p_h, 0.0), minlength=size)
        variance = np.bincount(owner_of, weights=np.where(c > 1, term, 0.0), minlength=size)
        share = np.minimum(np.maximum(share, 0.0), 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            n_eff = np.where(
                (share == 0.0) | (share == 1.0) | ~(variance > 0),
                ratings,
                np.minimum(share * (1 - share) / variance, ratings),
            )
            crude = np.where(ratings > 0, big_y / np.where(ratings > 0, ratings, 1), np.nan)
        estimable = present & (big_c >= MIN_CASES) & (ratings > 0)
        df = np.maximum(big_c - strata_of_key, 1).astype(np.float64)
        out += [
            np.where(estimable, share, np.where(present, crude, np.nan)),
            np.where(estimable, n_eff, np.nan),
            np.where(estimable, df, np.nan),
        ]
    return (*out, strata_of_key.astype(np.float64))
