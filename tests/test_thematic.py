"""Thematic audits beside annual ones (issue 24, items 4 and 5): the audit-name rule,
dated ordering, the default comparison, the commands on a dated audit, small audits'
pages and the partnership's labels.yaml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from audit_analysis.exceptions import CycleNotFoundError, UnknownCycleError
from audit_analysis.io.cycles import (
    DataFolder,
    audit_date,
    audit_series,
    earlier_audits,
    next_cycle,
    normalise_cycle,
    parse_cycle,
    sort_audits,
)

# --------------------------------------------------------------------------- the name rule


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("2018-19", "2018-19"),
        ("2018/2019", "2018-19"),
        ("2019-06-neglect", "2019-06-neglect"),
        ("2019-06-Neglect", "2019-06-neglect"),  # typed: any case
        ("2019-11-front-door", "2019-11-front-door"),
        ("Audit 2019-06-neglect, v2", "2019-06-neglect"),  # a template's version line
        ("2019-13-neglect", None),  # no month 13
        ("2019-06-", None),  # no theme
        ("2019-06-1st", None),  # a theme starts with a letter
        ("2018-10-15", None),  # a date is not an audit
        ("neglect", None),
    ],
)
def test_an_audit_is_named_for_a_year_or_a_dated_theme(text, name):
    assert parse_cycle(text) == name


def test_a_bad_audit_name_is_refused_in_one_line():
    with pytest.raises(UnknownCycleError) as caught:
        normalise_cycle("2019-13-neglect")
    message = str(caught.value)
    assert "\n" not in message
    assert "YYYY-YY" in message and "YYYY-MM-theme" in message and "2019-13-neglect" in message


def test_a_year_cycle_is_dated_at_its_end_and_closes_its_month():
    assert audit_date("2018-19") == (2019, 3)
    assert audit_date("2019-06-neglect") == (2019, 6)
    names = ["2019-06-neglect", "2019-20", "2018-19", "2019-03-cse", "2018-10-neglect", "2017-18"]
    assert sort_audits(names) == [
        "2017-18",
        "2018-10-neglect",  # held during 2018-19: before its findings
        "2019-03-cse",  # the month 2018-19 closes: before it
        "2018-19",
        "2019-06-neglect",
        "2019-20",
    ]


def test_a_run_compares_with_the_earlier_audits_of_its_series_by_default():
    names = ["2017-18", "2018-10-neglect", "2018-19", "2019-02-cse", "2019-06-neglect", "2019-20"]
    assert earlier_audits(names, "2019-20") == ["2017-18", "2018-19"]
    assert earlier_audits(names, "2019-06-neglect") == ["2018-10-neglect"]
    assert earlier_audits(names, "2019-02-cse") == []
    # every earlier audit, of any series, by date
    assert earlier_audits(names, "2019-02-cse", series=False) == [
        "2017-18",
        "2018-10-neglect",
    ]
    assert audit_series("2018-19") == "annual"
    assert audit_series("2019-06-neglect") == "theme:neglect"


def test_a_thematic_audit_has_no_next_by_rule():
    assert next_cycle("2018-19") == "2019-20"
    with pytest.raises(UnknownCycleError, match="name the new audit"):
        next_cycle("2019-06-neglect")


def test_the_data_folder_holds_year_and_dated_audits_and_names_near_misses(tmp_path: Path):
    for name in (
        "2019-06-neglect",
        "2018-19",
        "2018-10-neglect",
        "2019-6-neglect",  # near misses of a dated theme
        "2019-06_Neglect",
        "2018-2019",  # and of a year, as before
        "notes",
    ):
        (tmp_path / name).mkdir()
    folder = DataFolder.scan(tmp_path)
    assert folder.order == ["2018-10-neglect", "2018-19", "2019-06-neglect"]
    assert sorted(folder.near_misses["2019-06-neglect"]) == ["2019-06_Neglect", "2019-6-neglect"]
    assert folder.near_misses["2018-19"] == ["2018-2019"]
    assert folder.before("2019-06-neglect") == ["2018-10-neglect", "2018-19"]
    notes = folder.notes("2019-06-neglect")
    assert notes == [
        "2019-06_Neglect/ is not read: a cycle's folder is named exactly YYYY-MM-theme "
        "(2019-06-neglect)",
        "2019-6-neglect/ is not read: a cycle's folder is named exactly YYYY-MM-theme "
        "(2019-06-neglect)",
    ]
    (tmp_path / "2019-06-neglect").rmdir()
    with pytest.raises(CycleNotFoundError) as caught:
        DataFolder.scan(tmp_path).folder("2019-06-neglect")
    assert "'2019-6-neglect'" in str(caught.value) and "\n" not in str(caught.value)


# --------------------------------------------------------------------------- small audits


def test_an_audit_is_small_up_to_the_suppression_threshold():
    from audit_analysis.sections.small import is_small

    assert is_small(5, 5) and is_small(3, 5)
    assert not is_small(6, 5) and not is_small(9, 5) and not is_small(24, 5)
    assert not is_small(0, 5)  # nothing rated: refused elsewhere, not "small"
    assert is_small(9, 10)  # the threshold is the run's --min-cell-count


def test_counts_of_cases_equal_a_hand_count():
    """Five cases, two agencies, one standard: a case counts for "every agency" only
    when each agency that rated it on the scale rated it good; N/A and blanks are not
    ratings on the scale."""
    import pandas as pd

    from audit_analysis.io.frameworks import load_framework
    from audit_analysis.io.ratings import RATING_DTYPE
    from audit_analysis.sections.small import case_counts, counts_display

    fw = load_framework("2018-19")
    first = fw.standards[0]
    rows = [
        ("A", "WMP", "met"),
        ("A", "CCG", "exceeded"),  # A: every agency good
        ("B", "WMP", "met"),
        ("B", "CCG", "unmet"),  # B: some
        ("C", "WMP", "partially_met"),
        ("C", "CCG", "unmet"),  # C: none
        ("D", "WMP", "exceeded"),
        ("D", "CCG", "not_applicable"),  # D: the one agency on the scale rated it good
        ("E", "WMP", "not_recorded"),  # E: not rated on the scale
    ]
    ratings = pd.DataFrame(
        {
            "case_ref": [r[0] for r in rows],
            "agency": [r[1] for r in rows],
            "kloe": first.kloe,
            "standard": first.number,
            "standard_key": first.key,
            "rating": pd.Series([r[2] for r in rows]).astype(RATING_DTYPE),
            "evidence": "seen",
        }
    )
    counts = case_counts(ratings, fw).set_index("standard_key")
    got = counts.loc[first.key, ["cases", "every", "some", "none"]].tolist()
    assert got == [4, 2, 1, 1]
    other = fw.standards[1].key
    assert counts.loc[other, ["cases", "every", "some", "none"]].tolist() == [0, 0, 0, 0]
    words = counts_display(case_counts(ratings, fw))["In words"].iloc[0]
    assert words == (
        "2 of 4 cases rated met or exceeded by every agency that rated them, 1 by some of them"
    )


# --------------------------------------------------------------------------- the commands


@pytest.fixture(scope="module")
def thematic(tmp_path_factory):
    """The thematic study (tests/study.py): 2018-19, 2018-10-neglect, 2019-06-neglect."""
    from study import build_thematic

    root = tmp_path_factory.mktemp("thematic")
    refs = build_thematic(root / "data")
    return root, refs


def test_validate_takes_a_dated_audit_and_refuses_a_bad_name_in_one_line(thematic, capsys):
    from audit_analysis.pipeline.cli import main

    root, _ = thematic
    assert main(["validate", str(root / "data"), "--cycle", "2019-06-neglect"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Audit cycle 2019-06-neglect:")
    assert "Cases: 5 (neglect 5)" in out
    assert main(["validate", str(root / "data"), "--cycle", "2019-13-neglect"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "YYYY-MM-theme" in err and "Traceback" not in err


def test_new_cycle_and_templates_take_a_dated_audit(thematic, tmp_path, capsys):
    import shutil

    from audit_analysis.pipeline.cli import main

    root, _ = thematic
    data = tmp_path / "data"
    shutil.copytree(root / "data", data)
    # a thematic audit has no next by rule: the new one is named, in one line
    assert main(["new-cycle", "--data", str(data), "--from", "2019-06-neglect"]) == 1
    assert "name the new audit (--to)" in capsys.readouterr().err
    # nor may the new one come before it
    argv = ["new-cycle", "--data", str(data), "--from", "2019-06-neglect"]
    assert main([*argv, "--to", "2019-02-neglect"]) == 1
    assert "must come after 2019-06-neglect" in capsys.readouterr().err
    assert main([*argv, "--to", "2019-12-neglect"]) == 0
    made = data / "2019-12-neglect" / "framework.yaml"
    from audit_analysis.io.frameworks import load_framework

    framework = load_framework("2019-12-neglect", data)
    assert framework.cycle == "2019-12-neglect" and made.is_file()
    assert len(framework.kloes) == 3  # the neglect tool's, not the annual one's
    out = tmp_path / "templates"
    assert (
        main(["templates", "--data", str(data), "--cycle", "2019-06-neglect", "--out", str(out)])
        == 0
    )
    said = capsys.readouterr().out
    assert "templates for 2019-06-neglect (template version 2019-06-neglect)" in said
    assert list(out.glob("*/*.xlsx"))


@pytest.mark.e2e
def test_run_and_case_packs_on_a_small_thematic_audit(thematic, tmp_path):
    """The run on 2019-06-neglect (five cases) compares with 2018-10-neglect alone (its
    series), leads with counts of cases and judges no change; the executive page stays
    aggregate; case packs are written for a dated audit."""
    import html
    import json
    import re

    from audit_analysis.pipeline.runner import run_annual, run_case_packs

    root, refs = thematic

    def text(path: Path) -> str:
        page = re.sub(r"<style.*?</style>|<script.*?</script>", "", path.read_text(), flags=re.S)
        return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))

    out = run_annual(root / "data", "2019-06-neglect", out=tmp_path / "out", progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["compare_cycles"] == ["2018-10-neglect"]
    findings = text(out / "02-findings-by-kloe.html")
    assert "2019-06-neglect is a small audit: 5 cases rated" in findings
    assert re.search(r"\d of 5 cases rated met or exceeded by every agency", findings)
    assert "Seen in record 1." in findings  # the evidence, on the QA group's page
    assert "The QA group's summary The QA group: neglect is seen late" in findings  # its words
    raw = (out / "02-findings-by-kloe.html").read_text()
    assert "late <b>here</b>" not in raw  # escaped (or stripped), never markup
    assert findings.index("is a small audit") < findings.index("Across all standards")
    for page in ("01-data-quality.html", "04-agency-consistency.html"):  # every QA page says so
        assert "2019-06-neglect is a small audit: 5 cases rated" in text(out / page)
    trends = text(out / "03-trends.html")
    assert "no change is judged" in trends
    for verdict in ("no clear change", "improved clearly", "declined clearly"):
        assert verdict not in trends
    executive = text(out / "executive-summary.html")
    # which audits it compares with, stated: its theme's, not the annual 2018-19
    assert "This page covers 2019-06-neglect, compared with 2018-10-neglect. " in executive
    assert "no change is judged" in executive and "changed clearly" not in executive
    # the QA group's figure references give the change, with no verdict
    for page in (findings, executive):
        assert re.search(r"Since 2018-10-neglect [+-]?\d+ points \(95% interval", page)
        assert re.search(r"\d\): no change judged in a small audit\.", page)
    assert "Seen in record" not in executive  # aggregates only: no evidence,
    assert not any(ref in executive for ref in refs["2019-06-neglect"])  # no case
    packs = run_case_packs(
        root / "data", "2019-06-neglect", out=tmp_path / "out", cases=["T200"], progress=False
    )
    assert packs.name == "case-packs" and (packs / "T200.html").is_file()


def test_the_explorer_orders_audits_by_date_and_compares_within_a_series(thematic):
    from audit_analysis.explore.widgets import explorer

    root, _ = thematic
    ex = explorer(root / "data", widgets=False, export_dir=root / "exports")
    assert ex.cycles == ["2018-10-neglect", "2018-19", "2019-06-neglect"]
    assert ex.state.cycle == "2019-06-neglect"  # the latest by date
    assert ex.state.compare == ("2018-10-neglect",)
    assert explorer(root / "data", "2018-19", widgets=False).state.compare == ()
    chosen = explorer(root / "data", "2019-06-neglect", ["2018-19"], widgets=False)
    assert chosen.state.compare == ("2018-19",)  # --compare's counterpart wins


def _everything_said(view) -> str:
    """Every word a view shows or exports: its sentences and captions, its tables'
    cells, its chart's title and description and its exported table."""
    from audit_analysis.render.section import Figure, Table

    frames = [b.frame for b in view.blocks if isinstance(b, Table)] + [view.table]
    words = [view.text()]
    words += [
        b.title + " " + b.subtitle + " " + b.alt for b in view.blocks if isinstance(b, Figure)
    ]
    for frame in frames:
        words += [str(c) for c in frame.columns] + [str(x) for x in frame.to_numpy().ravel()]
    return "\n".join(words)


VERDICTS = ("improved", "declined", "clearly", "clear fall", "clear rise", "no clear change")


def test_the_explorer_judges_no_change_against_a_small_audit(thematic):
    """2019-06-neglect (five cases, small at the threshold of five) against
    2018-10-neglect (six): every view says why no change is judged and gives none; the
    changes read as the pages' (NOT_JUDGED). At a threshold of four neither is small and
    the same views judge again."""
    from audit_analysis.explore.state import VIEWS
    from audit_analysis.explore.views import cell_options
    from audit_analysis.explore.widgets import explorer
    from audit_analysis.sections.small import NOT_JUDGED

    root, _ = thematic
    note = "2019-06-neglect (5 cases rated) is a small audit"
    ex = explorer(root / "data", "2019-06-neglect", ["2018-10-neglect"], widgets=False)
    assert ex.data.small("2019-06-neglect", "2018-10-neglect") == ["2019-06-neglect"]
    # the change view's default is the latest earlier audit of any series (2018-19):
    # the six-case audit is chosen
    assert "against 2018-10-neglect" in ex.set(against="2018-10-neglect").headline
    seen = {}
    for view in VIEWS:
        seen[view] = _everything_said(ex.set(view=view))
    kloe = ex.current.data.framework.kloes[0].key
    standard = str(ex.current.std_keys[0])
    seen["changes by theme"] = _everything_said(ex.set(view="changes", by="priority"))
    seen["clear changes only"] = _everything_said(ex.set(by="agency", clear_only=True))
    ex.set(clear_only=False)
    label, cell = cell_options(ex.data, ex.state)[0]
    assert NOT_JUDGED in label
    seen["a cell"] = _everything_said(ex.set(cell=cell))
    for scope in (f"kloe:{kloe}", f"standard:{standard}"):
        seen[scope] = _everything_said(ex.set(view="cycles", scope=scope, cell=""))
    seen["cycles, one agency"] = _everything_said(ex.set(scope="all", agency="WMP"))
    for name, said in seen.items():
        assert note in said, name
        assert not [w for w in VERDICTS if w in said.lower()], name
    for name in ("changes", "cycles", "a cell", f"standard:{standard}"):
        assert NOT_JUDGED in seen[name], name
    # the changes are still measured and shown, in points
    assert re.search(r"[+-]?\d+ points \(", seen["changes"])
    # the rule is the pages' threshold: at four, neither audit is small, and verdicts return
    usual = explorer(
        root / "data", "2019-06-neglect", ["2018-10-neglect"], widgets=False, min_cell_count=4
    )
    usual.set(against="2018-10-neglect")
    assert usual.data.small("2019-06-neglect", "2018-10-neglect") == []
    for view in ("changes", "cycles"):
        said = _everything_said(usual.set(view=view))
        assert "small audit" not in said and NOT_JUDGED not in said
        assert any(w in said.lower() for w in VERDICTS), view
    assert explorer(root / "data", "2019-06-neglect", widgets=False, min_cell_count=6).data.small(
        "2019-06-neglect", "2018-10-neglect"
    ) == ["2019-06-neglect", "2018-10-neglect"]


# --------------------------------------------------------------------------- labels.yaml

LABELS = """\
priority:
  neglect: Neglect
  domestic_abuse: Domestic abuse
  cse: Child sexual exploitation
age_band:
  "0-10": 0 to 10 years
  "11+": 11 and over
"""


@pytest.fixture
def labelled(tmp_path: Path, thematic):
    """The thematic study's 2018-19 with a labels.yaml of custom themes and a cases.csv
    that uses them, once by their words, once by a theme not in the file."""
    import shutil

    from conftest import write_cases

    root, _ = thematic
    data = tmp_path / "data"
    shutil.copytree(root / "data" / "2018-19", data / "2018-19")
    (data / "labels.yaml").write_text(LABELS, encoding="utf-8")
    rows = [
        ["T000", "neglect", "4", "88000", "", "Z0"],
        ["T001", "Domestic abuse", "12", "88001", "", "Z1"],  # by its words
        ["T002", "CSE", "9", "88002", "", "Z2"],  # by its code, in capitals
        ["T003", "early_help", "5", "88003", "", "Z3"],  # the package's theme, not this one's
    ]
    write_cases(data / "2018-19", rows=rows)
    yield data
    from audit_analysis.io.labels import activate, package_labels

    activate(package_labels())  # what later tests in this process expect


def test_a_data_folders_labels_name_the_themes_cases_are_checked_against(labelled):
    import pandas as pd

    from audit_analysis.analysis.summaries import with_case_characteristics
    from audit_analysis.io.dataset import load_cycle
    from audit_analysis.render.labels import value_label

    data = load_cycle(labelled, "2018-19")
    from audit_analysis.pipeline.validation import format_report

    assert (
        f"Labels: {labelled / 'labels.yaml'}: priority themes neglect, domestic_abuse, cse; "
        "age bands 0-10, 11+"
    ) in format_report(data).splitlines()
    got = dict(zip(data.cases["case_ref"], data.cases["priority"], strict=True))
    assert got["T000"] == "neglect" and got["T001"] == "domestic_abuse"
    assert got["T002"] == "cse" and pd.isna(got["T003"])
    bad = data.rejections[data.rejections["raw_value"] == "early_help"]
    assert len(bad) == 1
    line = bad.iloc[0]
    assert line["source_file"] == "cases.csv" and int(line["source_row"]) == 5
    assert line["reason"] == (
        "case T003: priority is not one of neglect, domestic_abuse, cse (labels.yaml); "
        "the case is kept with no priority"
    )
    # the summaries, pages and explorer follow: themes in the file's order, its words,
    # its age bands
    themed = with_case_characteristics(data.ratings, data.cases)
    assert list(themed["priority"].cat.categories) == ["neglect", "domestic_abuse", "cse"]
    assert list(themed["age_band"].cat.categories) == ["0-10", "11+"]
    bands = dict(zip(themed["case_ref"], themed["age_band"].astype(str), strict=True))
    assert bands["T000"] == "0-10" and bands["T001"] == "11+" and bands["T002"] == "0-10"
    assert value_label("priority", "cse") == "Child sexual exploitation"
    assert value_label("age_band", "11+") == "11 and over"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("priorities:\n  neglect: Neglect\n", "unknown key 'priorities'"),
        ("priority:\n  Neglect!: Neglect\n", "a theme's code is lower-case"),
        ("priority:\n  neglect: ''\n", "theme 'neglect' needs its words"),
        ('age_band:\n  "0-4": a\n  "6+": b\n', "expected a band starting at 5"),
        ('age_band:\n  "0-4": a\n  "5-9": b\n', "the last age band is open"),
        ('age_band:\n  "0+": a\n  "5-9": b\n', "only the last age band is open"),
        ("priority: [neglect]\n", "'priority' must map each theme's code to its words"),
        ("priority:\n  neglect: a\n  neglect: b\n", "the key 'neglect' is given twice"),
    ],
)
def test_a_bad_labels_yaml_is_refused_in_one_line(tmp_path: Path, text, said):
    from audit_analysis.exceptions import AuditDataError
    from audit_analysis.io.labels import load_labels

    (tmp_path / "labels.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(AuditDataError) as caught:
        load_labels(tmp_path)
    message = str(caught.value)
    assert said in message and "\n" not in message
    assert str(tmp_path / "labels.yaml") in message


def test_without_labels_yaml_the_packages_are_used(tmp_path: Path):
    from audit_analysis.io.labels import load_labels, package_labels

    labels = load_labels(tmp_path)
    assert labels is package_labels()
    assert list(labels.priorities) == ["early_help", "neglect", "exploitation"]
    assert labels.edges == (0, 5, 11, 16, 18)
    # a file naming only the themes keeps the package's age bands
    (tmp_path / "labels.yaml").write_text("priority:\n  neglect: Neglect\n", encoding="utf-8")
    assert load_labels(tmp_path).age_bands == package_labels().age_bands


@pytest.mark.e2e
def test_the_pages_name_the_data_folders_themes_and_age_bands(labelled, tmp_path):
    """The run's notebooks (kernels reading the run's cache) use labels.yaml's words, on
    the findings page, which shows themes and age bands. What is checked is what a kernel
    takes from the cache, so the other notebooks are cut to their parameters cell (each
    still a kernel of the run, without a full notebook's charts)."""
    import shutil

    import nbformat

    from audit_analysis.pipeline.runner import NOTEBOOK_DIR, run_annual

    notebooks = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOK_DIR, notebooks)
    for path in notebooks.glob("*.ipynb"):
        if not path.name.startswith("02-"):
            nb = nbformat.read(path, as_version=4)
            nb.cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
            nbformat.write(nb, path)
    out = run_annual(
        labelled, "2018-19", out=tmp_path / "out", progress=False, notebook_dir=notebooks
    )
    page = (out / "02-findings-by-kloe.html").read_text(encoding="utf-8")
    for words in ("Domestic abuse", "Child sexual exploitation", "0 to 10 years", "11 and over"):
        assert words in page
    assert "5 to 10 years" not in page  # the package's bands are not used


def test_a_small_audits_areas_for_development_carry_no_verdict(study, tmp_path):
    """The study's 2019-20 (nine cases) is small at a threshold of nine: the areas raised
    in 2018-19 show their measured change with no verdict; at five it is not small."""
    from audit_analysis.io.dataset import load_cycle
    from audit_analysis.render.present import Report
    from audit_analysis.sections.base import Session
    from audit_analysis.sections.small import NOT_JUDGED
    from audit_analysis.sections.trends import Trends, appendix_display

    root, _ = study
    data, earlier = load_cycle(root / "data", "2019-20"), load_cycle(root / "data", "2018-19")

    def areas(least: int):
        session = Session(
            data, [earlier], Report(tmp_path, "2019-20"), least, root / "data", tmp_path
        )
        assert session.small == (least >= 9)
        return Trends(session).areas

    usual, small = areas(5), areas(9)
    from audit_analysis.analysis.trends import CASE_MIX

    judged = usual["measured"].isin(["improved", "declined", "no clear change", CASE_MIX])
    assert judged.any()  # the study's areas D1 and D2 are measured
    assert (small.loc[judged, "measured"] == NOT_JUDGED).all()
    assert (small.loc[~judged, "measured"] == usual.loc[~judged, "measured"]).all()
    shown = " ".join(appendix_display(small).astype(str).to_numpy().ravel())
    assert NOT_JUDGED in shown and "no clear change" not in shown
