"""The statistics the suite reports: intervals for proportions and their changes,
agreement between raters, and bootstrap intervals for agreement (docs/data-contract.md,
"Statistics the suite exposes").

Every formula is taken from a published source, cited where it is used, and each
function is tested against that source's worked examples (``tests/test_stats.py``).

Conventions shared by the agreement statistics:

* Reliability data are a raters x units matrix (rows raters, columns units, such as
  agencies x cases), numeric codes, ``nan`` where a rater did not rate a unit.
* The bootstrap intervals resample units, or with ``clusters`` (one label per unit)
  whole clusters of units, such as every (case, standard) unit of one case.
* When a statistic is undefined for the data (no variation to correct for chance, or
  no unit rated twice) it is ``nan``, never an exception and never a made-up number;
  the caller shows :data:`NOT_ESTIMABLE`.

References
----------
Cicchetti DV, Allison T (1971). A new procedure for assessing reliability of scoring
    EEG sleep recordings. Am J EEG Technol 11:101-109.
Cohen J (1960). A coefficient of agreement for nominal scales. Educ Psychol Meas
    20:37-46.
Cohen J (1968). Weighted kappa. Psychol Bull 70:213-220.
Davison AC, Hinkley DV (1997). Bootstrap Methods and their Application. Cambridge
    University Press, section 3.8 (hierarchical data: resample the clusters, keeping
    each drawn cluster's units together).
Efron B, Tibshirani RJ (1993). An Introduction to the Bootstrap. Chapman & Hall, ch. 13.
Fleiss JL (1971). Measuring nominal scale agreement among many raters. Psychol Bull
    76:378-382.
Field CA, Welsh AH (2007). Bootstrapping clustered data. J R Stat Soc B 69:369-390.
Fleiss JL, Cohen J (1973). The equivalence of weighted kappa and the intraclass
    correlation coefficient as measures of reliability. Educ Psychol Meas 33:613-619.
Gwet KL (2008). Computing inter-rater reliability and its variance in the presence of
    high agreement. Br J Math Stat Psychol 61:29-48.
Gwet KL (2014). Handbook of Inter-Rater Reliability, 4th ed. Advanced Analytics, ch. 2
    (and the irrCAC R package, ``gwet.ac1.raw``).
Hayes AF, Krippendorff K (2007). Answering the call for a standard reliability measure
    for coding data. Commun Methods Meas 1:77-89.
Krippendorff K (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for
    Communication, University of Pennsylvania.
Newcombe RG (1998a). Two-sided confidence intervals for the single proportion:
    comparison of seven methods. Stat Med 17:857-872.
Newcombe RG (1998b). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. Stat Med 17:873-890.
Wilson EB (1927). Probable inference, the law of succession, and statistical
    inference. J Am Stat Assoc 22:209-212.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from functools import lru_cache
from numbers import Integral, Real
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "ALPHA_LEVELS",
    "NOT_ESTIMABLE",
    "bootstrap_interval",
    "classify_change",
    "cohen_kappa",
    "fleiss_kappa",
    "gwet_ac1",
    "gwet_ac1_bootstrap",
    "kappa_from_table",
    "krippendorff_alpha",
    "krippendorff_alpha_bootstrap",
    "newcombe_difference_interval",
    "wilson_interval",
    "wilson_intervals",
]

NOT_ESTIMABLE = "not estimable"
"""What the caller shows where a statistic is ``nan``."""

AlphaLevel = Literal["nominal", "ordinal", "interval", "ratio"]
ALPHA_LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")
Change = Literal["improved", "declined", "no clear change", "not estimable"]

ClusterLabels = Sequence[Hashable] | npt.ArrayLike | pd.Series | pd.Index
"""One cluster label per unit (column) of the reliability data, e.g. its case."""

_NAN = float("nan")


# --------------------------------------------------------------------------- checks


def _check_confidence(confidence: float) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, Real):
        raise ValueError(f"confidence must be a number between 0 and 1, got {confidence!r}")
    value = float(confidence)
    if not 0.0 < value < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    return value


def _check_count(value: object, name: str) -> int:
    """A whole, non-negative count (an int, a numpy integer or a whole float)."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if isinstance(value, Integral):
        count = int(value)
    elif isinstance(value, Real) and math.isfinite(float(value)) and float(value).is_integer():
        count = int(float(value))
    else:
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if count < 0:
        raise ValueError(f"{name} must not be negative, got {value!r}")
    return count


def _check_proportion(successes: object, n: object, label: str = "") -> tuple[int, int]:
    x = _check_count(successes, f"successes{label}")
    total = _check_count(n, f"n{label}")
    if x > total:
        raise ValueError(
            f"successes{label} ({x}) cannot exceed n{label} ({total}): "
            "a proportion is a part of its whole"
        )
    return x, total


def _check_n_boot(n_boot: object) -> int:
    if isinstance(n_boot, bool) or not isinstance(n_boot, Integral) or int(n_boot) < 1:
        raise ValueError(f"n_boot must be a positive whole number, got {n_boot!r}")
    return int(n_boot)


def _check_level(level: str) -> str:
    if level not in ALPHA_LEVELS:
        raise ValueError(f"level must be one of {', '.join(ALPHA_LEVELS)}; got {level!r}")
    return level


def _reliability_matrix(reliability_data: npt.ArrayLike | pd.DataFrame) -> np.ndarray:
    """Raters x units as a float matrix, ``nan`` for a missing rating."""
    try:
        if isinstance(reliability_data, pd.DataFrame | pd.Series):
            data = reliability_data.to_numpy(dtype=float, na_value=np.nan)
        else:
            data = np.array(reliability_data, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"reliability data must be numeric codes with nan for a missing rating ({err})"
        ) from err
    if data.ndim != 2:
        raise ValueError(
            f"reliability data must be a 2-D matrix (raters x units); got {data.ndim} dimension(s)"
        )
    if np.isinf(data).any():
        raise ValueError("reliability data must not contain infinite values")
    return data


def _rated_units(data: np.ndarray) -> np.ndarray:
    """Drop units (columns) nobody rated: they carry no information for any statistic."""
    return data[:, (~np.isnan(data)).any(axis=0)]


def _rated_clustered_units(
    reliability_data: npt.ArrayLike | pd.DataFrame, clusters: ClusterLabels | None
) -> tuple[np.ndarray, np.ndarray]:
    """The rated units (:func:`_rated_units`) and each one's cluster code.

    Codes run 0..C-1 over the clusters with a rated unit, in order of first appearance
    (unrated units are dropped before numbering). Without ``clusters`` every unit is
    its own cluster and the codes are 0..n-1, so a clustered bootstrap with clusters of
    one unit draws exactly what an unclustered one does.

    Raises:
        ValueError: bad data, or ``clusters`` is not one hashable, non-missing label
            per unit (column).
    """
    data = _reliability_matrix(reliability_data)
    rated = (~np.isnan(data)).any(axis=0)
    if clusters is None:
        return data[:, rated], np.arange(int(rated.sum()))
    if isinstance(clusters, np.ndarray) and clusters.ndim != 1:
        raise ValueError(
            f"clusters must be 1-D, one label per unit; got {clusters.ndim} dimensions"
        )
    try:
        labels = pd.Series(list(clusters), dtype=object)
        codes = pd.factorize(labels)[0]
    except TypeError as err:
        raise ValueError(f"clusters must be a sequence of hashable labels ({err})") from err
    if codes.size != data.shape[1]:
        raise ValueError(
            f"clusters must give one label per unit: {codes.size} labels for {data.shape[1]} units"
        )
    if (codes < 0).any():
        raise ValueError("clusters must not have missing labels")
    return data[:, rated], pd.factorize(codes[rated])[0].astype(np.intp)


def _n_clusters(codes: np.ndarray) -> int:
    return int(codes.max()) + 1 if codes.size else 0


def _sum_by_cluster(per_unit: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Per-unit terms (units, ...) summed within each cluster, (clusters, ...)."""
    totals = np.zeros((_n_clusters(codes), *per_unit.shape[1:]))
    np.add.at(totals, codes, per_unit)
    return totals


# ----------------------------------------------------------------- proportions


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a single proportion ``successes / n``.

    Wilson (1927); method 3 (score interval without continuity correction) of
    Newcombe (1998a), computed by ``statsmodels.stats.proportion.proportion_confint``
    with ``method="wilson"``. The limits are exactly 0 when ``successes == 0`` and
    exactly 1 when ``successes == n``, as the formula gives in exact arithmetic.

    Returns ``(nan, nan)`` when ``n == 0``: there is no proportion to bound.

    Raises:
        ValueError: ``successes`` or ``n`` is not a whole non-negative number,
            ``successes > n``, or ``confidence`` is not strictly between 0 and 1.
    """
    x, total = _check_proportion(successes, n)
    level = _check_confidence(confidence)
    if total == 0:
        return (_NAN, _NAN)
    from statsmodels.stats.proportion import proportion_confint  # scipy: only when used

    low, high = proportion_confint(x, total, alpha=1.0 - level, method="wilson")
    low = 0.0 if x == 0 else min(max(float(low), 0.0), 1.0)
    high = 1.0 if x == total else min(max(float(high), 0.0), 1.0)
    return (low, high)


def wilson_intervals(
    successes: npt.ArrayLike, n: npt.ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`wilson_interval` for arrays of counts at once, equal to it value for value.

    The arithmetic is statsmodels' ``proportion_confint(method="wilson")``, step for
    step, on whole arrays: a table of thousands of rows (a summary per partnership)
    costs one pass instead of one call per row. ``nan`` where ``n`` is 0.

    Raises:
        ValueError: a count is negative or not whole, ``successes > n``, or
            ``confidence`` is not strictly between 0 and 1.
    """
    level = _check_confidence(confidence)
    x = np.asarray(successes, dtype=float)
    total = np.asarray(n, dtype=float)
    if x.shape != total.shape:
        raise ValueError("successes and n must have the same shape")
    bad = ~np.isfinite(x) | ~np.isfinite(total) | (x < 0) | (total < 0)
    bad |= (x != np.floor(x)) | (total != np.floor(total))
    if bad.any():
        raise ValueError("successes and n must be whole, non-negative numbers")
    if (x > total).any():
        raise ValueError("successes cannot exceed n: a proportion is a part of its whole")
    count = x.astype(np.int64)
    nobs = total.astype(np.int64)
    rated = nobs > 0
    safe = np.where(rated, nobs, 1)
    crit = _wilson_crit(level)
    crit2 = crit**2
    with np.errstate(divide="ignore", invalid="ignore"):
        q_ = count / safe
        denom = 1 + crit2 / safe
        center = (q_ + crit2 / (2 * safe)) / denom
        dist = crit * np.sqrt(q_ * (1.0 - q_) / safe + crit2 / (4.0 * safe**2))
        dist /= denom
    low = np.clip(np.clip(center - dist, 0, 1), 0.0, 1.0)
    high = np.clip(np.clip(center + dist, 0, 1), 0.0, 1.0)
    low = np.where(count == 0, 0.0, low)
    high = np.where(count == nobs, 1.0, high)
    return np.where(rated, low, np.nan), np.where(rated, high, np.nan)


@lru_cache(maxsize=8)
def _wilson_crit(level: float) -> float:
    """The normal quantile statsmodels' Wilson interval uses at this level
    (``scipy.stats.norm.isf``, which is ``-ndtri``: scipy.special, not scipy.stats'
    import, in the annual run's kernels)."""
    from scipy import special

    return float(-special.ndtri((1.0 - level) / 2.0))


def newcombe_difference_interval(
    x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Difference of two independent proportions, ``diff = x1/n1 - x2/n2``, with
    Newcombe's hybrid score interval (method 10 of Newcombe 1998b).

    With Wilson limits ``(l1, u1)`` for ``p1`` and ``(l2, u2)`` for ``p2`` at the same
    confidence (:func:`wilson_interval`), Newcombe (1998b, method 10) gives::

        low  = diff - sqrt((p1 - l1)**2 + (u2 - p2)**2)
        high = diff + sqrt((u1 - p1)**2 + (p2 - l2)**2)

    The interval always contains ``diff`` and lies within [-1, 1].

    Returns ``(nan, nan, nan)`` when either ``n`` is 0.

    Raises:
        ValueError: a count is not a whole non-negative number, a numerator exceeds
            its denominator, or ``confidence`` is not strictly between 0 and 1.
    """
    a, na = _check_proportion(x1, n1, "1")
    b, nb = _check_proportion(x2, n2, "2")
    level = _check_confidence(confidence)
    if na == 0 or nb == 0:
        return (_NAN, _NAN, _NAN)
    p1, p2 = a / na, b / nb
    l1, u1 = wilson_interval(a, na, level)
    l2, u2 = wilson_interval(b, nb, level)
    diff = p1 - p2
    low = diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (diff, max(low, -1.0), min(high, 1.0))


def classify_change(low: float | None, high: float | None) -> Change:
    """Read an interval for a change (later minus earlier, where higher is better).

    ``"improved"`` only when the whole interval is above zero, ``"declined"`` only
    when it is wholly below zero, otherwise ``"no clear change"`` (an interval
    touching zero does not exclude it). ``nan`` (or ``None``) in either limit gives
    ``"not estimable"``.

    Raises:
        ValueError: ``low`` is greater than ``high``.
    """
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return NOT_ESTIMABLE
    if low > high:
        raise ValueError(f"the interval's low limit ({low}) is above its high limit ({high})")
    if low > 0:
        return "improved"
    if high < 0:
        return "declined"
    return "no clear change"


# ------------------------------------------------------------------ Krippendorff


def _alpha_not_estimable(data: np.ndarray) -> bool:
    """Fewer than 2 pairable values, or all pairable values identical: alpha's
    expected disagreement is 0 and alpha is 0/0 (Krippendorff 2011)."""
    present = ~np.isnan(data)
    pairable_units = present.sum(axis=0) >= 2
    values = data[:, pairable_units][present[:, pairable_units]]
    return values.size < 2 or np.unique(values).size < 2


def krippendorff_alpha(
    reliability_data: npt.ArrayLike | pd.DataFrame, level: AlphaLevel = "ordinal"
) -> float:
    """Krippendorff's alpha for raters x units data, ``nan`` where a rater did not rate.

    Krippendorff (2011): ``alpha = 1 - D_o / D_e`` from the coincidence matrix of
    pairable values, with the nominal, ordinal, interval or ratio difference function.
    Computed by the ``krippendorff`` package (``krippendorff.alpha``). Ordinal alpha
    depends only on the order of the codes, not their spacing.

    Returns ``nan`` ("not estimable") when fewer than 2 pairable values exist (no unit
    rated by 2 or more raters) or all pairable values are identical.

    Raises:
        ValueError: the data are not a numeric 2-D matrix, or ``level`` is unknown.
    """
    _check_level(level)
    data = _reliability_matrix(reliability_data)
    if _alpha_not_estimable(data):
        return _NAN
    import krippendorff  # its scipy import, only when alpha is computed

    value = float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))
    return value if math.isfinite(value) else _NAN


def _unit_coincidences(data: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each unit's contribution to the coincidence matrix, shape (units, V, V).

    Krippendorff (2011): unit u with ``m_u >= 2`` pairable values adds
    ``(n_uc * n_uk - [c == k] * n_uc) / (m_u - 1)`` to cell (c, k); units with fewer
    than 2 values add nothing. The full matrix is the sum over units, so a bootstrap
    resample of units is a weighted sum of these contributions.
    """
    counts = (data.T[:, :, np.newaxis] == values[np.newaxis, np.newaxis, :]).sum(axis=1)
    counts = counts.astype(float)
    m_u = counts.sum(axis=1)
    pairs = counts[:, :, np.newaxis] * counts[:, np.newaxis, :]
    pairs -= counts[:, :, np.newaxis] * np.eye(values.size)[np.newaxis, :, :]
    scale = np.divide(1.0, m_u - 1.0, out=np.zeros_like(m_u), where=m_u >= 2)
    return pairs * scale[:, np.newaxis, np.newaxis]


def _alpha_from_coincidences(o: np.ndarray, values: np.ndarray, level: str) -> np.ndarray:
    """Alpha for a stack of coincidence matrices ``o`` (B, V, V), vectorised.

    Krippendorff (2011): ``n_c`` are the margins of ``o``; ``D_o = sum o_ck d_ck``;
    ``D_e = sum n_c n_k d_ck / (n - 1)`` (``d_cc = 0``); ``alpha = 1 - D_o / D_e``.
    Difference functions, as in Krippendorff (2011) and the ``krippendorff`` package:
    nominal ``[c != k]``; interval ``(c - k)**2``; ratio ``((c - k) / (c + k))**2``;
    ordinal ``(sum_{g=c..k} n_g - (n_c + n_k) / 2)**2``, which depends on the margins
    and so is computed per matrix.
    """
    n_v = o.sum(axis=2)
    n = n_v.sum(axis=1)
    size = values.size
    if level == "ordinal":
        ranks = np.arange(size)
        lo = np.minimum.outer(ranks, ranks)
        hi = np.maximum.outer(ranks, ranks)
        cumulative = np.cumsum(n_v, axis=1)
        between = cumulative[:, hi] - cumulative[:, lo] + n_v[:, lo]
        d = (between - (n_v[:, :, np.newaxis] + n_v[:, np.newaxis, :]) / 2.0) ** 2
    else:
        v1, v2 = values[:, np.newaxis], values[np.newaxis, :]
        if level == "nominal":
            fixed = (v1 != v2).astype(float)
        elif level == "interval":
            fixed = (v1 - v2) ** 2
        else:  # ratio
            total = v1 + v2
            fixed = np.divide(v1 - v2, total, out=np.zeros((size, size)), where=total != 0) ** 2
        d = np.broadcast_to(fixed, o.shape)
    observed = (o * d).sum(axis=(1, 2))
    expected_sum = np.einsum("bi,bij,bj->b", n_v, d, n_v)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = 1.0 - (n - 1.0) * observed / expected_sum
    return np.where((n >= 2) & (expected_sum > 0), alpha, np.nan)


# ------------------------------------------------------------------ kappas, AC1


def _labels(ratings: object, name: str) -> np.ndarray:
    if isinstance(ratings, pd.Series | pd.Index):
        ratings = ratings.to_numpy(dtype=object)
    array = np.asarray(ratings, dtype=object)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of ratings")
    return array


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def cohen_kappa(
    a: Sequence[object] | npt.ArrayLike,
    b: Sequence[object] | npt.ArrayLike,
    weights: Literal["linear", "quadratic"] | None = None,
    *,
    categories: Sequence[object] | None = None,
) -> float:
    """Cohen's kappa for two raters, unweighted or weighted.

    ``a[i]`` and ``b[i]`` are the two raters' ratings of unit i; a unit either rater
    left missing (``None``/``nan``) is dropped. With observed proportions ``p_ij``,
    margins ``p_i.``/``p_.j`` and disagreement weights ``v_ij``::

        kappa_w = 1 - sum(v_ij p_ij) / sum(v_ij p_i. p_.j)

    (Cohen 1968). ``weights=None`` uses ``v_ij = [i != j]`` and is Cohen's (1960)
    kappa; ``"linear"`` uses ``|i - j| / (k - 1)`` (Cicchetti & Allison 1971);
    ``"quadratic"`` uses ``((i - j) / (k - 1))**2`` (Fleiss & Cohen 1973). ``i`` and
    ``j`` are positions in the ordered category list, so a weighted kappa depends on
    the order of the categories, not the size of their codes.

    Args:
        categories: the ordered category list. Defaults to the categories either rater
            used, sorted. Give the full scale when the labels are text, or when a
            category inside the scale went unused (weighted kappa's spacing depends on
            it; an unused end category only rescales the weights and changes nothing).

    Returns ``nan`` when no unit has both ratings or chance agreement is total (both
    raters used a single, common category).

    Raises:
        ValueError: the sequences differ in length, ``weights`` is unknown, a rating is
            outside ``categories``, or text labels are weighted without ``categories``.
    """
    if weights not in (None, "linear", "quadratic"):
        raise ValueError(f"weights must be None, 'linear' or 'quadratic'; got {weights!r}")
    first, second = _labels(a, "a"), _labels(b, "b")
    if first.size != second.size:
        raise ValueError(
            f"the two raters must rate the same units: {first.size} ratings against {second.size}"
        )
    keep = ~(pd.isna(first) | pd.isna(second))
    first, second = first[keep], second[keep]
    if categories is None:
        used = set(first.tolist()) | set(second.tolist())
        if weights is not None and not all(_is_number(value) for value in used):
            raise ValueError(
                "weighted kappa needs the ordered categories when ratings are not numbers; "
                "pass categories=[...] in scale order"
            )
        try:
            order = sorted(used)
        except TypeError as err:
            raise ValueError(
                "ratings mix kinds that cannot be ordered; pass categories=[...]"
            ) from err
    else:
        order = list(categories)
        if len(set(order)) != len(order):
            raise ValueError("categories must not repeat")
    if first.size == 0:
        return _NAN
    position = {category: i for i, category in enumerate(order)}
    unknown = {value for value in np.concatenate([first, second]) if value not in position}
    if unknown:
        raise ValueError(f"ratings outside the categories: {sorted(map(repr, unknown))}")
    k = len(order)
    if k < 2:
        return _NAN
    table = np.zeros((k, k))
    np.add.at(
        table, ([position[value] for value in first], [position[value] for value in second]), 1
    )
    return kappa_from_table(table, weights)


def kappa_from_table(
    table: npt.ArrayLike, weights: Literal["linear", "quadratic"] | None = None
) -> float:
    """Cohen's kappa from the two raters' k x k table of counts (rows the first
    rater's category, columns the second's, in scale order): the arithmetic of
    :func:`cohen_kappa`, which calls it, for callers that count many pairs at once.
    ``nan`` when the table is empty or chance agreement is total."""
    table = np.asarray(table, dtype=float)
    k = table.shape[0]
    if table.ndim != 2 or table.shape != (k, k) or k < 2 or table.sum() == 0:
        return _NAN
    p = table / table.sum()
    expected = np.outer(p.sum(axis=1), p.sum(axis=0))
    i, j = np.indices((k, k))
    if weights is None:
        disagreement = (i != j).astype(float)
    elif weights == "linear":
        disagreement = np.abs(i - j) / (k - 1)
    else:
        disagreement = ((i - j) / (k - 1)) ** 2
    denominator = float((disagreement * expected).sum())
    if denominator <= 0:
        return _NAN
    return float(1.0 - (disagreement * p).sum() / denominator)


def fleiss_kappa(counts: npt.ArrayLike | pd.DataFrame) -> float:
    """Fleiss' kappa for many raters (Fleiss 1971).

    ``counts`` is subjects x categories, each cell the number of raters who put the
    subject in that category; every subject must have the same number of raters (2 or
    more), as Fleiss (1971) assumes. Computed by ``statsmodels.stats.inter_rater.
    fleiss_kappa(method="fleiss")``: ``kappa = (P_bar - P_e) / (1 - P_e)`` with
    ``P_e = sum_j p_j**2``.

    Returns ``nan`` when every rating falls in one category (``P_e = 1``).

    Raises:
        ValueError: the table is not 2-D, has negative or fractional counts, or its
            subjects have different numbers of raters (use Krippendorff's alpha or
            Gwet's AC1 for missing ratings).
    """
    if isinstance(counts, pd.DataFrame):
        counts = counts.to_numpy()
    try:
        table = np.array(counts, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"counts must be numbers ({err})") from err
    if table.ndim != 2 or table.shape[0] == 0 or table.shape[1] == 0:
        raise ValueError("counts must be a non-empty 2-D table: subjects x categories")
    if not np.isfinite(table).all() or (table < 0).any() or (table != np.round(table)).any():
        raise ValueError("counts must be whole, non-negative numbers of raters")
    raters = table.sum(axis=1)
    if (raters != raters[0]).any():
        raise ValueError(
            "Fleiss' kappa needs the same number of raters for every subject; found "
            f"{sorted(set(raters.astype(int).tolist()))}. Use krippendorff_alpha or "
            "gwet_ac1 when ratings are missing"
        )
    if raters[0] < 2:
        raise ValueError("Fleiss' kappa needs at least 2 raters per subject")
    share = table.sum(axis=0) / table.sum()
    if float((share**2).sum()) >= 1.0:
        return _NAN
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

    return float(sm_fleiss_kappa(table, method="fleiss"))


def _ac1_categories(data: np.ndarray, categories: Sequence[float] | None) -> np.ndarray:
    observed = np.unique(data[~np.isnan(data)])
    if categories is None:
        return observed
    cats = np.array(categories, dtype=float)
    if cats.ndim != 1 or np.isnan(cats).any() or np.unique(cats).size != cats.size:
        raise ValueError("categories must be distinct numbers")
    outside = observed[~np.isin(observed, cats)]
    if outside.size:
        raise ValueError(f"ratings outside the categories: {outside.tolist()}")
    return cats


def _ac1_unit_terms(
    data: np.ndarray, cats: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-unit terms of Gwet's AC1 (Gwet 2014, ch. 2; irrCAC ``gwet.ac1.raw``).

    For unit i with ``r_i`` ratings, ``r_ik`` of them in category k:
    agreement ``sum_k r_ik (r_ik - 1) / (r_i (r_i - 1))`` and indicator ``r_i >= 2``;
    classification shares ``r_ik / r_i`` and indicator ``r_i >= 1``.
    """
    r_ik = (data.T[:, :, np.newaxis] == cats[np.newaxis, np.newaxis, :]).sum(axis=1)
    r_ik = r_ik.astype(float)
    r_i = r_ik.sum(axis=1)
    pairs = r_i * (r_i - 1.0)
    agreement = np.divide(
        (r_ik * (r_ik - 1.0)).sum(axis=1), pairs, out=np.zeros_like(r_i), where=r_i >= 2
    )
    shares = np.divide(
        r_ik, r_i[:, np.newaxis], out=np.zeros_like(r_ik), where=r_i[:, np.newaxis] >= 1
    )
    return agreement, (r_i >= 2).astype(float), shares, (r_i >= 1).astype(float)


def _ac1_from_weights(
    weights: np.ndarray,
    agreement: np.ndarray,
    paired: np.ndarray,
    shares: np.ndarray,
    rated: np.ndarray,
) -> np.ndarray:
    """AC1 for each row of unit weights (B, units), vectorised.

    Gwet (2014, ch. 2): ``p_a`` averages unit agreement over units rated by 2 or more
    raters; ``pi_k`` averages ``r_ik / r_i`` over units rated by 1 or more;
    ``p_e = sum_k pi_k (1 - pi_k) / (q - 1)``; ``AC1 = (p_a - p_e) / (1 - p_e)``.
    """
    q = shares.shape[1]
    n_paired = weights @ paired
    n_rated = weights @ rated
    with np.errstate(divide="ignore", invalid="ignore"):
        p_a = (weights @ agreement) / n_paired
        pi = (weights @ shares) / n_rated[:, np.newaxis]
        p_e = (pi * (1.0 - pi)).sum(axis=1) / (q - 1) if q >= 2 else np.full(len(weights), np.nan)
        ac1 = (p_a - p_e) / (1.0 - p_e)
    return np.where(n_paired > 0, ac1, np.nan)


def gwet_ac1(
    reliability_data: npt.ArrayLike | pd.DataFrame,
    *,
    categories: Sequence[float] | None = None,
) -> float:
    """Gwet's AC1 for raters x units data with missing ratings (nominal categories).

    Gwet (2008); for several raters and missing ratings, Gwet (2014, ch. 2) as
    implemented in irrCAC's ``gwet.ac1.raw``: only units rated by 2 or more raters
    enter the observed agreement ``p_a``; chance agreement
    ``p_e = sum_k pi_k (1 - pi_k) / (q - 1)`` uses ``pi_k``, the share of unit i's
    ratings in category k averaged over units rated at least once; ``q`` is the number
    of categories. ``AC1 = (p_a - p_e) / (1 - p_e)``.

    Args:
        categories: every category raters could use. Defaults to those used (as irrCAC
            does); pass the full scale when some category went unused, since ``q``
            enters ``p_e``.

    Returns ``nan`` when no unit was rated by 2 or more raters, or fewer than 2
    categories are known (the chance term divides by ``q - 1``).

    Raises:
        ValueError: the data are not a numeric 2-D matrix, or a rating is outside
            ``categories``.
    """
    data = _rated_units(_reliability_matrix(reliability_data))
    cats = _ac1_categories(data, categories)
    if data.shape[1] == 0 or cats.size < 2:
        return _NAN
    terms = _ac1_unit_terms(data, cats)
    return float(_ac1_from_weights(np.ones((1, data.shape[1])), *terms)[0])


# ------------------------------------------------------------------- bootstrap


def _resample_indices(n_units: int, n_boot: int, seed: int | None) -> np.ndarray:
    """Bootstrap draws of units (or clusters) with replacement, shape (n_boot, n_units)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_units, size=(n_boot, n_units))


def _index_weights(indices: np.ndarray, n_units: int) -> np.ndarray:
    """How often each unit appears in each draw (multinomial weights), (n_boot, n_units)."""
    n_boot = indices.shape[0]
    flat = (indices + n_units * np.arange(n_boot)[:, np.newaxis]).ravel()
    return np.bincount(flat, minlength=n_boot * n_units).reshape(n_boot, n_units).astype(float)


def _percentile_interval(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    """Percentile interval (Efron & Tibshirani 1993, ch. 13) of the defined replicates.

    Resamples on which the statistic is undefined (``nan``, e.g. a draw with no
    variation) are left out; if none is defined the interval is ``(nan, nan)``.
    """
    defined = replicates[np.isfinite(replicates)]
    if defined.size == 0:
        return (_NAN, _NAN)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(defined, [tail, 1.0 - tail])
    return (float(low), float(high))


def bootstrap_interval(
    reliability_data: npt.ArrayLike | pd.DataFrame,
    statistic: Callable[[np.ndarray], float],
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
    *,
    clusters: ClusterLabels | None = None,
) -> tuple[float, float]:
    """Case-resampling bootstrap percentile interval for any agreement statistic.

    Units (columns) are drawn with replacement, ``n_boot`` times, and ``statistic`` is
    evaluated on each raters x units resample (a float matrix, ``nan`` for missing);
    the interval is the percentile interval of the defined replicates (Efron &
    Tibshirani 1993, ch. 13). Units nobody rated are dropped before resampling. The
    draws depend only on ``seed`` and the number of rated units (or clusters), so the
    same seed gives the same interval, and the same draws as
    :func:`krippendorff_alpha_bootstrap` and :func:`gwet_ac1_bootstrap` (which compute
    the same thing vectorised, much faster).

    Args:
        clusters: one label per unit (column), e.g. the case of each (case, standard)
            unit. Then whole clusters are drawn with replacement, as many as there are
            clusters, and a drawn cluster brings all its units, so units that are not
            independent stay together: the cluster (two-stage, top-level) bootstrap of
            Davison & Hinkley (1997, section 3.8), consistent for clustered data
            (Field & Welsh 2007). Clusters are numbered in order of first appearance
            among the rated units. Without it each unit is its own cluster, which
            gives exactly the unclustered draws.

    Returns ``(nan, nan)`` when the statistic is ``nan`` on the full data.

    Raises:
        ValueError: bad data or clusters, ``n_boot`` < 1, or ``confidence`` outside
            (0, 1).
    """
    level = _check_confidence(confidence)
    draws = _check_n_boot(n_boot)
    data, codes = _rated_clustered_units(reliability_data, clusters)
    estimate = float(statistic(data))
    if math.isnan(estimate) or data.shape[1] == 0:
        return (_NAN, _NAN)
    n_clusters = _n_clusters(codes)
    indices = _resample_indices(n_clusters, draws, seed)
    if clusters is not None:
        members = [np.flatnonzero(codes == c) for c in range(n_clusters)]
        indices = [np.concatenate([members[c] for c in idx]) for idx in indices]
    replicates = np.array([float(statistic(data[:, idx])) for idx in indices])
    return _percentile_interval(replicates, level)


def _alpha_replicates(
    data: np.ndarray, level: str, indices: np.ndarray, codes: np.ndarray | None = None
) -> np.ndarray:
    """Alpha on each resample given by ``indices``, without a Python loop.

    ``indices`` draw units, or with ``codes`` (each unit's cluster, 0..C-1) clusters:
    each cluster's coincidence contributions are summed once, and a draw weights the
    clusters by how often it drew them.
    """
    values = np.unique(data[~np.isnan(data)])
    contributions = _unit_coincidences(data, values)
    if codes is not None:
        contributions = _sum_by_cluster(contributions, codes)
    weights = _index_weights(indices, contributions.shape[0])
    o = np.einsum("bu,uij->bij", weights, contributions)
    return _alpha_from_coincidences(o, values, level)


def krippendorff_alpha_bootstrap(
    reliability_data: npt.ArrayLike | pd.DataFrame,
    level: AlphaLevel = "ordinal",
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
    *,
    clusters: ClusterLabels | None = None,
) -> tuple[float, float, float]:
    """Krippendorff's alpha with a case-resampling bootstrap percentile interval.

    Returns ``(alpha, low, high)``. The coincidence matrix is a sum of per-unit
    contributions (Krippendorff 2011), so a resample of units is those contributions
    weighted by how often each unit was drawn; every draw's alpha is computed at once
    from its matrix. The result equals :func:`bootstrap_interval` with
    :func:`krippendorff_alpha` and the same seed (and clusters), in milliseconds rather
    than seconds. Draws on which alpha is undefined are left out of the percentiles.

    Note this resamples units, not pairable values as in Krippendorff's own bootstrap
    (Hayes & Krippendorff 2007), so units stay intact with their raters.

    Args:
        clusters: one label per unit (column), e.g. the case of each (case, standard)
            unit: whole clusters are drawn with replacement, each bringing all its
            units (the cluster bootstrap of Davison & Hinkley 1997, section 3.8; Field
            & Welsh 2007), as :func:`bootstrap_interval` describes. The per-unit
            contributions are summed per cluster and the draws weight clusters, so it
            stays vectorised. Without it each unit is its own cluster.

    Returns ``(nan, nan, nan)`` when alpha is not estimable on the full data.

    Raises:
        ValueError: bad data, level or clusters, ``n_boot`` < 1, or ``confidence``
            outside (0, 1).
    """
    _check_level(level)
    ci_level = _check_confidence(confidence)
    draws = _check_n_boot(n_boot)
    data, codes = _rated_clustered_units(reliability_data, clusters)
    alpha = krippendorff_alpha(data, level)
    if math.isnan(alpha):
        return (_NAN, _NAN, _NAN)
    indices = _resample_indices(_n_clusters(codes), draws, seed)
    replicates = _alpha_replicates(data, level, indices, codes)
    low, high = _percentile_interval(replicates, ci_level)
    return (alpha, low, high)


def _ac1_replicates(
    data: np.ndarray, cats: np.ndarray, indices: np.ndarray, codes: np.ndarray | None = None
) -> np.ndarray:
    """AC1 on each resample given by ``indices``, without a Python loop; with ``codes``
    the per-unit terms are summed per cluster and ``indices`` draw clusters."""
    terms = _ac1_unit_terms(data, cats)
    if codes is not None:
        terms = tuple(_sum_by_cluster(term, codes) for term in terms)
    return _ac1_from_weights(_index_weights(indices, terms[0].shape[0]), *terms)


def gwet_ac1_bootstrap(
    reliability_data: npt.ArrayLike | pd.DataFrame,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
    *,
    categories: Sequence[float] | None = None,
    clusters: ClusterLabels | None = None,
) -> tuple[float, float, float]:
    """Gwet's AC1 with a case-resampling bootstrap percentile interval.

    Returns ``(ac1, low, high)``. AC1's parts are sums over units (Gwet 2014, ch. 2),
    so each resample is computed at once from per-unit terms weighted by how often
    each unit was drawn. The category set (hence ``q``) is fixed from the full data,
    or from ``categories``, for every draw; it equals :func:`bootstrap_interval` with
    ``lambda d: gwet_ac1(d, categories=...)`` given that same category set (and the
    same seed and clusters).

    Args:
        clusters: one label per unit (column), e.g. the case of each (case, standard)
            unit: whole clusters are drawn with replacement, each bringing all its
            units (the cluster bootstrap of Davison & Hinkley 1997, section 3.8; Field
            & Welsh 2007), as :func:`bootstrap_interval` describes. The per-unit terms
            are summed per cluster and the draws weight clusters. Without it each unit
            is its own cluster.

    Returns ``(nan, nan, nan)`` when AC1 is not estimable on the full data.

    Raises:
        ValueError: bad data, categories or clusters, ``n_boot`` < 1, or
            ``confidence`` outside (0, 1).
    """
    ci_level = _check_confidence(confidence)
    draws = _check_n_boot(n_boot)
    data, codes = _rated_clustered_units(reliability_data, clusters)
    cats = _ac1_categories(data, categories)
    ac1 = gwet_ac1(data, categories=cats.tolist())
    if math.isnan(ac1):
        return (_NAN, _NAN, _NAN)
    indices = _resample_indices(_n_clusters(codes), draws, seed)
    low, high = _percentile_interval(_ac1_replicates(data, cats, indices, codes), ci_level)
    return (ac1, low, high)
