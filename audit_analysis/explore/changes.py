"""The change view's figures: against an earlier cycle, each standard's change in the
share rated good, for every agency (or priority theme) and for all together.

The rule is the trends page's (:func:`~audit_analysis.analysis.trends.trend_table`):
each column is a family of standards compared against one earlier cycle, so its
p-values are adjusted together (Benjamini-Hochberg, :func:`~audit_analysis.analysis.\
inference.bh_adjust`) and :func:`~audit_analysis.analysis.trends.verdicts` calls a change
``improved`` or ``declined`` only where the adjusted p-value is below 0.05. The family is
always every standard of the current framework, whatever the scope shown, so the column
of all agencies, with no filter, gives the trends page's verdicts exactly, and an
agency's column gives the verdicts the trends page would give on that agency's ratings
alone (``tests/test_explore.py`` checks both).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audit_analysis.analysis.inference import (
    bh_adjust,
    difference_limits,
    difference_p_values,
    effective_sizes,
    standardised_pairs,
)
from audit_analysis.analysis.summaries import add_shares, count_columns
from audit_analysis.analysis.trends import combined_verdicts, verdicts
from audit_analysis.explore.state import ALL, PreparedCycle, Selection, slots, tally_selection
from audit_analysis.io.labels import current as current_labels

__all__ = ["CONFIDENCE", "change_table", "columns_of"]

CONFIDENCE = 0.95


def columns_of(cur: PreparedCycle, by: str) -> list[str]:
    """The change view's columns: all together first, then each agency of the current
    cycle (or each priority theme)."""
    return [ALL, *(cur.agencies if by == "agency" else current_labels().priorities)]


def _counts(cyc: PreparedCycle, s: Selection, by: str, columns: list[str], keys: np.ndarray):
    """Counts ``(columns x standards, cases, 6)``: each column's standards in the order
    of ``keys`` (a standard this cycle's framework lacks has none), column after column.
    The cycle's array is sliced once: a column is a view of it, not a copy."""
    cases = np.flatnonzero(cyc.case_mask(s))
    where = pd.Index(cyc.std_keys).get_indexer(keys)
    found = where >= 0
    if by == "agency":
        part = cyc.cube[cases]  # (cases, agencies, standards, 6)
        blocks = [part.sum(axis=1, dtype=np.int64)]
        blocks += [
            part[:, cyc.agencies.index(a)] if a in cyc.agencies else None for a in columns[1:]
        ]
    else:
        agencies = np.flatnonzero(cyc.agency_mask(s))
        whole = cyc.cube[np.ix_(cases, agencies)].sum(axis=1, dtype=np.int64)
        themes = cyc.priority[cases]
        blocks = [whole] + [whole[themes == p] for p in columns[1:]]
    width = max([len(cases), 1])
    slots = len(count_columns(cyc.data.scale))
    out = np.zeros((len(columns), len(keys), width, slots), dtype=np.int64)
    for i, block in enumerate(blocks):
        if block is None or not len(block):
            continue
        out[i, found, : len(block)] = block[:, where[found]].transpose(1, 0, 2)
    return out.reshape(len(columns) * len(keys), width, slots)


def _themes(cyc: PreparedCycle, s: Selection, by: str, columns: list[str], width: int):
    """Each column's cases' priority themes, in the order :func:`_counts` lays them out
    (``(columns, width)``, None past a column's cases)."""
    cases = np.flatnonzero(cyc.case_mask(s))
    every = np.asarray(cyc.priority, dtype=object)[cases]
    out = np.full((len(columns), width), None, dtype=object)
    for i, column in enumerate(columns):
        if by == "agency" or i == 0:
            out[i, : len(every)] = every
        else:
            out[i, : int((every == column).sum())] = column
    return out


def _standardised(
    cyc_counts, cyc_themes, old_counts, old_themes, rows: int, keys: int, scales=(None, None)
):
    """Each row's two shares standardised to the pair's pooled theme mix, as the trends
    page computes them (:func:`~audit_analysis.analysis.inference.standardised_pair`):
    ``(p1, n_eff1, df1, p2, n_eff2, df2)`` arrays."""
    out = np.full((rows, 6), np.nan)
    sides = []
    for counts, themes, scale in (
        (cyc_counts, cyc_themes, scales[0]),
        (old_counts, old_themes, scales[1]),
    ):
        good, levels = slots(scale)  # each cycle's good on its own scale (issue 24)
        y = counts[..., good].sum(axis=-1)
        n = counts[..., levels].sum(axis=-1)
        sides.append((y, n, np.repeat(themes, keys, axis=0)))
    parts, rated_in = [], []
    for y, n, themes in sides:  # every row's rated cases at once, the row as the key
        rated = n > 0
        row = np.nonzero(rated)[0]  # row by row, each row's cases in their order
        parts.append(
            pd.DataFrame({"key": row, "theme": themes[rated], "y": y[rated], "n": n[rated]})
        )
        rated_in.append(rated.any(axis=1))
    both = rated_in[0] & rated_in[1]  # a row rated in one cycle only: no pair
    if both.any():
        pairs = standardised_pairs(*parts, list(range(rows)))
        out[both] = np.column_stack(pairs[:6])[both]
    return tuple(out[:, j] for j in range(6))


def change_table(cur: PreparedCycle, then: PreparedCycle, s: Selection) -> pd.DataFrame:
    """One row per standard of the current framework x column (:func:`columns_of`
    ``s.by``): ``standard_key``, ``kloe``, ``standard``, ``text``, ``column``; for each
    cycle (``_then``, ``_now``) ``n``, ``cases``, ``met_or_better``, ``share``,
    ``low``, ``high``; then ``change`` (now minus then), ``change_low``,
    ``change_high`` (95% interval by case), ``p``, ``p_adjusted`` (over the column's
    standards) and ``verdict``.

    The filters apply to both cycles: priority theme and age band pick cases (the
    priority filter is ignored when the columns are the themes), the agency filter
    picks ratings when the columns are themes and is ignored when they are agencies."""
    fw = cur.data.framework
    keys = cur.std_keys
    columns = columns_of(cur, s.by)
    meta = fw.to_frame()[["kloe", "standard", "standard_key", "text"]].reset_index(drop=True)
    now_counts = _counts(cur, s, s.by, columns, keys)
    old_counts = _counts(then, s, s.by, columns, keys)
    now = add_shares(tally_selection(now_counts, cur.data.scale))
    old = add_shares(tally_selection(old_counts, then.data.scale))
    p1, n1, df1 = effective_sizes(now["met_or_better"], now["n"], now["case_ss"], now["cases"])
    p2, n2, df2 = effective_sizes(old["met_or_better"], old["n"], old["case_ss"], old["cases"])
    diff, low, high = difference_limits(p1, n1, df1, p2, n2, df2, CONFIDENCE)
    p = difference_p_values(p1, n1, df1, p2, n2, df2)
    # each column is a family of standards, adjusted together as on the trends page
    adjusted = np.concatenate([bh_adjust(part) for part in np.split(p, len(columns))])
    # and, as there, the change with the theme mix held the same: no verdict where the
    # crude and the standardised verdicts disagree
    s1, m1, f1, s2, m2, f2 = _standardised(
        now_counts,
        _themes(cur, s, s.by, columns, now_counts.shape[1]),
        old_counts,
        _themes(then, s, s.by, columns, old_counts.shape[1]),
        len(columns) * len(keys),
        len(keys),
        (cur.data.scale, then.data.scale),
    )
    s_diff = difference_limits(s1, m1, f1, s2, m2, f2, CONFIDENCE)[0]
    s_p = difference_p_values(s1, m1, f1, s2, m2, f2)
    s_adjusted = np.concatenate([bh_adjust(part) for part in np.split(s_p, len(columns))])
    table = pd.concat([meta] * len(columns), ignore_index=True)
    table["column"] = np.repeat(columns, len(keys))
    for suffix, frame in (("then", old), ("now", now)):
        for stat in ("n", "cases", "met_or_better", "share", "low", "high"):
            values = frame[stat].to_numpy()
            table[f"{stat}_{suffix}"] = values.astype("int64") if stat in _COUNTS else values
    table["change"] = diff
    table["change_low"] = low
    table["change_high"] = high
    table["p"] = p
    table["p_adjusted"] = adjusted
    table["verdict"] = combined_verdicts(
        verdicts(diff, adjusted, CONFIDENCE), verdicts(s_diff, s_adjusted, CONFIDENCE)
    )
    return table


_COUNTS = ("n", "cases", "met_or_better")
