"""The explorer's change view (issue 21): "which standards got worse, in which agencies,
and why", checked against the trends page's own tables. The views are computed here
without widgets (:func:`audit_analysis.explore.views.compute` on
:class:`~audit_analysis.explore.state.Cycles`); the controls are driven where they are the
subject. On the small study of tests/study.py."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from audit_analysis import load_cycle
from audit_analysis.analysis.summaries import with_case_characteristics
from audit_analysis.analysis.trends import trend_table
from audit_analysis.explore import Explorer
from audit_analysis.explore import views as v
from audit_analysis.explore.state import ALL, Cycles, Selection
from audit_analysis.render.section import Table

CYCLE = "2019-20"
EARLIER = ["2017-18", "2018-19"]
CHANGE = ["diff", "diff_low", "diff_high", "p", "p_adjusted"]
OURS = ["change", "change_low", "change_high", "p", "p_adjusted"]


@pytest.fixture(scope="module")
def cycles(study):
    root, _ = study
    return {c: load_cycle(root / "data", c) for c in [*EARLIER, CYCLE]}


@pytest.fixture(scope="module")
def source(cycles):
    return Cycles(cycles)


def changes(source, **fields) -> pd.DataFrame:
    s = Selection(cycle=CYCLE, view="changes", **fields)
    return source.changes(s, fields.get("against", EARLIER[-1]))


def only(data, keep: np.ndarray):
    """A cycle with only some of its ratings: what the trends page would see of them."""
    return replace(data, ratings=data.ratings[keep].reset_index(drop=True))


def assert_same_verdicts(ours: pd.DataFrame, page: pd.DataFrame, earlier: str) -> None:
    """Every standard of the current framework: the change, its interval, the p-value,
    the adjusted p-value and the verdict are the trends table's."""
    page = page.set_index("standard_key")
    ours = ours.set_index("standard_key")
    assert len(ours) == len(page.dropna(subset=[f"standard_{CYCLE}"]))
    for key, row in ours.iterrows():
        for mine, theirs in zip(OURS, CHANGE, strict=True):
            assert row[mine] == pytest.approx(
                page.at[key, f"{theirs}_vs_{earlier}"], rel=1e-9, abs=1e-12, nan_ok=True
            ), (key, mine)
        assert row["verdict"] == page.at[key, f"verdict_vs_{earlier}"], key


@pytest.mark.parametrize("earlier", EARLIER)
def test_all_agencies_column_gives_the_trends_pages_verdicts(source, cycles, earlier):
    """With no filter, the column of all agencies is the trends page, standard by
    standard: its table against every earlier cycle at once (as the page runs it) and
    against this one alone give the same verdicts as the explorer."""
    ours = changes(source, against=earlier)
    ours = ours[ours["column"] == ALL]
    current = cycles[CYCLE]
    page = trend_table(current, [cycles[c] for c in EARLIER])
    assert_same_verdicts(ours, page, earlier)
    assert_same_verdicts(ours, trend_table(current, [cycles[earlier]]), earlier)
    # a table with something to say: changes estimated, one of them at least clear
    assert ours["verdict"].isin(["improved", "declined", "no clear change"]).sum() > 10
    tested = ours.dropna(subset=["p"])
    assert (tested["p_adjusted"] >= tested["p"] - 1e-12).all()


def test_an_agencys_column_is_the_trends_rule_on_its_ratings(source, cycles):
    """An agency's column: the trends page's verdicts had it been run on that agency's
    ratings alone (its standards adjusted together, as the page adjusts them)."""
    ours = changes(source)
    now, then = cycles[CYCLE], cycles[EARLIER[-1]]
    agencies = sorted(set(now.ratings["agency"]))
    assert set(ours["column"]) == {ALL, *agencies}
    for agency in agencies:
        page = trend_table(
            only(now, (now.ratings["agency"] == agency).to_numpy()),
            [only(then, (then.ratings["agency"] == agency).to_numpy())],
        )
        assert_same_verdicts(ours[ours["column"] == agency], page, EARLIER[-1])


def test_priority_theme_columns_and_filters_follow_the_same_rule(source, cycles):
    now, then = cycles[CYCLE], cycles[EARLIER[-1]]
    themed = {c: with_case_characteristics(d.ratings, d.cases) for c, d in cycles.items()}

    def theme(data, priority, agency=None):
        keep = (themed[data.cycle]["priority"] == priority).to_numpy()
        if agency:
            keep = keep & (data.ratings["agency"] == agency).to_numpy()
        return only(data, keep)

    ours = changes(source, by="priority")
    for priority in ("early_help", "neglect", "exploitation"):
        page = trend_table(theme(now, priority), [theme(then, priority)])
        assert_same_verdicts(ours[ours["column"] == priority], page, EARLIER[-1])
    # by agency with a priority filter: both cycles' cases of that theme
    ours = changes(source, priority="neglect")
    page = trend_table(theme(now, "neglect"), [theme(then, "neglect")])
    assert_same_verdicts(ours[ours["column"] == ALL], page, EARLIER[-1])
    # by theme with an agency filter: that agency's ratings of each theme's cases
    ours = changes(source, by="priority", agency="WMP")
    page = trend_table(theme(now, "neglect", "WMP"), [theme(then, "neglect", "WMP")])
    assert_same_verdicts(ours[ours["column"] == "neglect"], page, EARLIER[-1])


def test_the_view_sorts_by_change_filters_to_clear_changes_and_counts_each_cell(source):
    s = Selection(cycle=CYCLE, view="changes", against=EARLIER[0])  # two cycles of gains
    view = v.compute(source, s)
    listed = view.table
    assert len(listed) > 20
    assert (np.diff(listed["change"].to_numpy()) >= 0).all()  # largest fall first
    best = v.compute(source, replace(s, order="best")).table
    assert (np.diff(best["change"].to_numpy()) <= 0).all()
    # the grid's rows: each standard by its largest fall that can be estimated
    grid = next(b for b in view.blocks if isinstance(b, Table)).frame
    falls = listed.groupby("standard")["change"].min()
    numbers = [int(label.split(".")[0]) for label in grid["standard"]]
    shown = [falls.get(n, np.inf) for n in numbers]
    assert shown == sorted(shown) and set(numbers) >= set(falls.index)
    by_number = v.compute(source, replace(s, order="standard")).table
    assert (np.diff(by_number["standard"].to_numpy()) >= 0).all()
    clear = v.compute(source, replace(s, clear_only=True))
    assert set(clear.table["verdict"]) <= {"improved", "declined"}
    assert len(clear.table) == listed["verdict"].isin(["improved", "declined"]).sum() > 0
    grid, cells = [b for b in clear.blocks if isinstance(b, Table)]
    # the grid: a row per standard with a clear change, a column per agency and all
    assert list(grid.frame.columns) == [
        "standard",
        "All agencies",
        "CCG",
        "CSC-SW",
        "EDU",
        "SCH",
        "WMP",
    ]
    assert len(grid.frame) == clear.table["standard_key"].nunique()
    marks = "".join(grid.frame.iloc[:, 1:].to_numpy().ravel())
    assert marks.count(v.RISE) + marks.count(v.FALL) == len(clear.table)
    # the list: each cell's share, ratings and cases in both cycles
    first = clear.table.iloc[0]
    row = cells.frame.iloc[0]
    assert row[EARLIER[0]] == (
        f"{first.share_then:.0%} of {first.n_then:,} ({v.plural(first.cases_then, 'case')})"
    )
    assert row[CYCLE].endswith(f"of {first.n_now:,} ({v.plural(first.cases_now, 'case')})")
    assert row["Verdict"] == first.verdict
    # the headline counts them
    falls = int((clear.table["verdict"] == "declined").sum())
    assert f"{v.plural(falls, 'clear fall')} and" in clear.headline


def test_a_cell_opens_its_cases_and_evidence_in_both_cycles(source, cycles):
    s = Selection(cycle=CYCLE, view="changes", clear_only=False)
    listed = v.compute(source, s).table
    pick = listed[listed["column"] != ALL].iloc[0]
    view = v.compute(source, replace(s, cell=f"{pick.standard_key}|{pick.column}"))
    got = view.cell_table
    for cycle, n in ((EARLIER[-1], pick.n_then), (CYCLE, pick.n_now)):
        ratings = cycles[cycle].ratings
        want = ratings[
            (ratings["standard_key"] == pick.standard_key) & (ratings["agency"] == pick.column)
        ]
        mine = got[got["cycle"] == cycle]
        assert sorted(mine["case_ref"]) == sorted(want["case_ref"])
        assert sorted(mine["evidence"]) == sorted(
            e if isinstance(e, str) else "" for e in want["evidence"]
        )
        on_scale = mine["rating"].isin(["unmet", "partially_met", "met", "exceeded"])
        assert on_scale.sum() == n  # the cell's count is these ratings
    assert f"Standard {pick.standard}, {pick.column}:" in view.text()
    assert "worst rating first" in view.text()


def test_filters_the_view_ignores_are_named_in_its_headline(source):
    s = Selection(cycle=CYCLE, view="changes", agency="WMP", priority="neglect", age_band="11-15")
    text = v.compute(source, s).headline
    assert "Filters applied: priority theme Neglect; age band 11 to 15 years." in text
    assert "Ignored here (this view's columns are the agencies): agency WMP" in text
    text = v.compute(source, replace(s, by="priority")).headline
    assert "Filters applied: agency WMP" in text and "Ignored here" in text
    assert "priority theme Neglect" in text.split("Ignored here")[1]
    text = v.compute(source, replace(s, view="summary")).headline
    assert "Ignored" not in text


def test_the_controls_drive_the_change_view(cycles, tmp_path):
    ex = Explorer(cycles, CYCLE, EARLIER, export_dir=tmp_path)
    assert ex.state.view == "changes"
    assert ex.controls["against"].options == tuple(reversed(EARLIER))
    assert ex.controls["against"].value == EARLIER[-1]  # the latest earlier cycle
    ex.controls["against"].value = EARLIER[0]
    assert f"against {EARLIER[0]}" in ex.view.headline
    ex.controls["cycle"].value = EARLIER[0]  # nothing before it: the view says so
    assert ex.message == f"No cycle before {EARLIER[0]} to compare with."
    ex.controls["cycle"].value = CYCLE  # and back: the comparison chosen is kept
    assert ex.controls["against"].value == EARLIER[0]
    assert f"against {EARLIER[0]}" in ex.view.headline
    ex.controls["clear_only"].value = True
    options = ex.controls["cell"].options
    assert len(options) == len(ex.table) + 1  # each listed cell, and none
    ex.controls["cell"].value = options[1][1]
    assert ex.view.cell_table is not None and "Standard " in ex._out["answer"].value
    ex.controls["by"].value = "priority"  # another table: no cell is picked
    assert ex.state.cell == "" and ex.view.cell_table is None
    assert ex.controls["priority"].options[1] == ("Early help", "early_help")
    assert ex.controls["age_band"].options[3] == ("11 to 15 years", "11-15")
    ex.export_table()
    written = list(tmp_path.glob("*.csv"))
    assert [p.name for p in written] == [f"{CYCLE}-changes-all-vs-{EARLIER[0]}-priority.csv"]
    assert written[0].stat().st_mode & 0o777 == 0o600


def test_with_no_earlier_cycle_the_change_view_says_so(cycles):
    ex = Explorer({"2017-18": cycles["2017-18"]}, widgets=False)
    assert ex.message == "No cycle before 2017-18 to compare with."


@pytest.mark.parametrize(("count", "words"), [(1, "1 case"), (0, "0 cases"), (1204, "1,204 cases")])
def test_counts_are_singular_or_plural(count, words):
    assert v.plural(count, "case") == words
