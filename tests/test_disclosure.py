"""disclosure: small worked examples, and an algebraic check that no published total
pins down a hidden cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit_analysis.analysis.disclosure import (
    suppress,
    suppress_breakdown,
    suppress_counts,
    suppress_totals,
    suppression_mask,
    totals_to_suppress,
)
from audit_analysis.analysis.summaries import standard_summary
from audit_analysis.io.frameworks import load_framework
from audit_analysis.io.ratings import RATING_DTYPE

C = "c"
COUNTS = ["exceeded", "met", "partially_met", "unmet"]


def recoverable(
    values: np.ndarray,
    hidden: np.ndarray,
    total_at: int | None,
    groups: list[list[int]],
) -> list[tuple[int, int]]:
    """Hidden cells a reader can solve for exactly from the shown cells and totals.

    Unknowns are the hidden cells. Every row gives one equation (its counts add up to
    its total, shown in the table or elsewhere); every group of 2+ rows gives one
    equation per column (the group's total). A cell is recoverable when its unit
    vector is a combination of the equations: adding it to the system does not raise
    the rank.
    """
    cells = [tuple(x) for x in np.argwhere(hidden)]
    if not cells:
        return []
    where = {cell: k for k, cell in enumerate(cells)}
    rows = []
    for i in range(values.shape[0]):
        eq = np.zeros(len(cells))
        for j in range(values.shape[1]):
            if hidden[i, j]:
                eq[where[(i, j)]] = -1 if j == total_at else 1
        rows.append(eq)
    for members in groups:
        if len(members) < 2:
            continue
        for j in range(values.shape[1]):
            eq = np.zeros(len(cells))
            for i in members:
                if hidden[i, j]:
                    eq[where[(i, j)]] = 1
            rows.append(eq)
    system = np.array(rows)
    rank = np.linalg.matrix_rank(system)
    found = []
    for k, cell in enumerate(cells):
        unit = np.zeros(len(cells))
        unit[k] = 1
        if np.linalg.matrix_rank(np.vstack([system, unit])) == rank:
            found.append(cell)
    return found


def test_one_small_cell_in_a_row_gets_a_second_cell_hidden():
    table = pd.DataFrame(
        {
            "standard": [1, 2, 3, 4],
            "exceeded": [12, 0, 6, 0],
            "met": [3, 2, 0, 0],
            "partially_met": [0, 0, 0, 0],
            "unmet": [8, 7, 0, 3],
            "n": [23, 9, 6, 3],
            "share": [15 / 23, 2 / 9, 1.0, 0.0],
        }
    )
    out = suppress(table, COUNTS, total_column="n", derived_columns=["share"])
    assert out.loc[0, COUNTS + ["n", "share"]].tolist() == [12, C, 0, C, 23, C]
    # the next smallest is the non-zero 7, not a zero
    assert out.loc[1, COUNTS + ["n", "share"]].tolist() == [0, C, 0, C, 9, C]
    assert out.loc[2, COUNTS + ["n", "share"]].tolist() == [6, 0, 0, 0, 6, 1.0]
    # 3 unmet of a total of 3: both are small, so both hidden; no third cell needed
    assert out.loc[3, COUNTS + ["n"]].tolist() == [0, 0, 0, C, C]
    assert out["standard"].tolist() == [1, 2, 3, 4]
    assert table.loc[0, "met"] == 3  # the input is untouched


def test_zeros_are_shown_and_nothing_visible_is_small():
    table = pd.DataFrame({"a": [0, 1, 4, 5, 0], "b": [9, 9, 9, 9, 0]})
    out = suppress(table, ["a", "b"], additive=False)
    assert out["a"].tolist() == [0, C, C, 5, 0]
    assert out["b"].tolist() == [9, 9, 9, 9, 0]


def test_group_rule_hides_a_second_row_within_the_group():
    table = pd.DataFrame(
        {
            "standard": [1, 1, 1, 2, 2, 2],
            "priority": ["early_help", "neglect", "exploitation"] * 2,
            "n": [10, 3, 12, 6, 0, 7],
        }
    )
    out = suppress(table, "n", group_columns="standard")
    assert out["n"].tolist() == [C, C, 12, 6, 0, 7]


def test_derived_columns_follow_their_sources():
    table = pd.DataFrame({"met": [2, 9], "unmet": [9, 9], "n": [11, 18], "share": [0.2, 0.5]})
    out = suppress(
        table,
        ["met", "unmet"],
        total_column="n",
        derived_columns={"share": ["met", "n"]},
    )
    assert out["share"].tolist() == [C, 0.5]
    assert out.loc[0, ["met", "unmet", "n"]].tolist() == [C, C, 11]


def test_a_two_way_table_hides_no_recoverable_cell():
    values = np.array(
        [
            [3, 10, 12, 25],
            [8, 2, 9, 19],
            [15, 14, 6, 35],
        ]
    )
    table = pd.DataFrame(values, columns=["a", "b", "c", "total"]).assign(group="all")
    mask = suppression_mask(table, ["a", "b", "c"], total_column="total", group_columns="group")
    hidden = mask.to_numpy()
    assert hidden[0, 0] and hidden[1, 1]
    assert recoverable(values, hidden, 3, [[0, 1, 2]]) == []


def test_a_cell_pinned_by_several_totals_together_is_protected():
    """Rows 0 and 2 each hide a and the total; row 3 hides a, b and c. Every row and
    every column then holds 2+ hidden cells, yet (row 0) + (row 2) - (column a) -
    (column total) gives row 3's a exactly. The rank check catches it and hides row 3's
    total too."""
    values = np.array([[5, 11, 0, 16], [11, 10, 3, 24], [4, 0, 0, 4], [2, 9, 8, 19]])
    table = pd.DataFrame(values, columns=["a", "b", "c", "total"]).assign(group="all")
    hidden = suppression_mask(
        table, ["a", "b", "c"], total_column="total", group_columns="group"
    ).to_numpy()
    pinned = hidden.copy()
    pinned[3, 3] = False
    assert recoverable(values, pinned, 3, [[0, 1, 2, 3]]) == [(3, 0)]
    assert hidden.astype(int).tolist() == [[1, 0, 0, 1], [0, 1, 1, 0], [1, 0, 0, 1], [1, 1, 1, 1]]
    assert recoverable(values, hidden, 3, [[0, 1, 2, 3]]) == []


def _check(values: np.ndarray, groups: list[str], min_count: int, with_total: bool) -> None:
    columns = ["a", "b", "c"]
    table = pd.DataFrame(values, columns=columns)
    total = None
    if with_total:
        table["total"] = values.sum(axis=1)
        total = "total"
    table["group"] = groups
    table["share"] = 0.5
    out = suppress(
        table,
        columns,
        min_count=min_count,
        total_column=total,
        group_columns="group",
        derived_columns=["share"],
    )
    cells = [*columns, *([total] if total else [])]
    shown = out[cells].to_numpy(dtype=object)
    hidden = shown == C
    # 1. nothing shown is a small count
    for value in shown[~hidden]:
        assert value == 0 or value >= min_count
    # 2. every small count is hidden
    raw = table[cells].to_numpy()
    assert hidden[(raw >= 1) & (raw < min_count)].all()
    # 3. no row or group holds exactly one hidden cell, and no total pins one down
    members = [list(np.flatnonzero(np.array(groups) == g)) for g in sorted(set(groups))]
    assert not (hidden.sum(axis=1) == 1).any()
    for rows in members:
        if len(rows) >= 2:
            assert not (hidden[rows].sum(axis=0) == 1).any()
    assert recoverable(raw, hidden, 3 if total else None, members) == []
    # 4. derived figures of a row with any hidden cell are hidden
    assert ((out["share"] == C).to_numpy() == hidden.any(axis=1)).all()


@settings(max_examples=100, deadline=None)
@given(
    data=st.data(),
    n_rows=st.integers(1, 6),
    min_count=st.integers(2, 6),
    with_total=st.booleans(),
)
def test_suppression_properties(data, n_rows, min_count, with_total):
    values = np.array(
        data.draw(
            st.lists(
                st.lists(st.integers(0, 14), min_size=3, max_size=3),
                min_size=n_rows,
                max_size=n_rows,
            )
        )
    )
    groups = data.draw(st.lists(st.sampled_from("xy"), min_size=n_rows, max_size=n_rows))
    _check(values, groups, min_count, with_total)


def test_bad_arguments():
    table = pd.DataFrame({"n": [1, 2]})
    with pytest.raises(ValueError, match="no column"):
        suppress(table, ["m"])
    with pytest.raises(ValueError, match="min_count"):
        suppress(table, ["n"], min_count=0)
    with pytest.raises(ValueError, match="negative"):
        suppress(pd.DataFrame({"n": [-1]}), ["n"])


# ----------------------------------------------------------------- suppress_breakdown


def breakdown() -> pd.DataFrame:
    """A by-priority summary's shape: cases behind each cell, and its figures."""
    rows = []
    for key, cases in {
        "s1": (8, 3, 6),  # neglect small: exploitation (6 < 8) hidden too
        "s2": (0, 9, 7),  # nothing small; the zero is shown
        "s3": (2, 0, 9),  # early help small: 9 is the only other non-zero row
        "s4": (1, 4, 12),  # two small rows: no secondary needed
    }.items():
        for priority, n_cases in zip(("early_help", "neglect", "exploitation"), cases, strict=True):
            rows.append(
                {
                    "standard_key": key,
                    "priority": priority,
                    "n": 3 * n_cases,
                    "met_or_better": n_cases,
                    "share": 1 / 3 if n_cases else np.nan,
                    "cases": n_cases,
                }
            )
    return pd.DataFrame(rows)


def test_breakdown_primary_and_secondary():
    out = suppress_breakdown(breakdown(), "priority", flag_column="why")
    shown = out.pivot(index="standard_key", columns="priority", values="cases")
    shown = shown[["early_help", "neglect", "exploitation"]]
    assert shown.values.tolist() == [
        [8, C, C],
        [0, 9, 7],
        [C, 0, C],
        [C, C, 12],
    ]
    row = out[(out["standard_key"] == "s1") & (out["priority"] == "neglect")].iloc[0]
    assert row[["n", "met_or_better", "share", "cases"]].tolist() == [C, C, C, C]
    assert row["why"] == "fewer than 5 cases"
    assert out.loc[2, "why"] == "secondary"
    zero = out[(out["standard_key"] == "s2") & (out["priority"] == "early_help")].iloc[0]
    assert zero["cases"] == 0 and np.isnan(zero["share"])
    # algebra: within each standard, the hidden cells' cases cannot be had from the total
    for _, group in out.groupby("standard_key"):
        assert (group["cases"] == C).sum() != 1


def test_breakdown_without_total_or_by_applies_only_the_primary_rule():
    out = suppress_breakdown(breakdown(), "priority", total_shown=False)
    assert (out["cases"] == C).sum() == 4
    overall = suppress_breakdown(breakdown(), None)
    assert (overall["cases"] == C).sum() == 4


def test_breakdown_of_a_real_summary():
    fw = load_framework("2018-19")
    ratings = pd.DataFrame(
        {
            "agency": ["WMP", "CCG", "WMP"],
            "case_ref": ["C01", "C01", "C02"],
            "standard_key": ["threshold-guidance"] * 3,
            "rating": pd.Series(["met", "unmet", "met"], dtype=RATING_DTYPE),
            "priority": ["neglect", "neglect", "early_help"],
        }
    )
    summary = standard_summary(ratings, fw, by="priority")
    out = suppress_breakdown(summary, "priority", min_count=2)
    s1 = out[out["standard"] == 1]
    assert (s1[["n", "share", "low", "high", "cases", "met"]] == C).all().all()
    assert s1["text"].notna().all() and s1["kloe_title"].notna().all()
    assert (out[out["standard"] == 2]["cases"] == 0).all()


# ------------------------------------------- counts of children quoted in sentences


def test_a_count_whose_complement_is_small_is_hidden():
    """Issue 9, item 5: "7 of the 8 cases flagged were discussed" reveals that 1 was
    not. The remainder (8 - 7) is a cell of the row, so the 7 is hidden beside it."""
    assert suppress_counts({"discussed": 7}, 8) == {"discussed": C, "total": 8}
    assert suppress_counts({"discussed": 7, "not_discussed": 1}, 8) == {
        "discussed": C,
        "not_discussed": C,
        "total": 8,
    }
    # small in itself; the remainder (6) is hidden beside it, never a quoted part
    assert suppress_counts({"action": 2}, 8) == {"action": C, "total": 8}
    assert suppress_counts({"a": 2, "b": 10}, 24) == {"a": C, "b": 10, "total": 24}
    # no remainder to hide: the next smallest part goes
    assert suppress_counts({"a": 2, "b": 10, "d": 12}, 24) == {"a": C, "b": C, "d": 12, "total": 24}
    # a small total hides everything small; zeros are shown
    assert suppress_counts({"a": 3}, 3) == {"a": C, "total": C}
    assert suppress_counts({"a": 0}, 3) == {"a": 0, "total": C}
    # nothing small: all shown, at any threshold
    assert suppress_counts({"a": 12}, 12) == {"a": 12, "total": 12}
    assert suppress_counts({"a": 0}, 12) == {"a": 0, "total": 12}
    assert suppress_counts({"a": 6}, 12, min_count=6) == {"a": 6, "total": 12}
    assert suppress_counts({"a": 7}, 8, min_count=1) == {"a": 7, "total": 8}
    # parts without a total: a row whose total may be published elsewhere
    assert suppress_counts({"a": 2, "b": 9}) == {"a": C, "b": C}


def test_suppress_counts_shows_nothing_small_and_no_small_remainder():
    for min_count in (2, 5):
        for total in range(16):
            for part in range(total + 1):
                shown = suppress_counts({"a": part}, total, min_count)
                for value in shown.values():
                    assert value == C or value == 0 or value >= min_count
                if C not in shown.values():  # the reader can subtract
                    assert total - part == 0 or total - part >= min_count


def test_suppress_counts_bad_arguments():
    with pytest.raises(ValueError, match="more than the total"):
        suppress_counts({"a": 3, "b": 4}, 5)
    with pytest.raises(ValueError, match="whole numbers"):
        suppress_counts({"a": -1}, 5)
    with pytest.raises(ValueError, match="whole numbers"):
        suppress_counts({"a": 1.5}, 5)
    with pytest.raises(ValueError, match="total"):
        suppress_counts({"total": 1}, 5)
    with pytest.raises(ValueError, match="min_count"):
        suppress_counts({"a": 1}, 5, min_count=0)


# ----------------------------------------- totals published beside a suppressed breakdown

PRIORITIES = ("early_help", "neglect", "exploitation")


def by_priority(cases: dict[str, tuple[int, int, int]]) -> pd.DataFrame:
    """A by-priority KLOE summary's shape from cases per theme (4 ratings per case,
    3 of them met or better)."""
    rows = []
    for key, per_theme in cases.items():
        for priority, n_cases in zip(PRIORITIES, per_theme, strict=True):
            rows.append(
                {
                    "kloe_key": key,
                    "priority": priority,
                    "n": 4 * n_cases,
                    "met_or_better": 3 * n_cases,
                    "cases": n_cases,
                }
            )
    return pd.DataFrame(rows)


def test_a_total_resting_on_one_suppressed_theme_is_to_be_hidden():
    """Issue 9, item 5: only three early-help cases rate KLOE 6. The early-help row
    shows c, yet the KLOE's total is the same three cases."""
    table = by_priority({"k1": (8, 9, 7), "k6": (3, 0, 0), "k2": (8, 0, 7)})
    shown = suppress_breakdown(table, "priority", within="kloe_key")
    k6 = shown[shown["kloe_key"] == "k6"]
    assert k6["cases"].tolist() == [C, 0, 0]  # the table can do no more
    total = table.groupby("kloe_key")[["n", "met_or_better", "cases"]].sum().loc["k6"]
    assert (
        total.tolist()
        == table.loc[table["kloe_key"] == "k6"].iloc[0][["n", "met_or_better", "cases"]].tolist()
    )  # the hole: the total is the hidden row
    assert totals_to_suppress(table, "priority", within="kloe_key") == {"k6"}
    # found by itself from the column kloe_key; a lower threshold leaves 3 cases shown
    assert totals_to_suppress(table, "priority") == {"k6"}
    assert totals_to_suppress(table, "priority", min_count=3) == set()


def test_a_total_is_kept_where_two_hidden_cells_share_it():
    table = by_priority(
        {
            "two": (3, 0, 9),  # 3 small, 9 hidden beside it: 12 = c + c
            "small": (2, 3, 0),  # both small: 5 = c + c, either split possible
            "none": (0, 0, 0),
            "big": (8, 9, 7),
        }
    )
    hidden = suppress_breakdown(table, "priority", within="kloe_key")["cases"].eq(C)
    assert hidden.groupby(table["kloe_key"]).sum().to_dict() == {
        "two": 2,
        "small": 2,
        "none": 0,
        "big": 0,
    }
    assert totals_to_suppress(table, "priority", within="kloe_key") == set()


def test_a_total_leaving_one_case_per_hidden_theme_is_to_be_hidden():
    """c, c and 20 of 22 cases: every hidden theme holds at least one case, so the
    total says each holds exactly one."""
    table = by_priority({"ones": (1, 1, 20), "twos": (2, 1, 20)})
    assert totals_to_suppress(table, "priority", within="kloe_key") == {"ones"}


@settings(max_examples=150, deadline=None)
@given(
    cases=st.lists(st.tuples(*[st.integers(0, 9)] * 3), min_size=1, max_size=5),
    min_count=st.integers(2, 6),
)
def test_no_published_total_gives_a_hidden_theme_away(cases, min_count):
    table = by_priority({f"k{i}": c for i, c in enumerate(cases)})
    hidden = suppress_breakdown(table, "priority", min_count, within="kloe_key")["cases"].eq(C)
    withheld = totals_to_suppress(table, "priority", min_count, within="kloe_key")
    for key, rows in table.groupby("kloe_key").groups.items():
        secret = hidden[rows]
        exposed = secret.sum() == 1 or (
            secret.any() and table.loc[rows, "cases"][secret].sum() == secret.sum()
        )
        assert (key in withheld) == exposed, (key, table.loc[rows, "cases"].tolist())


def test_suppress_totals_marks_the_given_keys_where_asked():
    long = pd.DataFrame(
        {
            "kloe_key": ["k1", "k1", "k6", "k6"],
            "cycle": ["2017-18", "2018-19"] * 2,
            "current": [False, True] * 2,
            "standards": [3, 3, 2, 2],
            "n": [40, 44, 10, 12],
            "cases": [10, 11, 5, 3],
            "met_or_better": [30, 33, 6, 9],
            "share": [0.75, 0.75, 0.6, 0.75],
            "low": [0.6] * 4,
            "high": [0.9] * 4,
        }
    )
    out = suppress_totals(long, {"k6"}, "kloe_key", where="current")
    stats = ["n", "cases", "met_or_better", "share", "low", "high"]
    assert out.loc[3, stats].tolist() == [C] * 6
    assert out.loc[2, stats].tolist() == long.loc[2, stats].tolist()  # an earlier cycle
    assert out.loc[:1, stats].equals(long.loc[:1, stats].astype(object))
    assert out["standards"].tolist() == [3, 3, 2, 2]
    # every row of the key without `where`; a mask works as a column does
    assert (suppress_totals(long, ["k6"], "kloe_key")["n"] == C).tolist() == [0, 0, 1, 1]
    masked = suppress_totals(long, {"k6"}, "kloe_key", where=long["current"].to_numpy())
    assert masked.equals(out)
    # a nan marker keeps numbers numbers, for a chart; nothing to hide leaves it as is
    drawn = suppress_totals(long, {"k6"}, "kloe_key", where="current", marker=np.nan)
    assert drawn["share"].dtype == "float64" and np.isnan(drawn.loc[3, "share"])
    assert suppress_totals(long, set(), "kloe_key").equals(long)
    # several key columns: tuples
    two = suppress_totals(long, {("k1", "2018-19")}, ["kloe_key", "cycle"], columns=["n"])
    assert two["n"].tolist() == [40, C, 10, 12] and two["share"].tolist() == long["share"].tolist()
    with pytest.raises(ValueError, match="one value per row"):
        suppress_totals(long, {"k6"}, "kloe_key", where=[True])
    with pytest.raises(ValueError, match="no column"):
        suppress_totals(long, {"k6"}, "kloe")
    with pytest.raises(ValueError, match="within"):
        totals_to_suppress(long.drop(columns="kloe_key"), "cycle")


def test_a_complement_gives_a_small_count_away_so_both_are_hidden():
    """7 of the 8 cases discussed reveals that 1 was not."""
    from audit_analysis.analysis.disclosure import suppress_counts

    shown = suppress_counts({"discussed": 7, "not_discussed": 1}, total=8, min_count=5)
    assert shown == {"discussed": "c", "not_discussed": "c", "total": 8}
    assert suppress_counts({"a": 10, "b": 6}, 16) == {"a": 10, "b": 6, "total": 16}
    assert suppress_counts({"a": 0, "b": 12}, 12) == {"a": 0, "b": 12, "total": 12}
    assert suppress_counts({"a": 3, "b": 1}, 4)["total"] == "c"
    with pytest.raises(ValueError, match="more than the total"):
        suppress_counts({"a": 3, "b": 4}, 5)


def test_executive_sentences_quote_no_small_count_of_children():
    from types import SimpleNamespace

    from audit_analysis.sections.data_quality import records_sentences

    deep = pd.DataFrame(
        {
            "case_ref": [f"C{i}" for i in range(8)],
            "discussed": [True] * 7 + [False],
            "reason_not_discussed": [None] * 7 + ["moved away"],
            "themes": None,
            "action_required": [True, True] + [False] * 6,
        }
    )
    feedback = pd.DataFrame(
        {
            "case_ref": [f"C{i}" for i in range(9)],
            "invited": True,
            "responded": [True] * 3 + [False] * 6,
        }
    )
    data = SimpleNamespace(deep_dive=deep, family_feedback=feedback)
    text = " ".join(records_sentences(data, min_count=5))
    assert "8 cases were flagged" in text and "9 families were invited" in text
    for small in ("7", "1 ", "2 ", "3 ", "6 ", "33%"):
        assert small not in text.replace("8 cases", "").replace("9 families", "")
    # with the threshold at 1 nothing is small, and every figure is quoted
    text = " ".join(records_sentences(data, min_count=1))
    assert "7 were discussed" in text and "2 needed immediate action" in text
    assert "3 of 9 families" in text


def test_a_total_that_equals_a_suppressed_cell_is_exposed():
    """Only three early-help cases rate KLOE 6 and no neglect or exploitation case does:
    hiding the early-help row is not enough while the KLOE 6 total is published."""

    rows = []
    for kloe in load_framework("2018-19").kloes:
        for priority in ("early_help", "neglect", "exploitation"):
            cases = (3 if priority == "early_help" else 0) if kloe.number == 6 else 8
            rows.append(
                {
                    "kloe_key": kloe.key,
                    "priority": priority,
                    "cases": cases,
                    "n": cases * 4,
                    "met_or_better": cases * 3,
                }  # fmt: skip
            )
    table = pd.DataFrame(rows)
    assert totals_to_suppress(table, "priority", 5, within="kloe_key") == {"dispute-resolution"}
    suppressed = suppress_breakdown(table, "priority", 5, within="kloe_key")
    kloe6 = suppressed[suppressed["kloe_key"] == "dispute-resolution"]
    assert kloe6["n"].tolist() == ["c", 0, 0]  # what the table alone can do
    # with two themes rating KLOE 6, the second is hidden instead and the total is safe
    table.loc[(table["kloe_key"] == "dispute-resolution") & (table["priority"] == "neglect"),
              ["cases", "n", "met_or_better"]] = [9, 36, 20]  # fmt: skip
    assert totals_to_suppress(table, "priority", 5, within="kloe_key") == set()
