""" "About these figures" says what this run did: checked on the study of tests/study.py,
which has a partnership's own 2019-20 framework and compares cycles whose frameworks are
built in (2018-19, as the report prints it; 2017-18, a reconstruction)."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from audit_analysis import __version__
from audit_analysis.io.frameworks import framework_path
from audit_analysis.pipeline.notebook import open_session
from audit_analysis.sections.executive import Executive, about_these_figures


def about(root, compare, tmp_path, min_cell_count=5) -> str:
    session = open_session(root, "2019-20", tmp_path / "out", compare, min_cell_count)
    return " ".join(about_these_figures(session, today=date(2026, 3, 4)))


@pytest.fixture(scope="module")
def data(study):
    root, _ = study
    return root / "data"


def test_a_built_in_reconstruction_is_called_reconstructed(data, tmp_path):
    text = about(data, ["2017-18", "2018-19"], tmp_path)
    assert "2017-18, built into the suite and reconstructed" in text
    assert "2018-19, built into the suite, as the partnership's report prints it" in text
    assert "2019-20, the partnership's own (2019-20/framework.yaml)" in text
    assert text.count("reconstructed") == 1
    assert "compared with 2017-18 and 2018-19" in text


def test_without_a_reconstruction_nothing_is_called_reconstructed(data, tmp_path):
    text = about(data, ["2018-19"], tmp_path)
    assert "reconstructed" not in text and "rebuilt" not in text
    assert "the partnership's own (2019-20/framework.yaml)" in text
    assert str(data) not in text  # the file by its place in the data folder, no full path


def test_a_partnerships_own_earlier_framework_is_named_not_called_reconstructed(data, tmp_path):
    own = tmp_path / "data"
    shutil.copytree(data, own)
    # the partnership keeps its own copy of 2017-18's framework, even one that was
    # first copied from the built-in reconstruction and still says so inside
    builtin = framework_path("2017-18")
    shutil.copy(builtin, own / "2017-18" / "framework.yaml")
    text = about(own, ["2017-18"], tmp_path)
    assert "2017-18, the partnership's own (2017-18/framework.yaml)" in text
    assert "reconstructed" not in text
    assert "built into the suite" not in text


def test_methods_threshold_cycles_date_and_version_are_those_of_the_run(data, tmp_path):
    text = about(data, [], tmp_path, min_cell_count=7)
    assert "fewer than 7 cases" in text
    assert "with no earlier cycle to compare" in text
    assert "MOVER" not in text  # no change between years was computed
    assert "Korn and Graubard" in text and "Benjamini-Hochberg" in text
    assert "Each of the 9 cases is rated by" in text  # the study's cohort
    assert "Produced on 4 March 2026" in text
    assert f"audit-analysis {__version__}" in text
    compared = about(data, ["2018-19"], tmp_path)
    assert "MOVER interval (Zou and Donner)" in compared
    assert "fewer than 5 cases" in compared


@pytest.mark.e2e  # reads the annual run: papermill kernels
def test_the_executive_page_carries_it(run):
    out, _ = run
    page = (out / "executive-summary.html").read_text(encoding="utf-8")
    assert "About these figures" in page
    assert "own (2019-20/framework.yaml)" in page
    assert "reconstructed" in page  # the run compares 2017-18, a built-in reconstruction
    assert "are reconstructed from the report" not in page  # the old fixed text


def test_it_says_how_many_agencies_rate_a_case_and_that_changes_allow_for_case_mix(data, tmp_path):
    """Not every agency rates every case (issue 20): the page gives the range seen, and
    does not promise that trends compare like with like in the mix of cases."""
    session = open_session(data, "2019-20", tmp_path / "out", ["2018-19"], 5)
    raters = session.data.ratings.groupby("case_ref")["agency"].nunique()
    text = " ".join(about_these_figures(session, today=date(2026, 3, 4)))
    assert "Every agency rates the same" not in text
    span = f"{raters.min()} to {raters.max()}" if raters.min() < raters.max() else f"{raters.min()}"
    assert f"is rated by the {span} agencies involved with it" in text
    assert "like with like" not in text
    assert "standardised to the same mix of priority themes" in text


def test_it_says_what_size_of_change_the_audit_could_detect(data, tmp_path):
    from audit_analysis.analysis.planning import minimum_detectable_change

    session = open_session(data, "2019-20", tmp_path / "out", ["2018-19"], 5)
    plan = minimum_detectable_change(session.data)
    own = plan[plan["this_cycle"]].set_index("level")
    about = " ".join(about_these_figures(session, today=date(2026, 3, 4)))
    # in plain words where the page tells the changes, not only among the methods
    text = " ".join(Executive(session).change_words)
    overall = round(100 * own.loc["overall", "mdc"])
    assert f"a change of less than about {overall} points in the overall share" in text
    assert "could not be reliably told apart from chance" in text
    assert "and so does a key line of enquiry among the KLOEs" in about
