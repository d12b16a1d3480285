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
4. **Totals published elsewhere.** A breakdown's group total shown in another table
   (a KLOE's figures in a trend chart beside a KLOE-by-priority chart) is hidden where
   it would give a hidden cell away (:func:`totals_to_suppress`,
   :func:`suppress_totals`). A count quoted in words with its total (``7 of the 8``)
   is a row whose unquoted remainder (the 1 not discussed) is a cell too
   (:func:`suppress_counts`).

A reader can still bound a hidden cell (it lies between 1 and the threshold, or is the
difference of two shown numbers); what the rules prevent is recovering it exactly. The
threshold is the partnership's to set; the functions here only apply it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from audit_analysis.analysis.summaries import STAT_COLUMNS

__all__ = [
    "MARKER",
    "suppress",
    "suppress_breakdown",
    "suppress_counts",
    "suppress_totals",
    "suppression_mask",
    "totals_to_suppress",
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
    fixed = _fixed(np.array(equations))
    return [(int(i), int(j)) for (i, j), f in zip(cells, fixed, strict=True) if f]


def _fixed(system: np.ndarray) -> np.ndarray:
    """Which unknowns the linear equations ``system`` (one row per known total, one
    column per hidden cell) pin down exactly: those that every solution of the
    homogeneous system leaves at zero (their row of the null space is zero)."""
    _, singular, vt = np.linalg.svd(system)
    rank = int((singular > 1e-9).sum())
    null_space = vt[rank:].T  # columns span the solutions of system @ x = 0
    if not null_space.size:
        return np.ones(system.shape[1], dtype=bool)
    return np.abs(null_space).max(axis=1) <= 1e-9


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


def _within_columns(summary: pd.DataFrame, within: str | Sequence[str] | None) -> list[str]:
    if within is None:
        return next(([c] for c in ("standard_key", "kloe_key") if c in summary.columns), [])
    columns = _as_list(within)
    _check_columns(summary, columns, "within")
    return columns


def _breakdown_hidden(
    summary: pd.DataFrame,
    by: str | Sequence[str] | None,
    min_count: int,
    cases_column: str,
    within: str | Sequence[str] | None,
    total_shown: bool,
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """The rows :func:`suppress_breakdown` hides: (primary, hidden, the row positions
    of each ``within`` group in order of first appearance)."""
    by = _as_list(by)
    _check_columns(summary, [cases_column, *by], "breakdown")
    within_columns = _within_columns(summary, within)
    cases = _counts(summary, [cases_column])[:, 0]
    primary = (cases >= 1) & (cases < min_count)
    hidden = primary.copy()
    if within_columns:
        keys = summary[within_columns].reset_index(drop=True)
        groups = [
            np.asarray(rows)
            for rows in keys.groupby(within_columns, dropna=False, sort=False).indices.values()
        ]
    else:
        groups = [np.arange(len(summary))]
    if by and total_shown:
        for rows in groups:
            if hidden[rows].sum() != 1:
                continue
            candidates = [r for r in rows if not hidden[r] and cases[r] >= 1]
            if candidates:
                chosen = min(candidates, key=lambda r: (cases[r], r))
                hidden[chosen] = True
    return primary, hidden, groups


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
    :data:`audit_analysis.analysis.summaries.STAT_COLUMNS` present: counts, ``n``,
    ``met_or_better``, ``share``, ``low``, ``high``, ``cases``) show ``marker``. A row
    on 0 cases is shown (it has no share to hide).

    Secondary suppression, when ``total_shown`` (an overall figure per standard is
    published, such as the standard summary without ``by``): within each ``within``
    group (by default the ``standard_key``, else the ``kloe_key``), if exactly one
    category of ``by`` is hidden, the visible category with the fewest cases (at least
    one) is hidden too, so the hidden one cannot be had by subtracting the others
    from the overall figure. If no such category is left, the hidden row's figures
    are those of the overall row: :func:`totals_to_suppress` names such groups, and
    :func:`suppress_totals` hides their totals wherever else they are published.

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
    hide_columns = (
        [c for c in STAT_COLUMNS if c in summary.columns] if columns is None else list(columns)
    )
    _check_columns(summary, hide_columns, "columns")
    primary, hidden, _ = _breakdown_hidden(
        summary, by, min_count, cases_column, within, total_shown
    )
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
    """Counts of children quoted in words (``7 of the 8 cases flagged were discussed``),
    made safe to publish.

    ``parts`` and ``total`` form one additive set, as a table row with its total:
    ``total`` is the sum of the parts plus a remainder that is not quoted but that a
    reader works out by subtraction (``8 - 7`` cases were not discussed). The remainder
    (``total - sum(parts)``) is therefore a cell of the row like the others. The rules
    of :func:`suppress` then apply: a part, remainder or total of 1 to
    ``min_count - 1`` is hidden, and a row holding exactly one hidden cell has one more
    hidden: the remainder if it is not zero (it is never quoted, so hiding it costs
    nothing), else the smallest visible part (the total, if no part is left to hide).

    Returns each part under its name and ``"total"`` (when given), each the count or
    :data:`MARKER`. A share quoted beside a hidden count must be left out with it.

    Raises:
        ValueError: a count is negative or not a whole number, the parts add up to
            more than ``total``, a part is named ``"total"``, or ``min_count`` is not a
            whole number of 1 or more.
    """
    min_count = _check_min_count(min_count)
    names = list(parts)
    if "total" in names:
        raise ValueError('a part must not be named "total"')
    row: dict[str, int] = {}
    for name, value in [*parts.items(), *([("total", total)] if total is not None else [])]:
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ValueError(f"counts must be whole numbers of 0 or more; got {name}={value!r}")
        row[name] = int(value)
    values = [row[name] for name in names]
    if total is not None:
        rest = row["total"] - sum(values)
        if rest < 0:
            raise ValueError(f"the parts add up to more than the total ({row['total']})")
        values += [rest, row["total"]]
    if not names:
        raise ValueError("give at least one part")
    cells = np.array(values, dtype="float64")
    hidden = (cells >= 1) & (cells < min_count)
    if hidden.sum() == 1 and len(cells) >= 2:  # the row rule of suppression_mask
        rest_at = len(names) if total is not None else None
        if rest_at is not None and not hidden[rest_at] and cells[rest_at] > 0:
            j = rest_at  # the remainder is never quoted: hiding it costs nothing
        else:
            j = _pick(cells, hidden, np.arange(len(names) + (rest_at is not None)))
            if j is None and total is not None:
                j = len(cells) - 1
        if j is not None:
            hidden[j] = True
    shown = dict(zip(names, hidden[: len(names)], strict=True))
    if total is not None:
        shown["total"] = hidden[-1]
    return {name: MARKER if secret else row[name] for name, secret in shown.items()}


def totals_to_suppress(
    summary: pd.DataFrame,
    by: str | Sequence[str],
    min_count: int = 5,
    cases_column: str = "cases",
    within: str | Sequence[str] | None = None,
) -> set:
    """The ``within`` groups (KLOEs, standards) of a breakdown whose total, published
    elsewhere, would give away a cell that :func:`suppress_breakdown` hides.

    ``summary`` is the breakdown as :func:`suppress_breakdown` takes it (for example
    ``kloe_summary(themed, framework, by="priority")``, ``within="kloe_key"``). Within
    each group the categories add up to the group's total (the KLOE's ``n``,
    ``met_or_better`` and, for a characteristic each case has one value of such as the
    priority theme, ``cases``). After :func:`suppress_breakdown`'s primary and secondary
    rules, a group's total is to be hidden wherever it is shown when

    * the totals determine a hidden cell exactly (checked by linear algebra, with one
      equation per published group total): in a single group this is one hidden
      category beside categories with no cases, as when only three early-help cases
      rate a KLOE, so that its total *is* the hidden cell; or
    * its hidden categories hold one case each: every hidden cell holds at least one
      case (a zero is shown), so a total leaving one case per hidden cell tells the
      reader each of them (``c``, ``c`` and ``20`` of ``22`` cases: 1 and 1).

    Totals across groups (a category's figure over every KLOE) are not part of the
    check.

    Returns the set of group keys (a value of ``within``, or a tuple of values with
    several ``within`` columns), to hide with :func:`suppress_totals`.

    Raises:
        ValueError: a named column is missing, the table has no ``within`` column
            (``standard_key`` or ``kloe_key`` are found by themselves), or
            ``min_count`` is not a whole number of 1 or more.
    """
    min_count = _check_min_count(min_count)
    within_columns = _within_columns(summary, within)
    if not within_columns:
        raise ValueError("name the within column(s) whose totals are published")
    _, hidden, groups = _breakdown_hidden(summary, by, min_count, cases_column, within, True)
    cases = _counts(summary, [cases_column])[:, 0]
    keys = summary[within_columns].reset_index(drop=True)

    def key_of(rows: np.ndarray) -> object:
        first = keys.iloc[int(rows[0])]
        return first.iloc[0] if len(within_columns) == 1 else tuple(first)

    cells = np.flatnonzero(hidden)
    column_of = {int(r): k for k, r in enumerate(cells)}
    published = [rows for rows in groups if hidden[rows].any()]
    withheld = set()
    for rows in published:
        secret = rows[hidden[rows]]
        if cases[secret].sum() == len(secret):
            withheld.add(key_of(rows))
    while True:
        shown = [rows for rows in published if key_of(rows) not in withheld]
        if not shown:
            break
        system = np.zeros((len(shown), len(cells)))
        for i, rows in enumerate(shown):
            system[i, [column_of[int(r)] for r in rows if hidden[r]]] = 1.0
        pinned = np.flatnonzero(_fixed(system))
        if not pinned.size:
            break
        row = int(cells[pinned[0]])
        withheld.add(key_of(next(rows for rows in shown if row in rows)))
    return withheld


def suppress_totals(
    table: pd.DataFrame,
    keys: Iterable[object],
    key_column: str | Sequence[str],
    columns: Sequence[str] | None = None,
    marker: object = MARKER,
    where: str | Sequence[bool] | pd.Series | None = None,
) -> pd.DataFrame:
    """A copy of ``table`` with the figures of the totals ``keys`` (from
    :func:`totals_to_suppress`) replaced by ``marker``.

    Rows whose ``key_column`` value (a tuple of values with several columns) is in
    ``keys`` show ``marker`` in ``columns`` (by default every count and statistic of
    :data:`audit_analysis.analysis.summaries.STAT_COLUMNS` present: counts, ``n``,
    ``met_or_better``, ``share``, ``low``, ``high``, ``cases``). ``where`` limits this
    to some rows: a boolean column's name or a boolean mask, such as ``"current"`` in
    :func:`audit_analysis.analysis.trends.kloe_trend_long` (earlier cycles audited other cases).

    A string ``marker`` turns the columns it lands in into ``object`` columns; a
    ``marker`` of ``nan`` keeps numbers numbers (for a chart, which then draws
    nothing there).

    Raises:
        ValueError: a named column is missing, or ``where`` is not one value per row.
    """
    key_columns = _as_list(key_column)
    _check_columns(table, key_columns, "key columns")
    targets = [c for c in STAT_COLUMNS if c in table.columns] if columns is None else list(columns)
    _check_columns(table, targets, "columns")
    keys = set(keys)
    if len(key_columns) == 1:
        rows = table[key_columns[0]].isin(keys).to_numpy(dtype=bool, copy=True)
    else:
        rows = np.array([tuple(r) in keys for r in table[key_columns].itertuples(index=False)])
    if where is not None:
        if isinstance(where, str):
            _check_columns(table, [where], "where")
            limit = table[where]
        else:
            limit = where
        limit = np.asarray(limit, dtype=bool)
        if limit.shape != (len(table),):
            raise ValueError("where must hold one value per row of the table")
        rows &= limit
    out = table.copy()
    if not rows.any():
        return out
    for column in targets:
        if isinstance(marker, str):
            values = out[column].astype("object").to_numpy(copy=True)
            values[rows] = marker
            out[column] = pd.Series(values, index=out.index, dtype="object")
        else:
            out.loc[rows, column] = marker
    return out
