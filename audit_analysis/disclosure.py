"""Statistical disclosure control for tables that leave the audit group.

The Executive Group's page must not let a reader work out a small number of children.
The rules follow the Department for Education's practice in its published statistics:

1. **Primary suppression.** A count from 1 to ``min_count - 1`` (1 to 4 with the default
   threshold of 5) is replaced by the marker ``c``. Zeros are shown: a zero reveals no
   child.
2. **Secondary suppression.** A hidden count must not be recoverable by subtraction
   from a total. Wherever a set of cells adds up to a known total (the cells of a row,
   with the row's total; the rows of a group, with the group's total) and exactly one
   of them is hidden, the next-smallest visible cell of that set is hidden too,
   preferring a non-zero cell (a hidden zero, once the reader knows counts of 1 to 4
   are hidden, narrows the other cell down). This is repeated until every such set
   holds no hidden cell or at least two, and until no combination of the totals
   determines a hidden cell exactly (checked by linear algebra).
3. **Derived figures.** Shares, intervals and the like computed from a hidden count are
   hidden with it.

A reader can still bound a hidden cell (it lies between 1 and the threshold, or is the
difference of two shown numbers); what the rules prevent is recovering it exactly. The
threshold is the partnership's to set; :func:`suppress` and :func:`suppress_breakdown`
only apply it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .summaries import STAT_COLUMNS

__all__ = [
    "MARKER",
    "exposed_totals",
    "suppress",
    "suppress_breakdown",
    "suppress_counts",
    "suppression_mask",
]

MARKER = "c"
"""What a suppressed cell shows (as in DfE's statistics: "c" for confidential)."""


def _as_list(columns: str | Sequence[str] | None) -> list[str]:
    if columns is None:
        return []
    return [columns] if isinstance(columns, str) else list(columns)


def _check_columns(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{what}: no column(s) {', '.join(missing)} in the table")


def _pick(values: np.ndarray, hidden: np.ndarray, candidates: np.ndarray) -> int | None:
    """The position, among ``candidates``, of the smallest visible non-zero value;
    failing that, the smallest visible zero; None if nothing is visible."""
    best = None
    for position in candidates:
        value = values[position]
        if hidden[position] or np.isnan(value):
            continue
        rank = (value == 0, value)
        if best is None or rank < best[0]:
            best = (rank, position)
    return None if best is None else int(best[1])


def _determined(
    hidden: np.ndarray,
    row_rule: bool,
    total_at: int | None,
    group_rows: list[np.ndarray],
) -> list[tuple[int, int]]:
    """Hidden cells that the published totals determine exactly.

    Each total a reader knows is a linear equation in the hidden cells: a row's counts
    minus its total (when the total is a column) or its counts alone (a total shown
    elsewhere); a group's cells in one column. A hidden cell is determined when its
    unit vector lies in the row space of those equations, that is when every solution
    of the homogeneous system leaves it at zero (its row of the null space is zero).
    """
    cells = np.argwhere(hidden)
    if cells.size == 0:
        return []
    index = {(int(i), int(j)): k for k, (i, j) in enumerate(cells)}
    equations: list[np.ndarray] = []
    if row_rule:
        for i in np.unique(cells[:, 0]):
            equation = np.zeros(len(cells))
            for j in np.flatnonzero(hidden[i]):
                equation[index[(int(i), int(j))]] = -1.0 if j == total_at else 1.0
            equations.append(equation)
    for rows in group_rows:
        for j in range(hidden.shape[1]):
            members = [index[(int(i), j)] for i in rows if hidden[i, j]]
            if members:
                equation = np.zeros(len(cells))
                equation[members] = 1.0
                equations.append(equation)
    if not equations:
        return []
    system = np.array(equations)
    _, singular, vt = np.linalg.svd(system)
    rank = int((singular > 1e-9).sum())
    null_space = vt[rank:].T  # columns span the solutions of system @ x = 0
    free = np.abs(null_space).max(axis=1) > 1e-9 if null_space.size else np.zeros(len(cells), bool)
    return [(int(i), int(j)) for (i, j), f in zip(cells, free, strict=True) if not f]


def _check_min_count(min_count: int) -> int:
    if isinstance(min_count, bool) or not isinstance(min_count, int | np.integer) or min_count < 1:
        raise ValueError(f"min_count must be a whole number of 1 or more; got {min_count!r}")
    return int(min_count)


def _counts(table: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    try:
        values = (
            table[list(columns)].apply(pd.to_numeric).to_numpy(dtype="float64", na_value=np.nan)
        )
    except (TypeError, ValueError) as err:
        raise ValueError(f"count columns must hold numbers ({err})") from err
    if (values < 0).any():
        raise ValueError("counts must not be negative")
    return values


def suppression_mask(
    table: pd.DataFrame,
    count_columns: str | Sequence[str],
    min_count: int = 5,
    total_column: str | None = None,
    group_columns: str | Sequence[str] | None = None,
    additive: bool = True,
) -> pd.DataFrame:
    """Which count cells :func:`suppress` hides: a boolean table with the columns
    ``count_columns`` (and ``total_column``), index as ``table``. See :func:`suppress`
    for the rules and arguments."""
    min_count = _check_min_count(min_count)
    counts = _as_list(count_columns)
    if not counts:
        raise ValueError("give at least one count column")
    cells = counts + ([total_column] if total_column else [])
    groups = _as_list(group_columns)
    _check_columns(table, cells, "count/total columns")
    _check_columns(table, groups, "group columns")
    values = _counts(table, cells)
    hidden = (values >= 1) & (values < min_count)
    n_cells = values.shape[1]
    count_positions = np.arange(len(counts))
    row_rule = additive and n_cells >= 2
    group_rows: list[np.ndarray] = []
    if groups:
        keys = table[groups].reset_index(drop=True)
        group_rows = [
            np.asarray(rows)
            for rows in keys.groupby(groups, dropna=False, sort=False).indices.values()
        ]
    group_rows = [rows for rows in group_rows if rows.size >= 2]
    total_at = n_cells - 1 if total_column else None

    def hide_in_row(i: int) -> bool:
        j = _pick(values[i], hidden[i], count_positions)
        if j is None and total_at is not None and not hidden[i, total_at]:
            j = total_at
        if j is None:
            return False
        hidden[i, j] = True
        return True

    def hide_in_group(rows: np.ndarray, j: int) -> bool:
        k = _pick(values[rows, j], hidden[rows, j], np.arange(rows.size))
        if k is None:
            return False
        hidden[rows[k], j] = True
        return True

    while True:
        changed = True
        while changed:  # no line may hold exactly one hidden cell
            changed = False
            if row_rule:
                for i in np.flatnonzero(hidden.sum(axis=1) == 1):
                    changed |= hide_in_row(int(i))
            for rows in group_rows:
                for j in range(n_cells):
                    if hidden[rows, j].sum() == 1:
                        changed |= hide_in_group(rows, j)
        # Rare patterns leave a hidden cell pinned down by several lines together
        # (a "bridge" between two protected blocks): hide one more beside it.
        pinned = _determined(hidden, row_rule, total_at, group_rows)
        if not pinned:
            break
        i, j = pinned[0]
        if not (row_rule and hide_in_row(i)):
            rows = next((r for r in group_rows if i in r), None)
            if rows is None or not hide_in_group(rows, j):
                break  # nothing left to hide beside it
    return pd.DataFrame(hidden, columns=cells, index=table.index)


def suppress(
    table: pd.DataFrame,
    count_columns: str | Sequence[str],
    min_count: int = 5,
    total_column: str | None = None,
    group_columns: str | Sequence[str] | None = None,
    marker: str = MARKER,
    derived_columns: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    additive: bool = True,
) -> pd.DataFrame:
    """A copy of ``table`` safe to publish: small counts replaced by ``marker``.

    Rules, in order:

    * **Primary:** every cell of ``count_columns`` and ``total_column`` holding a count
      with ``1 <= count < min_count`` shows ``marker``. Zeros and missing values are
      shown as they are.
    * **Secondary, across a row** (when ``additive``: the count columns are parts of
      one whole, whose total is ``total_column`` or may be published elsewhere): if
      exactly one of a row's cells (its counts and its total) is hidden, its smallest
      visible non-zero count is hidden too (a zero if no non-zero count is visible;
      the row's total if no count is visible at all).
    * **Secondary, down a group** (with ``group_columns``: rows sharing those values
      add up to a total shown elsewhere, or hold it as one of their rows): in each
      column, if exactly one of a group's cells is hidden, the group's smallest
      visible non-zero cell of that column is hidden too. A group of one row cannot be
      protected this way: its total is the cell, so that total must not be published.
    * Both secondary rules are repeated until neither hides anything more, so no row
      or group holds exactly one hidden cell. Then a check: treating every row total
      and group total as a linear equation in the hidden cells, no hidden cell may be
      determined by the equations together (a rank test). In a table with both rows
      and groups, a cell can be pinned down by several totals combined even though each
      holds two hidden cells; one more cell beside it is then hidden, and the rules
      run again.
    * **Derived:** ``derived_columns`` (shares, intervals) show ``marker`` in every row
      where a cell they rest on is hidden: a list rests on all the count and total
      columns; a mapping names, for each derived column, the columns it rests on.

    Columns holding a marker become ``object`` columns; everything else is unchanged.

    Raises:
        ValueError: a named column is missing, a count is negative or not a number, or
            ``min_count`` is not a whole number of 1 or more.
    """
    mask = suppression_mask(table, count_columns, min_count, total_column, group_columns, additive)
    cells = list(mask.columns)
    if derived_columns is None:
        derived: dict[str, list[str]] = {}
    elif isinstance(derived_columns, Mapping):
        derived = {d: _as_list(s) for d, s in derived_columns.items()}
    else:
        derived = {d: cells for d in _as_list(derived_columns)}
    _check_columns(table, list(derived), "derived columns")
    for sources in derived.values():
        unknown = [s for s in sources if s not in cells]
        if unknown:
            raise ValueError(
                f"derived columns rest on {', '.join(unknown)}, which are not count columns"
            )
    out = table.copy()
    hide = {c: mask[c].to_numpy() for c in cells}
    for column, sources in derived.items():
        rows = np.zeros(len(out), dtype=bool)
        for source in sources:
            rows |= mask[source].to_numpy()
        hide[column] = hide.get(column, np.zeros(len(out), dtype=bool)) | rows
    for column, rows in hide.items():
        if rows.any():
            values = out[column].astype("object").to_numpy(copy=True)
            values[rows] = marker
            out[column] = pd.Series(values, index=out.index, dtype="object")
    return out


def suppress_breakdown(
    summary: pd.DataFrame,
    by: str | Sequence[str] | None,
    min_count: int = 5,
    cases_column: str = "cases",
    within: str | Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    total_shown: bool = True,
    marker: str = MARKER,
    flag_column: str | None = None,
) -> pd.DataFrame:
    """Suppress a breakdown whose cells rest on cases, such as
    ``standard_summary(with_case_characteristics(...), framework, by="priority")``.

    A row resting on 1 to ``min_count - 1`` cases (``cases_column``) is a small cell:
    all its ``columns`` (by default every count and statistic of
    :data:`audit_analysis.summaries.STAT_COLUMNS` present: counts, ``n``,
    ``met_or_better``, ``share``, ``low``, ``high``, ``cases``) show ``marker``. A row
    on 0 cases is shown (it has no share to hide).

    Secondary suppression, when ``total_shown`` (an overall figure per standard is
    published, such as the standard summary without ``by``): within each ``within``
    group (by default the ``standard_key``, else the ``kloe_key``), if exactly one
    category of ``by`` is hidden, the visible category with the fewest cases (at least
    one) is hidden too, so the hidden one cannot be had by subtracting the others
    from the overall figure. If no such category is left, the hidden row's figures
    are those of the overall row; suppress that with the same rule (``by=None``).

    With ``by=None`` (an overall table) only the primary rule applies. With several
    ``by`` columns, their combinations are the categories; margins by one of them are
    not protected here.

    Args:
        flag_column: if given, a column of that name says why a row is hidden:
            ``"fewer than N cases"``, ``"secondary"``, or ``""``.

    Raises:
        ValueError: a named column is missing, or ``min_count`` is not a whole number
            of 1 or more.
    """
    min_count = _check_min_count(min_count)
    by = _as_list(by)
    _check_columns(summary, [cases_column, *by], "breakdown")
    if within is None:
        within_columns = next(
            ([c] for c in ("standard_key", "kloe_key") if c in summary.columns), []
        )
    else:
        within_columns = _as_list(within)
    _check_columns(summary, within_columns, "within")
    hide_columns = (
        [c for c in STAT_COLUMNS if c in summary.columns] if columns is None else list(columns)
    )
    _check_columns(summary, hide_columns, "columns")
    cases = _counts(summary, [cases_column])[:, 0]
    primary = (cases >= 1) & (cases < min_count)
    hidden = primary.copy()
    if by and total_shown:
        keys = summary[within_columns].reset_index(drop=True)
        if within_columns:
            groups = keys.groupby(within_columns, dropna=False, sort=False).indices.values()
        else:
            groups = [np.arange(len(summary))]
        for rows in groups:
            rows = np.asarray(rows)
            if hidden[rows].sum() != 1:
                continue
            candidates = [r for r in rows if not hidden[r] and cases[r] >= 1]
            if candidates:
                chosen = min(candidates, key=lambda r: (cases[r], r))
                hidden[chosen] = True
    out = summary.copy()
    for column in hide_columns:
        if hidden.any():
            values = out[column].astype("object").to_numpy(copy=True)
            values[hidden] = marker
            out[column] = pd.Series(values, index=out.index, dtype="object")
    if flag_column:
        flags = np.where(
            primary, f"fewer than {min_count} cases", np.where(hidden, "secondary", "")
        )
        out[flag_column] = flags
    return out


def suppress_counts(
    parts: Mapping[str, int], total: int | None = None, min_count: int = 5
) -> dict[str, int | str]:
    """Counts of children quoted in words (``7 of the 8 cases ...``), made safe.

    ``parts`` add up to ``total`` (``discussed`` and ``not_discussed`` of the cases
    flagged): quoting a part beside the total reveals its complement, so the set is
    treated like a table row with its total (:func:`suppression_mask`): a part or total
    of 1 to ``min_count - 1`` is hidden, and when exactly one is hidden the next
    smallest is hidden too. Returns every part and ``"total"``, each its count or
    :data:`MARKER`.
    """
    names = list(parts)
    row = {name: int(parts[name]) for name in names}
    total_column = None
    if total is not None:
        if sum(row.values()) != int(total):
            raise ValueError("the parts must add up to the total")
        total_column = "total"
        row["total"] = int(total)
    mask = suppression_mask(pd.DataFrame([row]), names, min_count, total_column)
    return {name: (MARKER if mask[name].iloc[0] else row[name]) for name in mask.columns}


def exposed_totals(
    summary: pd.DataFrame,
    by: str | Sequence[str],
    min_count: int = 5,
    cases_column: str = "cases",
    within: str | None = None,
) -> set:
    """The ``within`` groups (KLOEs or standards) of a breakdown whose published total
    would give a suppressed cell away.

    :func:`suppress_breakdown` hides a second category beside a small one so that the
    small one cannot be had by subtraction from the group's total. Where no second
    category is left to hide (every other category of the group has no cases), the
    group's total *is* the hidden cell: that total must not be published either. The
    caller hides it wherever it is shown (for example the KLOE's figures for this
    cycle in a trend chart on the same page).
    """
    within_column = within or next(c for c in ("standard_key", "kloe_key") if c in summary.columns)
    flagged = suppress_breakdown(
        summary, by, min_count, cases_column, within=within_column, flag_column="_why"
    )
    hidden = flagged["_why"].ne("").to_numpy()
    keys = summary[within_column].to_numpy()
    exposed = set()
    for key in pd.unique(keys):
        rows = keys == key
        if hidden[rows].sum() == 1:
            exposed.add(key)
    return exposed
