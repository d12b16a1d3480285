"""The change view's figures: against an earlier cycle, each standard's change in the
share met or exceeded, for every agency (or priority theme) and for all together.

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
)
from audit_analysis.analysis.summaries import add_shares
from audit_analysis.analysis.trends import verdicts
from audit_analysis.explore.state import ALL, PreparedCycle, Selection, tally_selection
from audit_analysis.io.schemas import PRIORITIES

__all__ = ["CONFIDENCE", "change_table", "columns_of"]

CONFIDENCE = 0.95


def columns_of(cur: PreparedCycle, by: str) -> list[str]:
    """The change view's columns: all together first, then each agency of the current
    cycle (or each priority theme)."""
    return [ALL, *(cur.agencies if by == "agency" else PRIORITIES)]


def _counts(cyc: PreparedCycle, s: Selection, by: str, column: str, keys: np.ndarray):
    """Counts ``(standards, cases, 6)`` of one column, standards in the order of ``keys``
    (a standard this cycle's framework lacks has none)."""
    cases = cyc.case_mask(s)
    agencies = cyc.agency_mask(s) if by == "priority" else np.ones(len(cyc.agencies), bool)
    if column != ALL:
        if by == "agency":
            agencies = np.array([a == column for a in cyc.agencies], dtype=bool)
        else:
            cases = cases & (cyc.priority == column)
    ci, ai = np.flatnonzero(cases), np.flatnonzero(agencies)
    part = cyc.cube[np.ix_(ci, ai)].sum(axis=1, dtype=np.int64)  # (cases, standards, 6)
    where = pd.Index(cyc.std_keys).get_indexer(keys)
    out = np.zeros((len(keys), len(ci), part.shape[2]), dtype=np.int64)
    found = where >= 0
    out[found] = part[:, where[found]].transpose(1, 0, 2)
    return out


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
    meta = fw.to_frame()[["kloe", "standard", "standard_key", "text"]].reset_index(drop=True)
    parts = []
    for column in columns_of(cur, s.by):
        now = add_shares(tally_selection(_counts(cur, s, s.by, column, keys)))
        old = add_shares(tally_selection(_counts(then, s, s.by, column, keys)))
        p1, n1, df1 = effective_sizes(now["met_or_better"], now["n"], now["case_ss"], now["cases"])
        p2, n2, df2 = effective_sizes(old["met_or_better"], old["n"], old["case_ss"], old["cases"])
        diff, low, high = difference_limits(p1, n1, df1, p2, n2, df2, CONFIDENCE)
        p = difference_p_values(p1, n1, df1, p2, n2, df2)
        adjusted = bh_adjust(p)
        part = meta.copy()
        part["column"] = column
        for suffix, frame in (("then", old), ("now", now)):
            for stat in ("n", "cases", "met_or_better", "share", "low", "high"):
                part[f"{stat}_{suffix}"] = frame[stat].to_numpy()
        part["change"] = diff
        part["change_low"] = low
        part["change_high"] = high
        part["p"] = p
        part["p_adjusted"] = adjusted
        part["verdict"] = verdicts(diff, adjusted, CONFIDENCE)
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    for stat in ("n", "cases", "met_or_better"):
        for suffix in ("then", "now"):
            table[f"{stat}_{suffix}"] = table[f"{stat}_{suffix}"].astype("int64")
    return table
