"""Do agencies rate the same case the same way? Agreement between agencies.

The report could not cross-check agencies' ratings (section 2.3.5): one agency would
say standard 13 was met while another said it was not. With every return resolved to
one ``case_ref``, the agencies that audited the same case are raters of the same unit:

* :func:`agreement_by_standard` and :func:`agreement_by_kloe`: Krippendorff's ordinal
  alpha and Gwet's AC1 over the four scale points, with case-resampling bootstrap
  intervals (per KLOE, each drawn case brings all its standards);
* :func:`pairwise_agreement`: each ordered pair of agencies, how often they agreed;
* :func:`disagreement_register`: every case and standard where one agency said met
  (or exceeded) and another unmet, with both sides' evidence, for the QA group only
  (it names cases).

Reliability data are raters x units: rows are agencies; units are cases (per
standard) or (case, standard) pairs (per KLOE). Codes 0..3 stand for unmet,
partially met, met, exceeded; ``not_applicable`` and ``not_recorded`` are missing.
"""

from __future__ import annotations

import math
from collections.abc import Hashable

import numpy as np
import pandas as pd

from audit_analysis.analysis.stats import (
    gwet_ac1,
    gwet_ac1_bootstrap,
    kappa_from_table,
    krippendorff_alpha,
    krippendorff_alpha_bootstrap,
)
from audit_analysis.io.frameworks import Framework
from audit_analysis.io.ratings import BUILTIN, NOT_RECORDED, Scale, scale_of

__all__ = [
    "AGREEMENT_COLUMNS",
    "CODES",
    "agreement_by_kloe",
    "agreement_by_standard",
    "agreement_overall",
    "disagreement_register",
    "pairwise_agreement",
    "pairwise_matrix",
    "reliability_matrix",
]

CODES: dict[str, int] = {category: code for code, category in enumerate(BUILTIN.levels)}
"""Ordinal codes of the built-in scale: unmet 0, partially_met 1, met 2, exceeded 3. A
partnership's own scale codes its levels the same way, worst 0 (:class:`_Coding`)."""


class _Coding:
    """A scale's codes (worst 0), the code of its lowest good level, and the metric its
    agreement is measured on: ordinal over three or more levels, nominal over two."""

    def __init__(self, scale: Scale) -> None:
        self.scale = scale
        self.codes = {category: code for code, category in enumerate(scale.levels)}
        self.categories = [float(c) for c in self.codes.values()]
        self.met = min(self.codes[c] for c in scale.good)
        self.worst = self.codes[scale.worst]
        self.metric = "ordinal" if scale.ordinal else "nominal"


_BUILTIN = _Coding(BUILTIN)


def _coding(rating: pd.Series) -> _Coding:
    scale = scale_of(rating)
    return _BUILTIN if scale is BUILTIN else _Coding(scale)


AGREEMENT_COLUMNS = (
    "agencies",
    "rated",
    "units",
    "pairable",
    "pct_agree",
    "alpha",
    "alpha_low",
    "alpha_high",
    "ac1",
    "ac1_low",
    "ac1_high",
    "estimable",
    "note",
)


# --------------------------------------------------------------------------- helpers


def _scale_codes(rating: pd.Series) -> np.ndarray:
    """Each rating's code (0..3), or -1 off the scale; from a categorical's codes when
    it is one, so millions of ratings are never turned back into text."""
    codes = _coding(rating).codes
    if isinstance(rating.dtype, pd.CategoricalDtype):
        lookup = np.array(
            [codes.get(c, -1) if isinstance(c, str) else -1 for c in rating.cat.categories]
            + [-1],  # position -1: a missing rating
            dtype=np.int8,
        )
        return lookup[rating.cat.codes.to_numpy()]
    coded = rating.astype("object").map(lambda r: codes.get(r, -1) if isinstance(r, str) else -1)
    return coded.to_numpy(dtype=np.int8)


def _coded(ratings: pd.DataFrame) -> pd.DataFrame:
    """Ratings on the scale only, with ``code`` (0..3)."""
    missing = [
        c for c in ("agency", "case_ref", "standard_key", "rating") if c not in ratings.columns
    ]
    if missing:
        raise ValueError(f"ratings lack the column(s) {', '.join(missing)}")
    codes = _scale_codes(ratings["rating"])
    on_scale = codes >= 0
    scale = ratings[on_scale].copy()
    scale["code"] = codes[on_scale].astype("float64")
    twice = scale.duplicated(["agency", "case_ref", "standard_key"])
    if twice.any():
        first = scale[twice].iloc[0]
        raise ValueError(
            f"{first['agency']} rated case {first['case_ref']} standard "
            f"{first['standard_key']} twice: give one cycle's ratings"
        )
    return scale


def _check_framework(ratings: pd.DataFrame, framework: Framework) -> None:
    keys = set(ratings["standard_key"].dropna().unique())
    unknown = sorted(keys - {s.key for s in framework.standards})
    if unknown:
        raise ValueError(
            f"ratings hold standards that are not in the {framework.cycle} framework: "
            + ", ".join(unknown)
        )


def reliability_matrix(
    ratings: pd.DataFrame,
    standard: int | str | None = None,
    kloe: int | None = None,
) -> tuple[np.ndarray, list[str], list[Hashable]]:
    """Raters x units reliability data for one standard, one KLOE, or everything.

    Args:
        standard: a standard's number in the ratings' cycle (an int) or its
            ``standard_key`` (a str); units are then cases.
        kloe: a KLOE number; units are then (case_ref, standard) pairs. Without either,
            units are every (case_ref, standard) pair.

    Returns ``(matrix, agencies, units)``: a float array, one row per agency (sorted
    codes of the agencies with any rating in the selection) and one column per unit
    (sorted), holding codes 0..3 (:data:`CODES`) and ``nan`` where the agency did not
    rate the unit, or rated it not applicable or not recorded.
    """
    for column in ("agency", "case_ref", "standard", "standard_key", "kloe", "rating"):
        if column not in ratings.columns:
            raise ValueError(f"ratings lack the column {column}")
    chosen = ratings
    if standard is not None:
        column = "standard_key" if isinstance(standard, str) else "standard"
        chosen = chosen[chosen[column] == standard]
    if kloe is not None:
        chosen = chosen[chosen["kloe"] == kloe]
    agencies = sorted(chosen["agency"].unique().tolist())
    by_case = standard is not None
    if by_case:
        units: list[Hashable] = sorted(chosen["case_ref"].unique().tolist())
    else:
        pairs = chosen[["case_ref", "standard"]].drop_duplicates()
        units = sorted((str(c), int(s)) for c, s in pairs.itertuples(index=False))
    matrix = np.full((len(agencies), len(units)), np.nan)
    scale = _coded(chosen)
    if len(scale):
        row = {a: i for i, a in enumerate(agencies)}
        col = {u: j for j, u in enumerate(units)}
        rows = scale["agency"].map(row).to_numpy()
        if by_case:
            cols = scale["case_ref"].map(col).to_numpy()
        else:
            cols = np.array(
                [
                    col[(str(c), int(s))]
                    for c, s in zip(scale["case_ref"], scale["standard"], strict=True)
                ]
            )
        matrix[rows.astype(int), cols.astype(int)] = scale["code"].to_numpy()
    return matrix, agencies, units


def _units_by_group(
    scale: pd.DataFrame, group: str
) -> tuple[dict[Hashable, np.ndarray], np.ndarray, np.ndarray]:
    """Pivot once: units (group, case_ref[, standard_key]) x agencies, each group's row
    positions, and each row's case. A group's reliability data are its rows, transposed;
    the cases of those rows are the clusters its bootstrap resamples."""
    index = list(dict.fromkeys([group, "case_ref", "standard_key"]))
    wide = scale.pivot(index=index, columns="agency", values="code")
    positions = pd.Series(np.arange(len(wide))).groupby(wide.index.get_level_values(0).to_numpy())
    cases = wide.index.get_level_values("case_ref").to_numpy(dtype=object)
    return {k: v.to_numpy() for k, v in positions}, wide.to_numpy(dtype="float64"), cases


def _statistics(
    data: np.ndarray,
    cases: np.ndarray,
    unit_word: str,
    n_boot: int,
    seed: int | None,
    confidence: float,
    coding: _Coding = _BUILTIN,
) -> dict[str, object]:
    """Agreement on one raters x units block (see :data:`AGREEMENT_COLUMNS`); ``cases``
    holds each unit's case, the cluster the bootstrap draws whole."""
    present = ~np.isnan(data)
    per_unit = present.sum(axis=0)
    paired = per_unit >= 2
    counts = np.stack([(data == c).sum(axis=0) for c in coding.categories], axis=1)[paired]
    pairs = (per_unit[paired] * (per_unit[paired] - 1)).sum() / 2
    same = (counts * (counts - 1)).sum() / 2
    pair_values = data[:, paired][present[:, paired]]
    row: dict[str, object] = {
        "agencies": int(present.any(axis=1).sum()),
        "rated": int(present.sum()),
        "units": int(paired.sum()),
        "pairable": int(per_unit[paired].sum()),
        "pct_agree": float(same / pairs) if pairs else math.nan,
    }
    nan = math.nan
    stats = dict.fromkeys(("alpha", "alpha_low", "alpha_high", "ac1", "ac1_low", "ac1_high"), nan)
    if row["units"] < 2:
        note = f"fewer than 2 {unit_word} rated by 2 or more agencies"
    elif np.unique(pair_values).size < 2:
        only = coding.scale.levels[int(pair_values[0])].replace("_", " ")
        note = (
            f"every agency rating the same {unit_word} gave the same rating ({only}): "
            "agreement is total but cannot be told apart from chance"
        )
    else:
        note = ""
        if n_boot:
            stats["alpha"], stats["alpha_low"], stats["alpha_high"] = krippendorff_alpha_bootstrap(
                data, coding.metric, n_boot, confidence, seed, clusters=cases
            )
            stats["ac1"], stats["ac1_low"], stats["ac1_high"] = gwet_ac1_bootstrap(
                data, n_boot, confidence, seed, categories=coding.categories, clusters=cases
            )
        else:
            stats["alpha"] = krippendorff_alpha(data, coding.metric)
            stats["ac1"] = gwet_ac1(data, categories=coding.categories)
        if math.isnan(stats["alpha"]):
            note = "not estimable"
    row.update(stats)
    row["estimable"] = note == ""
    row["note"] = note
    return row


def _agreement(
    ratings: pd.DataFrame,
    framework: Framework,
    level: str,
    n_boot: int,
    seed: int | None,
    confidence: float,
) -> pd.DataFrame:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 0:
        raise ValueError(f"n_boot must be a whole number, 0 or more; got {n_boot!r}")
    coding = _coding(ratings["rating"])
    scale = _coded(ratings)
    _check_framework(scale, framework)
    titles = {k.key: k.title for k in framework.kloes}
    if level == "standard":
        base = [
            {
                "kloe": s.kloe,
                "kloe_key": s.kloe_key,
                "kloe_title": titles[s.kloe_key],
                "standard": s.number,
                "standard_key": s.key,
                "text": s.text,
            }
            for s in framework.standards
        ]
        group, unit_word = "standard_key", "cases"
    else:
        base = [
            {
                "kloe": k.number,
                "kloe_key": k.key,
                "kloe_title": k.title,
                "standards": len(k.standards),
            }
            for k in framework.kloes
        ]
        group, unit_word = "kloe_key", "case-standards"
        kloe_of = {s.key: s.kloe_key for s in framework.standards}
        scale = scale.assign(kloe_key=scale["standard_key"].map(kloe_of))
    positions, units, cases = _units_by_group(scale, group)
    empty, no_cases = np.empty((0, 0)), np.empty(0, dtype=object)
    rows = []
    for item in base:
        where = positions.get(item[group])
        data = units[where].T if where is not None else empty
        clusters = cases[where] if where is not None else no_cases
        rows.append(
            {**item, **_statistics(data, clusters, unit_word, n_boot, seed, confidence, coding)}
        )
    table = pd.DataFrame(rows)
    table["estimable"] = table["estimable"].astype(bool)
    return table


# --------------------------------------------------------------------------- public


def agreement_by_standard(
    ratings: pd.DataFrame,
    framework: Framework,
    n_boot: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Agreement between agencies on each standard; units are cases.

    One row per standard of ``framework``, in its order. Columns: ``kloe``,
    ``kloe_key``, ``kloe_title``, ``standard``, ``standard_key``, ``text``;
    ``agencies`` (agencies rating it on the scale), ``rated`` (ratings on the scale),
    ``units`` (cases rated by 2 or more agencies), ``pairable`` (the ratings of those
    cases), ``pct_agree`` (of the pairs of agencies rating the same case, the share
    giving the same rating); ``alpha`` (Krippendorff, ordinal) and ``ac1`` (Gwet, the 4
    scale points as categories), each with ``_low``/``_high``: a case-resampling
    bootstrap percentile interval, ``n_boot`` draws with ``seed`` (``n_boot=0`` skips
    it, leaving ``nan``); ``estimable``; ``note``, saying why not.

    A standard is not estimable (``nan`` statistics, never an error) when fewer than 2
    cases were rated by 2 or more agencies, or when every such rating is the same, so
    agreement cannot be told apart from chance.
    """
    return _agreement(ratings, framework, "standard", n_boot, seed, confidence)


def agreement_by_kloe(
    ratings: pd.DataFrame,
    framework: Framework,
    n_boot: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """As :func:`agreement_by_standard`, per KLOE; units are (case, standard) pairs.

    Columns: ``kloe``, ``kloe_key``, ``kloe_title``, ``standards``, then as
    :func:`agreement_by_standard`. The intervals are case-resampling too: ratings of one
    case on the KLOE's several standards are not independent, so the bootstrap draws
    whole cases with replacement, each bringing all its (case, standard) units (the
    cluster bootstrap of Davison & Hinkley 1997, section 3.8; Field & Welsh 2007; see
    ``clusters`` in :func:`~audit_analysis.analysis.stats.krippendorff_alpha_bootstrap`).
    """
    return _agreement(ratings, framework, "kloe", n_boot, seed, confidence)


def agreement_overall(
    ratings: pd.DataFrame,
    framework: Framework,
    n_boot: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Agreement between agencies over every standard at once: one row, units are
    (case, standard) pairs, the bootstrap draws whole cases (as :func:`agreement_by_kloe`,
    whose columns it has but for the KLOE's own: ``standards`` (standards of the
    framework), then the agreement columns)."""
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 0:
        raise ValueError(f"n_boot must be a whole number, 0 or more; got {n_boot!r}")
    coding = _coding(ratings["rating"])
    scale = _coded(ratings)
    _check_framework(scale, framework)
    scale = scale.assign(_all="all")
    positions, units, cases = _units_by_group(scale, "_all")
    where = positions.get("all")
    data = units[where].T if where is not None else np.empty((0, 0))
    clusters = cases[where] if where is not None else np.empty(0, dtype=object)
    row = {"standards": len(framework.standards)}
    row.update(_statistics(data, clusters, "case-standards", n_boot, seed, confidence, coding))
    table = pd.DataFrame([row])
    table["estimable"] = table["estimable"].astype(bool)
    return table


def pairwise_agreement(ratings: pd.DataFrame, min_shared: int = 5) -> pd.DataFrame:
    """How often each ordered pair of agencies agreed on the same case and standard.

    One row per ordered pair (``a``, ``b``), ``a != b``, of the agencies in ``ratings``,
    sorted by ``a`` then ``b``. Columns: ``a``, ``b``, ``shared`` (case-standards both
    rated on the scale), ``agree`` (same rating), ``agree_met`` (both met or better,
    or both not), ``pct_agree``, ``pct_agree_met`` (``nan`` when nothing is shared),
    ``kappa`` (Cohen's unweighted kappa over the 4 scale points; ``nan`` when not
    estimable), ``small`` (``shared < min_shared``: read with care).
    """
    scale = _coded(ratings)
    agencies = sorted(ratings["agency"].unique().tolist())
    coding = _coding(ratings["rating"])
    k = len(coding.categories)
    # One row per unit (case, standard), a one-hot block of k columns per agency: the
    # product of its transpose with itself is every pair's k x k table at once.
    unit = scale.groupby(["case_ref", "standard_key"], sort=False).ngroup().to_numpy(dtype=int)
    position = {a: i for i, a in enumerate(agencies)}
    rater = scale["agency"].map(position).to_numpy(dtype=int)
    column = rater * k + scale["code"].to_numpy(dtype=int)
    onehot = np.zeros((int(unit.max()) + 1 if len(unit) else 0, len(agencies) * k))
    onehot[unit, column] = 1.0
    tables = onehot.T @ onehot
    met = np.equal.outer(
        np.arange(k) >= coding.met, np.arange(k) >= coding.met
    )  # both met, or neither
    rows = []
    for i, a in enumerate(agencies):
        for j, b in enumerate(agencies):
            if a == b:
                continue
            table = tables[i * k : (i + 1) * k, j * k : (j + 1) * k]
            shared = int(table.sum())
            if shared:
                agree = int(np.trace(table))
                agree_met = int(table[met].sum())
                kappa = kappa_from_table(table)
            else:
                agree = agree_met = 0
                kappa = math.nan
            rows.append(
                {
                    "a": a,
                    "b": b,
                    "shared": shared,
                    "agree": agree,
                    "agree_met": agree_met,
                    "pct_agree": agree / shared if shared else math.nan,
                    "pct_agree_met": agree_met / shared if shared else math.nan,
                    "kappa": kappa,
                    "small": shared < min_shared,
                }
            )
    columns = ["a", "b", "shared", "agree", "agree_met", "pct_agree", "pct_agree_met"]
    table = pd.DataFrame(rows, columns=[*columns, "kappa", "small"])
    return table.astype(
        {
            "shared": "int64",
            "agree": "int64",
            "agree_met": "int64",
            "pct_agree": "float64",
            "pct_agree_met": "float64",
            "kappa": "float64",
            "small": "bool",
        }
    )


def pairwise_matrix(pairwise: pd.DataFrame, value: str = "pct_agree_met") -> pd.DataFrame:
    """:func:`pairwise_agreement`'s ``value`` as a square agency x agency table
    (index ``a``, columns ``b``, both sorted; ``nan`` on the diagonal), for a heatmap."""
    if value not in pairwise.columns:
        raise ValueError(f"no column {value!r} in the pairwise table")
    agencies = sorted(set(pairwise["a"]) | set(pairwise["b"]))
    square = pairwise.pivot(index="a", columns="b", values=value)
    square = square.reindex(index=agencies, columns=agencies)
    square.index.name, square.columns.name = "a", "b"
    return square


def disagreement_register(ratings: pd.DataFrame) -> pd.DataFrame:
    """Every case and standard where one agency rated good and another
    unmet (the report's section 2.3.5). For the QA group only: it names cases.

    One row per (case, standard), sorted by standard then case. Columns: ``case_ref``,
    ``kloe``, ``standard``, ``standard_key``, ``agencies_met`` and ``agencies_unmet``
    (comma-joined agency codes), ``ratings`` (every agency's rating of it but not
    recorded ones, e.g. ``CCG: met; WMP: unmet``), ``evidence_met`` and
    ``evidence_unmet`` (one ``AGENCY: evidence`` line per agency on that side; the
    evidence text verbatim, ``(no evidence)`` where none was given; escaping is the
    renderer's job).
    """
    columns = [
        "case_ref",
        "kloe",
        "standard",
        "standard_key",
        "agencies_met",
        "agencies_unmet",
        "ratings",
        "evidence_met",
        "evidence_unmet",
    ]
    for column in ("agency", "case_ref", "kloe", "standard", "standard_key", "rating"):
        if column not in ratings.columns:
            raise ValueError(f"ratings lack the column {column}")
    # Which (case, standard) pairs hold both sides, counted on integer codes: on a
    # national table this runs over millions of ratings before the few are kept.
    coding = _coding(ratings["rating"])
    code = _scale_codes(ratings["rating"])
    recorded = (ratings["rating"] != NOT_RECORDED).to_numpy()
    case = pd.factorize(ratings["case_ref"])[0]
    key, keys = pd.factorize(ratings["standard_key"])
    unit = case * max(len(keys), 1) + key
    known = (case >= 0) & (key >= 0) & recorded
    size = int(unit.max()) + 1 if len(unit) else 0
    met = np.bincount(unit[known & (code >= coding.met)], minlength=size) > 0
    unmet = np.bincount(unit[known & (code == coding.worst)], minlength=size) > 0
    chosen = known & met[np.where(known, unit, 0)] & unmet[np.where(known, unit, 0)]
    frame = ratings[chosen]
    frame = frame.assign(_rating=frame["rating"].astype("object"))
    if "evidence" not in frame.columns:
        frame["evidence"] = None
    if frame.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype="int64" if c in ("kloe", "standard") else object) for c in columns}
        )
    frame = frame.sort_values(["standard", "standard_key", "case_ref", "agency"], kind="stable")
    agency = frame["agency"].astype("object")
    frame["_shown"] = agency + ": " + frame["_rating"].str.replace("_", " ", regex=False)
    evidence = (
        frame["evidence"]
        .astype("object")
        .map(lambda text: "(no evidence)" if pd.isna(text) else str(text))
    )
    frame["_evidence"] = agency + ": " + evidence
    # Sorted, each (standard, case) is a run of rows: join each run's texts in one pass
    # (a groupby with a Python join slices out every group, slowly, at national scale).
    group = ["standard", "standard_key", "case_ref"]
    starts = np.zeros(len(frame), dtype=bool)
    starts[0] = True
    for name in group:
        values = frame[name].to_numpy(dtype=object)
        starts[1:] |= values[1:] != values[:-1]
    run = np.cumsum(starts) - 1
    table = frame[group].iloc[np.flatnonzero(starts)].reset_index(drop=True)
    table["kloe"] = frame["kloe"].to_numpy()[starts]
    positive = frame["_rating"].isin(coding.scale.good).to_numpy()
    negative = (frame["_rating"] == coding.scale.worst).to_numpy()
    for name, column, sep, rows in (
        ("ratings", "_shown", "; ", None),
        ("agencies_met", "agency", ", ", positive),
        ("agencies_unmet", "agency", ", ", negative),
        ("evidence_met", "_evidence", "\n", positive),
        ("evidence_unmet", "_evidence", "\n", negative),
    ):
        texts = frame[column].to_numpy(dtype=object)
        if rows is not None:
            joined = _join_runs(run[rows], texts[rows], sep, len(table))
        else:
            joined = _join_runs(run, texts, sep, len(table))
        table[name] = pd.array(joined, dtype="str")
    table["kloe"] = table["kloe"].astype("int64")
    table["standard"] = table["standard"].astype("int64")
    return table[columns]


def _join_runs(run: np.ndarray, texts: np.ndarray, sep: str, size: int) -> list[object]:
    """``sep``-joined ``texts`` of each run (rows sharing a ``run`` number, adjacent),
    one per run number 0..size-1; missing where a run has no rows."""
    out: list[object] = [None] * size
    if len(run) == 0:
        return out
    bounds = np.flatnonzero(np.r_[True, run[1:] != run[:-1]]).tolist() + [len(run)]
    values = texts.tolist()
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        out[run[start]] = sep.join(values[start:end])
    return out
