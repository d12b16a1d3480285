"""The QA analyst's explorer (issue 12), driven headless: each control set as a click
in JupyterLab would set it, and the tables and chart data that result checked against
the suite's own summaries and trend tables. On the small study of tests/study.py (its
own invented cases, hostile evidence text included), not the demo data."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

import nbformat
import numpy as np
import pandas as pd
import pytest
from study import FORMULA, HOSTILE

from audit_analysis import load_cycle
from audit_analysis.analysis.summaries import add_shares, tally, with_case_characteristics
from audit_analysis.analysis.trends import kloe_trend_table, overall_trend, trend_table
from audit_analysis.explore import (
    BANNER,
    NO_MATCH,
    NO_WIDGETS,
    VIEWS,
    Explorer,
    explorer,
    tally_selection,
)
from audit_analysis.pipeline.runner import NOTEBOOK_DIR, NOTEBOOKS

CYCLE = "2019-20"
EARLIER = ["2017-18", "2018-19"]
STATS = ["n", "met_or_better", "cases", "share", "low", "high"]


@pytest.fixture(scope="module")
def cycles(study):
    root, _ = study
    return {c: load_cycle(root / "data", c) for c in [*EARLIER, CYCLE]}


@pytest.fixture
def ex(cycles, tmp_path):
    return Explorer(cycles, CYCLE, EARLIER, export_dir=tmp_path / "exports", view="summary")


def themed(data) -> pd.DataFrame:
    return with_case_characteristics(data.ratings, data.cases)


def expected(ratings: pd.DataFrame, keys=None) -> pd.DataFrame:
    """The suite's own tally and shares of ``ratings`` (one row, or one per ``keys``)."""
    if keys is None:
        ratings = ratings.assign(_all=1)
        keys = ["_all"]
    return add_shares(tally(ratings, keys))


def assert_stats(got: pd.Series | pd.DataFrame, want: pd.Series | pd.DataFrame) -> None:
    for column in STATS:
        a = np.asarray(got[column], dtype=float)
        b = np.asarray(want[column], dtype=float)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True, err_msg=column)


def set_control(ex: Explorer, name: str, value) -> None:
    ex.controls[name].value = value
    assert ex.error is None
    assert ex.state.__getattribute__(name) == (tuple(value) if name == "compare" else value)


# ----------------------------------------------------------------- the counting


def test_counting_once_per_cycle_gives_the_suites_own_tally(cycles):
    """The explorer's fast counts (an array of case x agency x standard x rating) give
    exactly summaries.tally + add_shares on the same ratings, for random selections."""
    data = cycles[CYCLE]
    ex = Explorer(cycles, CYCLE, [], widgets=False, view="summary")
    ratings = themed(data)
    rng = np.random.default_rng(3)
    fw = data.framework
    scopes = (
        ["all"] + [f"kloe:{k.key}" for k in fw.kloes] + [f"standard:{s.key}" for s in fw.standards]
    )
    agencies = ["", *sorted(ratings["agency"].unique())]
    for _ in range(40):
        scope = scopes[rng.integers(len(scopes))]
        agency = agencies[rng.integers(len(agencies))]
        priority = ["", "early_help", "neglect", "exploitation"][rng.integers(4)]
        band = ["", "5-10", "11-15"][rng.integers(3)]
        ex.set(scope=scope, agency=agency, priority=priority, age_band=band, view="summary")
        mask = np.ones(len(ratings), dtype=bool)
        if scope.startswith("kloe:"):
            keys = {s.key for s in fw.standards if s.kloe_key == scope[5:]}
            mask &= ratings["standard_key"].isin(keys).to_numpy()
        elif scope.startswith("standard:"):
            mask &= (ratings["standard_key"] == scope[9:]).to_numpy()
        if agency:
            mask &= (ratings["agency"] == agency).to_numpy()
        if priority:
            mask &= (ratings["priority"] == priority).to_numpy()
        if band:
            mask &= (ratings["age_band"] == band).to_numpy()
        chosen = ratings[mask]
        on_scale = chosen["rating"].isin(["unmet", "partially_met", "met", "exceeded"])
        if not on_scale.any():
            assert ex.message.startswith(NO_MATCH)
            continue
        want = expected(chosen)
        got = ex.table.iloc[0]
        assert_stats(got, want.iloc[0])
        if len(ex.table) > 1:  # then one row per standard of the scope follows
            per = expected(chosen, ["standard_key"]).set_index("standard_key")
            rows = ex.table.iloc[1:].set_index("standard_key")
            rated = rows[rows["n"] + rows["not_applicable"] + rows["not_recorded"] > 0]
            assert_stats(rated, per.loc[rated.index])


def test_tally_selection_matches_tally_on_a_hand_made_example():
    # two cases: case 0 has met, unmet (group 0); case 1 exceeded, n/a (group 0)
    counts = np.zeros((1, 2, 6), dtype=int)
    counts[0, 0, [1, 3]] = 1
    counts[0, 1, [0, 4]] = 1
    ratings = pd.DataFrame(
        {
            "g": [0, 0, 0, 0],
            "case_ref": ["A", "A", "B", "B"],
            "rating": ["met", "unmet", "exceeded", "not_applicable"],
        }
    )
    got = tally_selection(counts)
    want = tally(ratings, ["g"])
    for column in ["exceeded", "met", "unmet", "not_applicable", "n", "met_or_better", "cases"]:
        assert got[column].iloc[0] == want[column].iloc[0], column
    assert got["case_ss"].iloc[0] == pytest.approx(want["case_ss"].iloc[0])


# ----------------------------------------------------------------- every control


def test_agency_control_filters_every_view(ex, cycles):
    data = themed(cycles[CYCLE])
    agency = sorted(data["agency"].unique())[1]
    set_control(ex, "agency", agency)
    assert_stats(ex.table.iloc[0], expected(data[data["agency"] == agency]).iloc[0])
    assert f"agency {agency}" in ex.view.headline
    set_control(ex, "view", "agencies")
    assert list(ex.table["agency"]) == ["all", agency]
    assert list(ex.chart_data["label"]) == ["All in selection", agency]
    set_control(ex, "view", "cases")
    assert list(ex.table.columns[6:]) == [agency]  # one rating column: that agency's
    set_control(ex, "view", "disagreements")
    assert not ex.table.empty
    sides = ex.table["agencies_met"] + ", " + ex.table["agencies_unmet"]
    assert all(agency in s.split(", ") for s in sides)


def test_priority_and_age_band_controls_pick_cases(ex, cycles):
    cases = cycles[CYCLE].cases
    set_control(ex, "view", "cases")
    everyone = set(ex.table["case_ref"])
    assert everyone == set(cases["case_ref"])
    set_control(ex, "priority", "neglect")
    assert set(ex.table["priority"]) == {"neglect"}
    assert set(ex.table["case_ref"]) == set(cases.loc[cases["priority"] == "neglect", "case_ref"])
    set_control(ex, "priority", "")
    set_control(ex, "age_band", "11-15")
    assert set(ex.table["age_band"]) == {"11-15"}
    ages = pd.to_numeric(cases.set_index("case_ref").loc[list(ex.table["case_ref"]), "age"])
    assert ages.between(11, 15).all()
    set_control(ex, "view", "summary")
    data = themed(cycles[CYCLE])
    assert_stats(ex.table.iloc[0], expected(data[data["age_band"] == "11-15"]).iloc[0])


def test_scope_control_picks_a_kloe_or_one_standard(ex, cycles):
    fw = cycles[CYCLE].framework
    kloe = fw.kloes[3]
    set_control(ex, "scope", f"kloe:{kloe.key}")
    assert list(ex.table["standard"].iloc[1:]) == [s.number for s in kloe.standards]
    assert ex.table["row"].iloc[0] == "selection"
    assert len(ex.chart_data) == len(kloe.standards) + 1
    assert f"KLOE {kloe.number}" in ex.view.headline
    standard = kloe.standards[0]
    set_control(ex, "scope", f"standard:{standard.key}")
    assert list(ex.table["standard_key"]) == [standard.key]
    set_control(ex, "view", "cases")
    words = {"Exceeded", "Met", "Partially met", "Not met", "N/A", "Not recorded", ""}
    agencies = list(ex.table.columns[6:])
    assert agencies and set(ex.table[agencies].to_numpy().ravel()) <= words


def test_cycle_and_compare_controls(ex, cycles):
    set_control(ex, "view", "cycles")
    assert list(ex.table["cycle"]) == [*EARLIER, CYCLE]
    assert list(ex.chart_data["label"]) == [*EARLIER, CYCLE]
    set_control(ex, "compare", ("2018-19",))
    assert list(ex.table["cycle"]) == ["2018-19", CYCLE]
    set_control(ex, "compare", ())
    assert list(ex.table["cycle"]) == [CYCLE]
    assert "Choose cycles to compare" in ex.message
    set_control(ex, "compare", tuple(EARLIER))
    set_control(ex, "cycle", "2018-19")
    assert ex.controls["compare"].options == ("2017-18",)  # only earlier cycles
    assert ex.controls["compare"].value == ("2017-18",)
    assert list(ex.table["cycle"]) == ["2017-18", "2018-19"]
    set_control(ex, "cycle", CYCLE)  # and back: both comparisons are still chosen
    assert ex.controls["compare"].value == tuple(EARLIER)
    assert list(ex.table["cycle"]) == [*EARLIER, CYCLE]
    set_control(ex, "compare", ())
    set_control(ex, "cycle", "2018-19")
    set_control(ex, "view", "summary")
    assert ex.view.headline.count("2018-19") == 1
    fw = cycles["2018-19"].framework
    assert list(ex.table["standard_key"].iloc[1:]) == [s.key for s in fw.standards]
    # a standard only in 2019-20's framework is no longer offered
    only_new = {s.key for s in cycles[CYCLE].framework.standards} - {s.key for s in fw.standards}
    offered = {v for _, v in ex.controls["scope"].options}
    assert only_new and not any(f"standard:{k}" in offered for k in only_new)


def test_like_for_like_counts_only_standards_in_every_cycle(ex, cycles):
    keys = [{s.key for s in cycles[c].framework.standards} for c in [*EARLIER, CYCLE]]
    common = set.intersection(*keys)
    assert all(len(k) > len(common) for k in keys[1:])  # standards came and went
    set_control(ex, "view", "cycles")
    assert set(ex.table["standards"]) == {len(common)}
    # the headline counts every standard, the table only those in every cycle: said why
    counted = int(ex.table["n"].iloc[-1])
    total = int(ex.view.blocks[0].text[2].split()[1].replace(",", ""))
    assert counted < total
    assert f"counts {counted:,} ratings here against the {total:,} of the headline" in (
        ex.view.text()
    )
    set_control(ex, "like_for_like", False)
    assert list(ex.table["standards"]) == [len(k) for k in keys]
    assert "of the headline" not in ex.view.text()


@pytest.mark.parametrize("like_for_like", [True, False])
def test_changes_over_the_cycles_are_the_trend_tables(ex, cycles, like_for_like):
    current, earlier = cycles[CYCLE], [cycles[c] for c in EARLIER]
    ex.set(view="cycles", like_for_like=like_for_like)
    overall = overall_trend(current, earlier, common_standards_only=like_for_like).iloc[0]
    kloes = kloe_trend_table(current, earlier, common_standards_only=like_for_like)
    standards = trend_table(current, earlier)
    checks = [("all", overall)]
    checks += [(f"kloe:{r.kloe_key}", r) for _, r in kloes.iterrows()][:3]
    key = current.framework.standards[12].key
    checks.append((f"standard:{key}", standards.set_index("standard_key").loc[key]))
    for scope, row in checks:
        ex.set(scope=scope)
        table = ex.table.set_index("cycle")
        for c in [*EARLIER, CYCLE]:
            for column in ("n", "share", "low", "high"):
                assert table.at[c, column] == pytest.approx(row[f"{column}_{c}"], nan_ok=True)
        for e in EARLIER:
            assert table.at[e, "change"] == pytest.approx(row[f"diff_vs_{e}"])
            assert table.at[e, "change_low"] == pytest.approx(row[f"diff_low_vs_{e}"])
            assert table.at[e, "change_high"] == pytest.approx(row[f"diff_high_vs_{e}"])
            assert table.at[e, "p"] == pytest.approx(row[f"p_vs_{e}"], rel=1e-6)
            # the verdict is the page's: adjusted for the standards compared at once
            assert table.at[e, "verdict"] == row[f"verdict_vs_{e}"], (scope, e)
            assert table.at[e, "p_adjusted"] == pytest.approx(
                row[f"p_adjusted_vs_{e}"], rel=1e-6, nan_ok=True
            )


def test_view_control_switches_tables_and_charts(ex):
    charted = {"summary", "agencies", "cycles"}
    for name in VIEWS:
        set_control(ex, "view", name)
        assert not ex.table.empty, name
        assert (ex.chart_data is not None) == (name in charted), name
        assert (ex.figure() is not None) == (name in charted), name
        # each view's own controls show only in that view
        for group, box in ex._groups.items():
            assert (box.layout.display != "none") == (group == name), (group, name)
        assert ex.buttons["chart"].disabled == (name not in charted)
        assert ("data:image/svg+xml" in ex._out["answer"].value) == (name in charted)


def test_case_control_shows_every_agencys_rating_and_evidence_side_by_side(ex, cycles):
    set_control(ex, "view", "case")
    options = [v for v in ex.controls["case"].options]
    assert set(options) == set(cycles[CYCLE].cases["case_ref"])
    case = options[2]
    set_control(ex, "case", case)
    table = ex.table
    assert set(table["case_ref"]) == {case}
    ratings = cycles[CYCLE].ratings
    mine = ratings[ratings["case_ref"] == case]
    assert len(table) == len(mine)  # every agency's rating of every standard, one a row
    got = table.set_index(["standard_key", "agency"])
    for r in mine.itertuples():
        row = got.loc[(r.standard_key, r.agency)]
        assert row["rating"] == r.rating
        assert row["evidence"] == (r.evidence if isinstance(r.evidence, str) else "")
    assert f"Case {case}" in ex.answer_html()
    # a leftover agency filter does not hide the other agencies; the headline says so
    agency = sorted(mine["agency"].unique())[0]
    ex.set(agency=agency)
    assert set(ex.table["agency"]) == set(mine["agency"])
    assert "Ignored here" in ex.view.headline and f"agency {agency}" in ex.view.headline


def test_sort_controls_order_the_cases(ex):
    set_control(ex, "view", "cases")
    assert list(ex.table["case_ref"]) == sorted(ex.table["case_ref"])
    set_control(ex, "sort_by", "share")
    shares = ex.table["share"].to_numpy()
    assert (np.diff(shares) >= 0).all()
    set_control(ex, "descending", True)
    shares = ex.table["share"].to_numpy()
    assert (np.diff(shares) <= 0).all() and shares[0] > shares[-1]
    agency = ex.current.agencies[0]
    set_control(ex, "sort_by", agency)
    values = ex.table[agency]
    rated = values[values.str.contains("/")]
    fractions = [int(a) / int(b) for a, b in (v.split("/") for v in rated)]
    assert fractions == sorted(fractions, reverse=True)
    assert (values.iloc[len(rated) :].isin(["", "n/a"])).all()  # unrated cases last


# ----------------------------------------------------------------- nothing matches


def empty_filter(cycles) -> tuple[str, str]:
    """A priority theme and age band that no case of the cycle has together."""
    cases = with_case_characteristics(cycles[CYCLE].ratings, cycles[CYCLE].cases)
    present = set(zip(cases["priority"].astype(str), cases["age_band"].astype(str), strict=True))
    for priority, band in itertools.product(
        ["early_help", "neglect", "exploitation"], ["0-4", "5-10", "11-15", "16-17", "18+"]
    ):
        if (priority, band) not in present:
            return priority, band
    raise AssertionError("the study has every combination")


@pytest.mark.parametrize("view", list(VIEWS))
def test_a_filter_that_leaves_no_data_says_so_without_a_chart(ex, cycles, view):
    priority, band = empty_filter(cycles)
    set_control(ex, "view", view)
    set_control(ex, "priority", priority)
    set_control(ex, "age_band", band)  # no exception
    assert ex.message and ex.message.startswith(NO_MATCH)
    assert NO_MATCH in ex._out["answer"].value
    assert ex.chart_data is None and ex.figure() is None
    assert "<img" not in ex._out["answer"].value
    assert ex.buttons["chart"].disabled
    with pytest.raises(ValueError, match="no chart"):
        ex.export_chart()
    set_control(ex, "age_band", "")  # and back: data again
    assert ex.message is None or not ex.message.startswith(NO_MATCH)


def test_only_not_applicable_ratings_are_no_match_too(cycles, tmp_path):
    data = cycles[CYCLE]
    ratings = data.ratings.copy()
    ratings["rating"] = pd.Series("not_applicable", index=ratings.index).astype(
        data.ratings["rating"].dtype
    )
    ex = Explorer({CYCLE: replace(data, ratings=ratings)}, CYCLE, widgets=False)
    assert ex.message.startswith(NO_MATCH) and "n/a" in ex.message
    assert ex.figure() is None


# ----------------------------------------------------------------- safety


def test_every_free_text_is_escaped(ex, cycles):
    ratings = cycles[CYCLE].ratings
    hostile = ratings[ratings["evidence"] == HOSTILE]
    case, key = hostile["case_ref"].iloc[0], hostile["standard_key"].iloc[0]
    ex.set(view="case", case=case)
    assert HOSTILE in ex.table.to_numpy()  # the table keeps the text as written
    assert "<script>" not in ex.answer_html()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in ex.answer_html()
    ex.set(view="disagreements", scope=f"standard:{key}")
    assert (ex.table["evidence_met"] + ex.table["evidence_unmet"]).str.contains("<script>").any()
    assert "<script>" not in ex.answer_html() and "&lt;script&gt;" in ex.answer_html()
    assert "<b>bold</b>" not in ex._out["answer"].value
    assert "&lt;b&gt;" in ex._out["answer"].value
    # and in the change view's cell: the evidence behind its ratings in both cycles
    ex.set(view="changes", scope="all", cell=f"{key}|all")
    assert HOSTILE in set(ex.view.cell_table["evidence"])
    assert "<script>" not in ex._out["answer"].value
    assert "&lt;script&gt;" in ex._out["answer"].value
    assert "<script>" not in ex.static_html()


def test_banner_says_qa_group_only(ex):
    assert "QA group only" in BANNER and "case references" in BANNER and "evidence" in BANNER
    assert "QA group only" in ex._out["banner"].value
    assert ex.widget.children[0] is ex._out["banner"]


# ----------------------------------------------------------------- export


def test_export_buttons_write_a_formula_safe_csv_and_the_chart(ex, cycles, tmp_path):
    ratings = cycles[CYCLE].ratings
    where = ratings[ratings["evidence"] == FORMULA]
    case, key = where["case_ref"].iloc[0], where["standard_key"].iloc[0]
    ex.set(view="case", case=case, scope=f"standard:{key}")
    assert FORMULA in ex.table.to_numpy()  # a cell that starts with the formula
    ex.buttons["csv"].click()
    written = sorted((tmp_path / "exports").glob("*.csv"))
    assert len(written) == 1 and written[0].name == f"{CYCLE}-case-standard-{key}-{case}.csv"
    text = written[0].read_text(encoding="utf-8-sig")
    assert not re.search(r'(^|,)"?=HYPERLINK', text, flags=re.M)
    assert "'=HYPERLINK" in text
    assert str(written[0]) in ex._out["status"].value
    back = pd.read_csv(written[0], encoding="utf-8-sig")
    assert len(back) == len(ex.table)
    ex.set(view="agencies", scope="all")
    ex.buttons["chart"].click()
    png = tmp_path / "exports" / f"{CYCLE}-agencies-all.png"
    svg = png.with_suffix(".svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in svg.read_text(encoding="utf-8")
    shown = svg.read_text(encoding="utf-8")
    assert all(code in shown for code in ex.table["agency"][1:])  # the chart's labels are text
    assert png.stat().st_mode & 0o777 == 0o600 and written[0].stat().st_mode & 0o777 == 0o600
    ex.set(view="cases")
    assert ex.buttons["chart"].disabled
    ex._export("chart")
    assert "Not exported" in ex.status


def test_the_widget_shows_the_chart_as_an_image(ex):
    assert ex._out["answer"].value.count('src="data:image/svg+xml;base64,') == 1
    assert ex.chart_image("svg").startswith(b"<?xml")
    before = ex._out["answer"].value
    set_control(ex, "scope", "kloe:" + ex.current.data.framework.kloes[0].key)
    assert ex._out["answer"].value != before


# ----------------------------------------------------------------- without a widget manager


def test_without_a_widget_manager_it_shows_a_message_and_static_tables(ex, cycles):
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    page = bundle["text/html"]
    assert "widget manager" in page and "JupyterLab" in page
    # what changed (its grid and its list), the share, by agency, over the cycles
    assert page.count("<h3>") == 4 and page.count("<table") == 5
    assert "QA group only" in page
    assert ex.view.name == "summary"  # displaying did not change the view
    plain = Explorer(cycles, CYCLE, EARLIER, widgets=False)
    assert plain.widget is None and plain.controls == {}
    bundle = plain._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" not in bundle
    assert NO_WIDGETS.split(":")[0] in bundle["text/plain"]
    plain.set(agency="WMP", view="agencies")
    assert list(plain.table["agency"]) == ["all", "WMP"]


def test_explorer_finds_the_cycles_in_a_folder(study, tmp_path):
    root, _ = study
    ex = explorer(root / "data", export_dir=tmp_path)
    assert ex.cycles == [*EARLIER, CYCLE]
    assert ex.state.cycle == CYCLE and ex.state.compare == tuple(EARLIER)
    assert list(ex.controls["cycle"].options) == [*EARLIER, CYCLE]
    with pytest.raises(ValueError, match="no cycle folders"):
        explorer(tmp_path / "nothing")


# ----------------------------------------------------------------- the notebook


NOTEBOOK = NOTEBOOK_DIR / "00-explore.ipynb"


def test_explore_notebook_is_committed_clean_and_not_in_the_annual_run():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "(" not in tagged[0].source.split("#")[0]
    assert tagged[0] is code[0]
    assert "00-explore" not in {spec.stem for spec in NOTEBOOKS}


def test_explore_notebook_runs_with_papermill(study, tmp_path):
    import papermill

    root, _ = study
    out = tmp_path / "00-explore.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={
            "data_dir": str(root / "data"),
            "cycle": CYCLE,
            "output_dir": str(tmp_path / "exports"),
            "compare_cycles": EARLIER,
        },
        progress_bar=False,
        kernel_name="python3",
    )
    nb = nbformat.read(out, as_version=4)
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    data = [o["data"] for o in shown if o.get("output_type") == "execute_result"]
    assert len(data) == 1
    assert "application/vnd.jupyter.widget-view+json" in data[0]
    assert "QA group only" in data[0]["text/html"]
    assert not any(o.get("output_type") == "error" for o in shown)


# ----------------------------------------------------------------- notebooks for exploring


ROOT = NOTEBOOK_DIR.parent


def test_tracked_notebooks_carry_no_outputs_and_the_check_catches_one_that_does(tmp_path):
    import subprocess
    import sys

    check = [sys.executable, str(ROOT / "tools" / "notebooks_clean.py")]
    clean = subprocess.run([*check, str(NOTEBOOK_DIR)], capture_output=True, text=True)
    assert clean.returncode == 0 and clean.stdout == ""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="2 cases\n")]
    nb.cells[2].execution_count = 4
    nbformat.write(nb, tmp_path / "00-explore.ipynb")
    dirty = subprocess.run([*check, str(tmp_path)], capture_output=True, text=True)
    assert dirty.returncode == 1
    assert "00-explore.ipynb: cell 3: 1 output, execution count 4" in dirty.stdout
    assert "tools/notebooks_clean.py notebooks" in (ROOT / "Makefile").read_text()


def test_make_lab_opens_a_git_ignored_working_copy_on_a_chosen_port():
    """JupyterLab's autosave lands in lab/, never in notebooks/ (which the annual run
    executes): make lab copies the notebooks there (keeping earlier edits) and serves it."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nlab: ")[1].split("\n\n")[0]
    assert "notebooks --out $(LAB)" in recipe and "jupyter lab $(LAB)/" in recipe
    assert "--port=$(PORT)" in recipe and "PORT ?= " in makefile and "LAB  := lab" in makefile
    assert "Stop it with Ctrl+C" in recipe
    assert "notebooks/" not in recipe.split("jupyter lab")[1]
    assert "lab/" in (ROOT / ".gitignore").read_text().split()
