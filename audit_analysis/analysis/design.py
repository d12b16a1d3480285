"""Shares weighted to the draw: figures that know how the cases were chosen.

``audit-analysis select-cases`` draws the same number of cases from each priority
theme (a stratified random sample), whatever the theme's size: 8 of 40 eligible
children in one theme and 8 of 300 in another. An unweighted share (``met_or_better
/ n`` over every rating) then describes the cases audited, with each theme given the
same say; weighted, it estimates the share among all the eligible children the cases
were drawn from (docs/selecting-cases.md).

The method
----------
Each case ``i`` of theme ``h`` carries the design weight ``w_h = N_h / m_h``: ``N_h``
the theme's eligible children (the selection record's ``eligible``), ``m_h`` the
theme's cases with a rating on the scale. The weighted share is the ratio estimator ::

    p = sum_i w_i y_i / sum_i w_i n_i

(``y_i`` ratings rated good out of ``n_i`` on the scale for case ``i``). Its
variance is the linearised (Taylor series) variance of a ratio under stratified
sampling of cases without replacement (Cochran 1977, sections 5A.2 and 6.11; Lohr
2022, section 9.1)::

    z_i = w_i (y_i - p n_i) / sum_i w_i n_i
    V   = sum_h (1 - m_h / N_h) * m_h / (m_h - 1) * sum_{i in h} (z_i - mean_h z) ** 2

(the finite population correction ``1 - m_h / N_h`` is left out with ``fpc=False``).
A theme with a single case has no within-theme variance to estimate: its case is
centred on the mean over all cases instead (R survey's ``lonely.psu = "adjust"``).
The interval is Korn and Graubard's, as for every other share
(:mod:`audit_analysis.analysis.inference`): Wilson's on the effective sample size
``p (1 - p) / V`` (at most ``n``) with Student's t on ``cases - themes`` degrees of
freedom; not estimable with fewer than :data:`~audit_analysis.analysis.inference.MIN_CASES`
cases.

What the interval covers: which children of each theme happened to be drawn. Like
every interval of the suite it does not cover the auditors.

References
----------
Cochran WG (1977). Sampling Techniques, 3rd ed. Wiley.
Lohr SL (2022). Sampling: Design and Analysis, 3rd ed. CRC Press.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from audit_analysis.analysis.inference import MIN_CASES, share_limits
from audit_analysis.io.frameworks import Framework
from audit_analysis.io.ratings import scale_of

__all__ = [
    "DEFAULT_WEIGHTING",
    "WEIGHTINGS",
    "design_weights",
    "kloe_shares",
    "overall_share",
    "weighted_shares",
]

WEIGHTINGS = ("design", "cases")
DEFAULT_WEIGHTING = "design"
"""Where a selection record gives each theme's eligible children, shares are weighted
to them by default (``weighting="design"``); ``weighting="cases"`` gives the plain
shares of the cases audited. Without a record there is nothing to weight to and the
shares are the cases' own."""

SHARE_COLUMNS = ("n", "met_or_better", "cases", "share", "se", "low", "high", "weighting")


def _per_case(ratings: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per group and case: ``y`` met or better and ``n`` on the scale."""
    scale = scale_of(ratings["rating"])
    rating = ratings["rating"].astype("object")
    rated = rating.isin(list(scale.levels))
    frame = ratings.loc[rated, [*keys, "case_ref"]].copy()
    frame["y"] = rating[rated].isin(list(scale.good)).astype("float64")
    frame["n"] = 1.0
    return (
        frame.groupby([*keys, "case_ref"], sort=True, observed=True)[["y", "n"]].sum().reset_index()
    )


def design_weights(
    ratings: pd.DataFrame, cases: pd.DataFrame, population: Mapping[str, int]
) -> pd.DataFrame:
    """Per case with a rating on the scale: ``case_ref``, ``priority``, ``weight``
    (``N_h / m_h``) and ``eligible`` (``N_h``). Raises ValueError when a rated case has
    no priority theme, or a theme with cases has no eligible count or fewer eligible
    children than cases."""
    per = _per_case(ratings, [])
    priority = cases.set_index("case_ref")["priority"]
    out = pd.DataFrame({"case_ref": per["case_ref"]})
    out["priority"] = out["case_ref"].map(priority).astype("object")
    missing = out["priority"].isna()
    if missing.any():
        raise ValueError(
            f"{int(missing.sum())} rated case(s) have no priority theme: the shares cannot "
            "be weighted to the draw"
        )
    m = out.groupby("priority")["case_ref"].transform("size")
    eligible = out["priority"].map(lambda p: population.get(p, 0)).astype("float64")
    short = eligible < m
    if short.any():
        themes = ", ".join(sorted(set(out.loc[short, "priority"])))
        raise ValueError(
            f"the selection record gives fewer eligible children than cases audited for {themes}"
        )
    out["eligible"] = eligible
    out["weight"] = eligible / m
    return out.reset_index(drop=True)


def _weighted_rows(per: pd.DataFrame, fpc: bool) -> dict[str, float]:
    """One group's weighted share and variance from its per-case table (module
    docstring)."""
    w, y, n = per["weight"].to_numpy(), per["y"].to_numpy(), per["n"].to_numpy()
    total = float(np.sum(w * n))
    count = float(n.sum())
    met = float(y.sum())
    cases = len(per)
    if total == 0:
        return {
            "n": count,
            "met_or_better": met,
            "cases": cases,
            "share": np.nan,
            "var": np.nan,
            "df": np.nan,
        }
    p = float(np.sum(w * y) / total)
    z = w * (y - p * n) / total
    stratum = per["priority"].to_numpy()
    variance = 0.0
    overall = float(z.mean())
    themes = pd.unique(stratum)
    for h in themes:
        zh = z[stratum == h]
        m = len(zh)
        big_n = float(per.loc[stratum == h, "eligible"].iloc[0])
        factor = 1 - m / big_n if fpc else 1.0
        if m > 1:
            variance += factor * m / (m - 1) * float(np.sum((zh - zh.mean()) ** 2))
        else:
            variance += factor * float(np.sum((zh - overall) ** 2))
    return {
        "n": count,
        "met_or_better": met,
        "cases": cases,
        "share": p,
        "var": variance,
        "df": float(cases - len(themes)),
    }


def weighted_shares(
    ratings: pd.DataFrame,
    cases: pd.DataFrame,
    population: Mapping[str, int],
    by: list[str] | None = None,
    *,
    fpc: bool = True,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The share met or better, weighted to the draw, per group of ``by`` (overall when
    None): the ``by`` columns, ``n``, ``met_or_better`` (unweighted counts),
    ``cases``, ``share``, ``se``, ``low``, ``high``, ``weighting`` (``design``)."""
    by = list(by or [])
    weights = design_weights(ratings, cases, population).set_index("case_ref")
    per = _per_case(ratings, by)
    per = per.join(weights[["priority", "weight", "eligible"]], on="case_ref")
    rows = []
    groups = per.groupby(by, sort=True, observed=True) if by else [((), per)]
    for key, part in groups:
        row = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        row.update(_weighted_rows(part, fpc))
        rows.append(row)
    table = pd.DataFrame(rows, columns=[*by, "n", "met_or_better", "cases", "share", "var", "df"])
    p, v, c = (
        table["share"].to_numpy(float),
        table["var"].to_numpy(float),
        table["cases"].to_numpy(float),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(
            (p == 0) | (p == 1) | ~(v > 0), table["n"], np.minimum(p * (1 - p) / v, table["n"])
        )
    estimable = (c >= MIN_CASES) & np.isfinite(n_eff) & (table["n"].to_numpy(float) > 0)
    df = np.where(estimable, table["df"].to_numpy(float), np.nan)
    low, high = share_limits(p, np.where(estimable, n_eff, np.nan), df, confidence)
    table["se"] = np.sqrt(v)
    table["low"], table["high"] = low, high
    table["n"] = table["n"].astype("int64")
    table["met_or_better"] = table["met_or_better"].astype("int64")
    table["cases"] = table["cases"].astype("int64")
    table["weighting"] = "design"
    return table[[*by, *SHARE_COLUMNS]]


def _plain(ratings: pd.DataFrame, by: list[str], confidence: float) -> pd.DataFrame:
    """The cases' own shares in the same columns (``weighting`` ``cases``): every case
    weighs the same, the interval by case as everywhere else."""
    from audit_analysis.analysis.inference import case_sums, effective_sizes

    scale = scale_of(ratings["rating"])
    rating = ratings["rating"].astype("object")
    group = (
        ratings.groupby(by, sort=True, observed=True).ngroup().to_numpy()
        if by
        else np.zeros(len(ratings), dtype=np.int64)
    )
    sums = case_sums(
        group,
        pd.factorize(ratings["case_ref"])[0],
        rating.isin(list(scale.good)).to_numpy(),
        rating.isin(list(scale.levels)).to_numpy(),
    )
    p, n_eff, df = effective_sizes(sums["Y"], sums["N"], sums["case_ss"], sums["cases"])
    low, high = share_limits(p, n_eff, df, confidence)
    keys = (
        ratings[by].drop_duplicates().sort_values(by).reset_index(drop=True)
        if by
        else pd.DataFrame(index=[0])
    )
    c = sums["cases"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(c / (c - 1) * sums["case_ss"]) / sums["N"]
    table = keys.assign(
        n=sums["N"].astype("int64"),
        met_or_better=sums["Y"].astype("int64"),
        cases=sums["cases"],
        share=p,
        se=se,
        low=low,
        high=high,
        weighting="cases",
    )
    return table[[*by, *SHARE_COLUMNS]]


def _check(weighting: str) -> None:
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {', '.join(WEIGHTINGS)}; got {weighting!r}")


def overall_share(
    ratings: pd.DataFrame,
    cases: pd.DataFrame,
    population: Mapping[str, int] | None = None,
    *,
    weighting: str = DEFAULT_WEIGHTING,
    fpc: bool = True,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The overall share met or better, one row: weighted to ``population`` (the
    selection record's eligible children per theme) with ``weighting="design"`` (the
    default), the cases' own with ``weighting="cases"`` or when ``population`` is None.
    The ``weighting`` column says which it is."""
    _check(weighting)
    if weighting == "design" and population:
        return weighted_shares(ratings, cases, population, fpc=fpc, confidence=confidence)
    return _plain(ratings, [], confidence)


def kloe_shares(
    ratings: pd.DataFrame,
    framework: Framework,
    cases: pd.DataFrame,
    population: Mapping[str, int] | None = None,
    *,
    weighting: str = DEFAULT_WEIGHTING,
    fpc: bool = True,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """As :func:`overall_share`, one row per KLOE of ``framework`` that has ratings
    (``kloe``, ``kloe_title`` first); ratings are matched to KLOEs by standard key."""
    _check(weighting)
    kloe_of = {s.key: s.kloe_key for s in framework.standards}
    keyed = ratings.assign(kloe_key=ratings["standard_key"].map(kloe_of))
    keyed = keyed[keyed["kloe_key"].notna()]
    if weighting == "design" and population:
        table = weighted_shares(
            keyed, cases, population, ["kloe_key"], fpc=fpc, confidence=confidence
        )
    else:
        table = _plain(keyed, ["kloe_key"], confidence)
    kloes = pd.DataFrame(
        [{"kloe": k.number, "kloe_key": k.key, "kloe_title": k.title} for k in framework.kloes]
    )
    out = kloes.merge(table, on="kloe_key", how="inner").sort_values("kloe")
    return out.reset_index(drop=True)
