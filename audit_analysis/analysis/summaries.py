"""Findings by standard and by KLOE: how often each was met, with Wilson intervals.

Every function takes the tidy ``ratings`` table of :func:`audit_analysis.load_cycle`
(and the cycle's :class:`~audit_analysis.io.frameworks.Framework`) and gives back a tidy
table, one row per thing, sorted so that the same inputs give the same CSV, byte for
byte.

Counting rules (docs/data-contract.md, "Ratings"):

* ``not_recorded`` and ``not_applicable`` are counted and shown, but stand in no
  denominator: ``n`` is the number of ratings on the scale (unmet, partially met, met,
  exceeded).
* "Met or better" is met or exceeded; ``share = met_or_better / n`` with a 95% interval
  (``low``, ``high``) that treats the case, not the rating, as the sampling unit
  (:mod:`audit_analysis.analysis.inference`: Korn and Graubard's effective-sample-size Wilson
  interval with the case-level variance of the share and Student's t on ``cases - 1``
  degrees of freedom); ``nan`` when ``n`` is 0 or fewer than
  :data:`~audit_analysis.analysis.inference.MIN_CASES` cases are behind it (not estimable).
* ``cases`` is the number of distinct cases behind ``n`` (cases with at least one
  rating on the scale): what disclosure control counts, and the clusters the interval
  rests on.

Ratings are matched to the framework by ``standard_key``, never by number.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from audit_analysis.analysis.inference import (
    bh_adjust,
    case_sums,
    effective_sizes,
    share_limits,
    within_difference,
)
from audit_analysis.analysis.stats import wilson_intervals
from audit_analysis.io.frameworks import Framework
from audit_analysis.io.labels import current as current_labels
from audit_analysis.io.ratings import BUILTIN, NOT_APPLICABLE, NOT_RECORDED, Scale, scale_of

__all__ = [
    "AGE_BANDS",
    "COUNT_COLUMNS",
    "STAT_COLUMNS",
    "add_shares",
    "age_band",
    "compare_to_overall",
    "count_columns",
    "extremes",
    "kloe_summary",
    "overall_summary",
    "standard_summary",
    "stat_columns",
    "tally",
    "with_case_characteristics",
]


def count_columns(scale: Scale = BUILTIN) -> tuple[str, ...]:
    """Counts of each rating category of ``scale``, best first, then the two outside it."""
    return (*scale.best_first, NOT_APPLICABLE, NOT_RECORDED)


def stat_columns(scale: Scale = BUILTIN) -> tuple[str, ...]:
    """Every column a summary computes from ratings on ``scale``. ``met_or_better`` counts
    the ratings the scale calls good (``good:`` in its ratings.yaml), whatever its words."""
    return (*count_columns(scale), "n", "met_or_better", "share", "low", "high", "cases")


COUNT_COLUMNS: tuple[str, ...] = count_columns(BUILTIN)
"""Counts of each rating category of the built-in scale, best first, then the two outside."""

STAT_COLUMNS: tuple[str, ...] = stat_columns(BUILTIN)
"""Every column a summary computes from the ratings (what disclosure control hides)."""

AGE_BANDS: tuple[str, ...] = ("0-4", "5-10", "11-15", "16-17", "18+")

STANDARD_COLUMNS = ("kloe", "kloe_key", "kloe_title", "standard", "standard_key", "text")
KLOE_COLUMNS = ("kloe", "kloe_key", "kloe_title", "standards")


# --------------------------------------------------------------------------- helpers


def _as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def _levels(values: pd.Series) -> list:
    """The values a ``by`` column takes, in a fixed order: a categorical's categories
    (all of them, used or not), else the sorted values; missing last, if any."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        levels = list(values.cat.categories)
    else:
        levels = sorted(values.dropna().unique().tolist())
    if values.isna().any():
        levels.append(np.nan)
    return levels


def _check_ratings(ratings: pd.DataFrame, needed: Sequence[str]) -> None:
    missing = [c for c in needed if c not in ratings.columns]
    if missing:
        raise ValueError(f"ratings lack the column(s) {', '.join(missing)}")


def _rating_text(ratings: pd.DataFrame, scale: Scale) -> pd.Series:
    """The rating as plain text (whatever dtype it came in), checked against the
    categories."""
    text = ratings["rating"].astype("object")
    unknown = set(text.dropna().unique()) - set(scale.categories)
    if unknown or text.isna().any():
        shown = ", ".join(sorted(map(str, unknown))) or "missing"
        raise ValueError(f"ratings hold values outside the rating categories: {shown}")
    return text


class _Positions:
    """Each rating's position in its scale's categories (``Scale.categories``), checked
    as :func:`_rating_text` checks it, with the positions of the scale's levels
    (``on_scale``) and of its good levels. From an (ordered) categorical's codes, so a
    national table's millions of ratings are never turned back into text."""

    def __init__(self, ratings: pd.DataFrame) -> None:
        rating = ratings["rating"]
        scale = self.scale = scale_of(rating)
        self.index = {category: i for i, category in enumerate(scale.categories)}
        self.levels = [self.index[c] for c in scale.levels]
        self.good = [self.index[c] for c in scale.good]
        self.position = self._positions(ratings, rating)

    def _positions(self, ratings: pd.DataFrame, rating: pd.Series) -> np.ndarray:
        index = self.index
        if isinstance(rating.dtype, pd.CategoricalDtype):
            categories = [str(c) for c in rating.cat.categories]
            codes = rating.cat.codes.to_numpy()
            if set(categories) <= set(index) and (codes >= 0).all():
                lookup = np.array([index[c] for c in categories] or [0], dtype=np.int8)
                return lookup[codes]
        text = _rating_text(ratings, self.scale)
        return text.map(index).to_numpy(dtype=np.int8)

    def on_scale(self) -> np.ndarray:
        return np.isin(self.position, self.levels)

    def success(self) -> np.ndarray:
        return np.isin(self.position, self.good)


def tally(ratings: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Counts per group of ``keys``: each category of :data:`COUNT_COLUMNS`, ``n``
    (on the scale), ``met_or_better``, ``cases`` (distinct cases on the scale) and
    ``case_ss``, the sum over those cases of ``(y_i - share * n_i) ** 2`` that the
    case-level interval of :func:`add_shares` needs (:mod:`audit_analysis.analysis.inference`).

    One row per group present in ``ratings`` (missing key values form their own
    group); groups absent from ``ratings`` are absent here. No shares: see
    :func:`add_shares`.
    """
    keys = list(keys)
    _check_ratings(ratings, [*keys, "case_ref", "rating"])
    frame = ratings[keys].copy()
    found = _Positions(ratings)
    position, scale = found.position, found.scale
    columns = list(count_columns(scale))
    for category in columns:
        frame[category] = (position == found.index[category]).astype("int64")
    grouped = frame.groupby(keys, dropna=False, observed=True, sort=False)
    counts = grouped[columns].sum()
    group = grouped.ngroup().to_numpy()
    case = pd.factorize(ratings["case_ref"])[0]  # missing -> -1
    on_scale = found.on_scale()
    success = found.success()
    sums = case_sums(group, case, success, on_scale)
    size = len(counts)
    counts["cases"] = sums["cases"][:size] if len(sums["cases"]) else np.zeros(size, "int64")
    counts["case_ss"] = sums["case_ss"][:size] if len(sums["case_ss"]) else np.zeros(size)
    counts = counts.reset_index()
    counts["n"] = counts[list(scale.levels)].sum(axis=1)
    counts["met_or_better"] = counts[list(scale.good)].sum(axis=1)
    return counts


def add_shares(table: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Add ``share = met_or_better / n`` and its 95% interval ``low``, ``high``.

    With the ``cases`` and ``case_ss`` columns of :func:`tally`, the interval is by case
    (:func:`audit_analysis.analysis.inference.share_limits`): ``nan`` where ``n`` is 0 or fewer
    than :data:`~audit_analysis.analysis.inference.MIN_CASES` cases are behind the share.
    Without them, each row of ``n`` is taken as its own unit (Wilson's interval), which
    is right only where every rating comes from a different case.
    """
    out = table.copy()
    x = np.trunc(out["met_or_better"].to_numpy(dtype="float64", na_value=np.nan))
    n = np.trunc(out["n"].to_numpy(dtype="float64", na_value=np.nan))
    rated = ~(np.isnan(x) | np.isnan(n)) & (n != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share"] = np.where(rated, x / np.where(rated, n, 1), np.nan)
    if "case_ss" in out.columns and "cases" in out.columns:
        ss = out["case_ss"].to_numpy(dtype="float64", na_value=np.nan)
        cases = out["cases"].to_numpy(dtype="float64", na_value=np.nan)
        p, n_eff, df = effective_sizes(np.where(rated, x, 0), np.where(rated, n, 0), ss, cases)
        low, high = share_limits(p, n_eff, df, confidence)
    else:
        low, high = wilson_intervals(np.where(rated, x, 0), np.where(rated, n, 0), confidence)
    out["low"] = low
    out["high"] = high
    return out


def _grid(base: pd.DataFrame, ratings: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """``base`` (one row per standard or KLOE) crossed with every level of ``by``."""
    grid = base.assign(_order=np.arange(len(base)))
    for column in by:
        levels = _levels(ratings[column])
        values = pd.Series(levels, dtype=ratings[column].dtype, name=column)
        level_frame = pd.DataFrame({column: values, f"_order_{column}": np.arange(len(levels))})
        grid = grid.merge(level_frame, how="cross")
    order = ["_order", *[f"_order_{c}" for c in by]]
    return grid.sort_values(order, kind="stable").drop(columns=order).reset_index(drop=True)


def _fill(
    grid: pd.DataFrame, counts: pd.DataFrame, on: list[str], scale: Scale = BUILTIN
) -> pd.DataFrame:
    """Counts joined to the grid; groups with no ratings get zeros."""
    counted = [*count_columns(scale), "n", "met_or_better", "cases"]
    out = grid.merge(counts[[*on, *counted, "case_ss"]], on=on, how="left", sort=False)
    out[counted] = out[counted].fillna(0).astype("int64")
    out["case_ss"] = out["case_ss"].fillna(0.0)
    out = add_shares(out)
    return out[[*grid.columns, *stat_columns(scale)]]


def _keyed(ratings: pd.DataFrame, framework: Framework) -> pd.DataFrame:
    """``ratings``, checked to hold only standards of ``framework``."""
    _check_ratings(ratings, ["standard_key", "case_ref", "rating"])
    known = {s.key for s in framework.standards}
    unknown = sorted(set(ratings["standard_key"].dropna().unique()) - known)
    if unknown:
        raise ValueError(
            f"ratings hold standards that are not in the {framework.cycle} framework: "
            + ", ".join(unknown)
        )
    return ratings


# --------------------------------------------------------------------------- public


def standard_summary(
    ratings: pd.DataFrame,
    framework: Framework,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per standard of ``framework`` (and per value of the ``by`` columns).

    Columns: ``kloe``, ``kloe_key``, ``kloe_title``, ``standard``, ``standard_key``,
    ``text``, then the ``by`` columns (such as ``agency``, or ``priority`` and
    ``age_band`` from :func:`with_case_characteristics`), then :data:`STAT_COLUMNS`:
    ``exceeded``, ``met``, ``partially_met``, ``unmet``, ``not_applicable``,
    ``not_recorded``, ``n`` (rated on the scale), ``met_or_better``, ``share``,
    ``low``, ``high`` (Wilson 95%) and ``cases`` (distinct cases behind ``n``).

    Every standard appears, and with ``by`` every standard crosses every value of each
    ``by`` column (a categorical column's every category; missing values as their own
    last group), so a standard or group with no ratings shows ``n`` 0 and a ``nan``
    share. Rows follow the framework's numbering, then the ``by`` values in order.

    Raises:
        ValueError: ``ratings`` hold a standard key the framework does not have, a
            rating outside the categories, or lack a needed column.
    """
    by = _as_list(by)
    _check_ratings(ratings, by)
    ratings = _keyed(ratings, framework)
    base = framework.to_frame()[list(STANDARD_COLUMNS)]
    grid = _grid(base, ratings, by)
    counts = tally(ratings, ["standard_key", *by])
    return _fill(grid, counts, ["standard_key", *by], scale_of(ratings))


def kloe_summary(
    ratings: pd.DataFrame,
    framework: Framework,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """As :func:`standard_summary`, one row per KLOE of ``framework``.

    Columns: ``kloe``, ``kloe_key``, ``kloe_title``, ``standards`` (how many standards
    the KLOE holds), the ``by`` columns, then :data:`STAT_COLUMNS`. A rating belongs
    to the KLOE that its ``standard_key`` sits under in ``framework``. ``n`` counts
    ratings (case x standard x agency), ``cases`` distinct cases.
    """
    by = _as_list(by)
    _check_ratings(ratings, by)
    ratings = _keyed(ratings, framework)
    kloe_of = {s.key: s.kloe_key for s in framework.standards}
    keyed = ratings.assign(kloe_key=ratings["standard_key"].map(kloe_of))
    base = pd.DataFrame(
        [
            {
                "kloe": k.number,
                "kloe_key": k.key,
                "kloe_title": k.title,
                "standards": len(k.standards),
            }
            for k in framework.kloes
        ],
        columns=list(KLOE_COLUMNS),
    )
    grid = _grid(base, keyed, by)
    counts = tally(keyed, ["kloe_key", *by])
    return _fill(grid, counts, ["kloe_key", *by], scale_of(ratings))


def age_band(age: pd.Series) -> pd.Series:
    """Ages in whole years to the age bands in use (:func:`audit_analysis.io.labels.current`:
    a data folder's labels.yaml, by default :data:`AGE_BANDS`, ``0-4``, ``5-10``,
    ``11-15``, ``16-17``, ``18+``), an ordered categorical; missing stays missing."""
    labels = current_labels()
    values = pd.to_numeric(pd.Series(age), errors="coerce").astype("float64")
    codes = np.searchsorted(np.array(labels.edges, dtype=float), values.to_numpy(), "right") - 1
    codes = np.where(values.isna().to_numpy() | (values.to_numpy() < 0), -1, codes)
    bands = pd.CategoricalDtype(list(labels.age_bands), ordered=True)
    return pd.Series(
        pd.Categorical.from_codes(codes, dtype=bands),
        index=values.index,
        name="age_band",
    )


def with_case_characteristics(ratings: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """``ratings`` with their case's ``priority`` and ``age_band`` added (at the end).

    Both are ordered categoricals (priority in the order of the themes in use, by default
    ``early_help``, ``neglect``, ``exploitation``; the age bands in use, by default
    :data:`AGE_BANDS`: :func:`audit_analysis.io.labels.current`), so a summary by them lists every
    category in that order. A case missing from ``cases``, or with no priority or age,
    gets a missing value. Row order and index are those of ``ratings``.
    """
    _check_ratings(ratings, ["case_ref"])
    if "case_ref" not in cases.columns:
        raise ValueError("cases lack the column case_ref")
    if cases["case_ref"].duplicated().any():
        raise ValueError("cases hold a case_ref twice")
    lookup = cases.set_index("case_ref")
    out = ratings.copy()
    priority = out["case_ref"].map(
        lookup["priority"] if "priority" in lookup else pd.Series(dtype=object)
    )
    out["priority"] = pd.Categorical(
        priority.astype("object").where(priority.notna()),
        categories=list(current_labels().priorities),
        ordered=True,
    )
    age = out["case_ref"].map(lookup["age"] if "age" in lookup else pd.Series(dtype=float))
    out["age_band"] = age_band(age)
    return out


def overall_summary(ratings: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """A one-row overview: ``ratings`` (rows), each category's count, ``n`` (on the
    scale), ``met_or_better``, ``share``, ``low``, ``high`` (by case, as
    :func:`add_shares`), ``cases`` (distinct cases with any rating), ``agencies``,
    ``standards`` (distinct standard keys rated)."""
    _check_ratings(ratings, ["agency", "case_ref", "standard_key", "rating"])
    found = _Positions(ratings)
    scale, index = found.scale, found.index
    counts = np.bincount(found.position, minlength=len(scale.categories))
    row: dict[str, object] = {"ratings": len(ratings)}
    for category in count_columns(scale):
        row[category] = int(counts[index[category]])
    row["n"] = int(sum(counts[index[c]] for c in scale.levels))
    row["met_or_better"] = int(sum(counts[index[c]] for c in scale.good))
    sums = case_sums(
        np.zeros(len(ratings), dtype=np.int64),
        pd.factorize(ratings["case_ref"])[0],
        found.success(),
        found.on_scale(),
    )
    row["cases"] = int(sums["cases"][0]) if len(ratings) else 0
    row["case_ss"] = float(sums["case_ss"][0]) if len(ratings) else 0.0
    table = add_shares(pd.DataFrame([row]), confidence).drop(columns="case_ss")
    table["cases"] = int(ratings["case_ref"].nunique())
    table["agencies"] = int(ratings["agency"].nunique())
    table["standards"] = int(ratings["standard_key"].nunique())
    return table


# --------------------------------------------------------------- within one cycle


def compare_to_overall(
    ratings: pd.DataFrame, framework: Framework, confidence: float = 0.95
) -> pd.DataFrame:
    """Each standard's share against the cycle's overall share (every standard, every
    agency), with the case as the unit.

    One row per standard of ``framework``: ``standard``, ``standard_key``, ``share``,
    ``overall``, ``diff`` (standard minus overall), ``low``, ``high`` (its 95% interval
    by case, :func:`audit_analysis.analysis.inference.within_difference`), ``p``, ``p_adjusted``
    (Benjamini-Hochberg over the standards) and ``verdict``: ``above`` or ``below``
    where ``p_adjusted`` is under ``1 - confidence``, else ``no clear difference``, or
    ``not estimable`` (fewer than :data:`~audit_analysis.analysis.inference.MIN_CASES` cases).
    """
    _check_ratings(ratings, ["standard_key", "case_ref", "rating"])
    everything = np.ones(len(ratings), dtype=bool)
    keys = ratings["standard_key"].to_numpy()
    rows = []
    for s in framework.standards:
        result = within_difference(ratings, keys == s.key, everything, confidence)
        rows.append(
            {
                "standard": s.number,
                "standard_key": s.key,
                "share": result["share_a"],
                "overall": result["share_b"],
                "diff": result["diff"],
                "low": result["low"],
                "high": result["high"],
                "p": result["p"],
            }
        )
    table = pd.DataFrame(rows)
    table["p_adjusted"] = bh_adjust(table["p"].to_numpy(dtype="float64"))
    alpha = 1.0 - confidence
    table["verdict"] = np.select(
        [
            table["p_adjusted"].isna(),
            (table["p_adjusted"] < alpha) & (table["diff"] > 0),
            (table["p_adjusted"] < alpha) & (table["diff"] < 0),
        ],
        ["not estimable", "above", "below"],
        "no clear difference",
    )
    return table


def extremes(
    ratings: pd.DataFrame,
    column: str,
    levels: Sequence[object] | None = None,
    confidence: float = 0.95,
) -> dict[str, object] | None:
    """The groups of ``column`` with the highest and lowest share rated good, and
    whether the gap between them is clear, with the case as the unit.

    The interval for the gap (highest minus lowest) is
    :func:`audit_analysis.analysis.inference.within_difference` with a Bonferroni adjustment for
    every pair of the ``levels`` (by default every value of ``column`` with a rating on
    the scale), since which two are highest and lowest is only known after looking.

    Returns ``None`` with fewer than two groups; else ``top``, ``bottom``, their
    ``share_top``, ``share_bottom``, ``cases_top``, ``cases_bottom``, ``diff``, ``low``,
    ``high``, ``p`` (adjusted), ``comparisons`` and ``clear`` (True only where the
    adjusted interval excludes zero).
    """
    _check_ratings(ratings, [column, "case_ref", "rating"])
    found = _Positions(ratings)
    on_scale = found.on_scale()
    success = found.success()
    values = ratings[column]
    if levels is None:
        levels = [v for v in pd.unique(values[on_scale]) if pd.notna(v)]
    shares = {}
    for level in levels:
        mask = (values == level).to_numpy(dtype=bool) & on_scale
        if mask.any():
            shares[level] = success[mask].mean()
    if len(shares) < 2:
        return None
    order = sorted(shares, key=lambda k: (-shares[k], str(k)))
    top, bottom = order[0], order[-1]
    comparisons = len(shares) * (len(shares) - 1) // 2
    result = within_difference(
        ratings,
        (values == top).to_numpy(dtype=bool),
        (values == bottom).to_numpy(dtype=bool),
        confidence,
        comparisons=comparisons,
    )
    low, high = result["low"], result["high"]
    return {
        "top": top,
        "bottom": bottom,
        "share_top": result["share_a"],
        "share_bottom": result["share_b"],
        "cases_top": result["cases_a"],
        "cases_bottom": result["cases_b"],
        "diff": result["diff"],
        "low": low,
        "high": high,
        "p": result["p"],
        "comparisons": comparisons,
        "clear": bool(pd.notna(low) and (low > 0 or high < 0)),
    }
