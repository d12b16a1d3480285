"""The annual run end to end: every notebook through papermill on a small study of our
own making (not the demo data), the outputs it promises, and what must never leak."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timedelta

import nbformat
import pandas as pd
import pytest
from conftest import snapshot
from study import DEV_FORMULA, DEV_HOSTILE, FORMULA, HOSTILE

from audit_analysis.pipeline.runner import (
    NOTEBOOK_DIR,
    NOTEBOOKS,
    NotebookFailedError,
    code_record,
    run_annual,
)
from audit_analysis.pipeline.validation import PROBLEM_KINDS
from audit_analysis.render.export import FAILED_MARKING

pytestmark = pytest.mark.e2e  # papermill kernels: `pytest -m 'not e2e'` skips them

REQUIRED_PARAMETERS = {"data_dir", "cycle", "output_dir", "compare_cycles", "min_cell_count"}


# ----------------------------------------------------------------- committed notebooks


@pytest.mark.parametrize("spec", NOTEBOOKS, ids=lambda s: s.stem)
def test_notebooks_are_committed_clean_with_one_parameters_cell(spec):
    nb = nbformat.read(NOTEBOOK_DIR / f"{spec.stem}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    names = set(re.findall(r"^(\w+)\s*=", tagged[0].source, flags=re.M))
    assert names >= REQUIRED_PARAMETERS
    # literal defaults only: nothing derived inside the parameters cell
    assert "(" not in tagged[0].source.split("#")[0]
    assert nb.cells.index(tagged[0]) < min(nb.cells.index(c) for c in code if c is not tagged[0])


# ----------------------------------------------------------------- outputs


def test_run_writes_every_promised_output(run):
    out, _ = run
    for spec in NOTEBOOKS:
        assert (out / "notebooks" / f"{spec.stem}.ipynb").is_file()
    pages = {p.name for p in out.glob("*.html")}
    assert {"index.html", "executive-summary.html", "01-data-quality.html"} <= pages
    assert len(pages) == len(NOTEBOOKS) + 1
    narrow = {p.stem for p in (out / "figures").glob("*-narrow.png")}
    pngs = {p.stem for p in (out / "figures").glob("*.png")} - narrow
    svgs = {p.stem for p in (out / "figures").glob("*.svg")}
    assert pngs and pngs == svgs
    # the executive page's charts also come drawn for a phone
    assert narrow and {n.removesuffix("-narrow") for n in narrow} <= pngs
    tables = {p.stem for p in (out / "tables").glob("*.csv")}
    assert pngs <= tables  # a table behind every chart
    index = (out / "index.html").read_text(encoding="utf-8")
    for page in pages - {"index.html"}:
        assert f'href="{page}"' in index
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["compare_cycles"] == ["2017-18", "2018-19"]
    assert manifest["parameters"]["min_cell_count"] == 5
    assert any(
        i["cycle"] == "2019-20" and i["path"] == "cases.csv" and len(i["sha256"]) == 64
        for i in manifest["inputs"]
    )
    assert manifest["versions"]["papermill"] and manifest["versions"]["python"]
    started = datetime.fromisoformat(manifest["started"])
    finished = datetime.fromisoformat(manifest["finished"])
    assert started.utcoffset() == timedelta(0) and started <= finished  # UTC, in order
    assert manifest["duration_seconds"] == pytest.approx(
        (finished - started).total_seconds(), abs=1.0
    )
    assert manifest["code"] == code_record()  # in a clone: its commit
    assert manifest["code"]["version"] == manifest["versions"]["audit-analysis"]
    # the study's data is clean: no problem, but the suppressed tables are named
    notes = {n["kind"]: n for n in manifest["notes"]}
    assert not set(notes) & set(PROBLEM_KINDS)
    shown = notes["suppressed_tables"]["tables"]
    assert notes["suppressed_tables"]["count"] == len(shown)
    for path in (out / "tables").glob("*.csv"):
        cells = set(pd.read_csv(path, dtype=str, keep_default_na=False).to_numpy().ravel())
        assert ("c" in cells) == (path.stem in shown), path.name
    # the kernels talk over IPC: no log warns of an unencrypted TCP link
    logs = list((out / "logs").glob("*.log"))
    assert logs and not [p for p in logs if "without encryption" in p.read_text("utf-8")]


def test_trends_match_by_key_and_show_standards_absent_in_a_year(run):
    out, _ = run
    table = pd.read_csv(out / "tables" / "trend-table.csv", dtype=str, keep_default_na=False)
    rows = table.set_index("key")
    # 2019-20's own framework dropped one standard and added another
    assert rows.loc["escalation-recorded", "2018-19"] == "not in framework"
    assert rows.loc["dispute-resolved-in-line", "2019-20"] == "not in framework"
    assert rows.loc["roles-in-complex-cases", "2017-18"] == "not in framework"
    assert rows.loc["roles-in-complex-cases", "change vs 2017-18"] == ("not in 2017-18 framework")


def test_executive_page_is_aggregate_offline_and_scriptless(run):
    out, refs = run
    page = (out / "executive-summary.html").read_text(encoding="utf-8")
    text = re.sub(r"data:image/(png|svg\+xml);base64,[A-Za-z0-9+/=]+", "", page)  # noise
    for ref in (r for cycle_refs in refs.values() for r in cycle_refs):
        assert ref not in text
    # no evidence (the study's is hostile, with an alert); the QA group's hostile
    # commentary is on the page, as text
    assert "Seen in record" not in text and "HYPERLINK" not in text and "alert" not in text
    assert "<script" not in page.lower()
    assert not re.search(r"<[^<>]*\b(src|href)=\"https?:", page)  # in a tag, not in text
    assert "Content-Security-Policy" in page
    images = re.findall(r"<img[^>]*>", page)
    for tag in images:
        # the PNG on screen, the SVG (vector) in print: both embedded, both described
        assert re.search(r'src="data:image/(png|svg\+xml);base64,', tag)
        alt = re.search(r'alt="([^"]*)"', tag).group(1)
        assert len(alt) > 40
    shown = [t for t in images if "image/png" in t]
    printed = [t for t in images if "image/svg+xml" in t]
    assert shown and len(shown) == len(printed)


def test_breakdowns_on_few_cases_are_suppressed(run):
    out, _ = run
    table = pd.read_csv(out / "tables" / "exec-by-priority.csv", dtype=str, keep_default_na=False)
    # three cases per priority in the study, fewer than the default threshold of five
    assert set(table["share"]) == {"c"}
    assert set(table["n"]) == {"c"}


def test_evidence_is_escaped_in_html_and_defused_in_csv(run):
    out, _ = run
    page = (out / "04-agency-consistency.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page
    register = pd.read_csv(
        out / "tables" / "disagreement-register.csv", dtype=str, keep_default_na=False
    )
    cells = register.to_numpy().ravel()
    assert not any(str(c).startswith(("=", "+", "-", "@")) for c in cells)
    assert any(HOSTILE in str(c) for c in cells)
    assert any("'" + FORMULA in str(c) or FORMULA in str(c) for c in cells)


def test_areas_for_development_reach_the_pages_escaped_and_the_csvs_defused(run):
    """The partnership's own texts (areas, owners, progress, recommendations) are shown
    on the trends page and, for areas, on the executive page: always escaped."""
    out, _ = run
    for name in ("03-trends.html", "executive-summary.html"):
        page = (out / name).read_text(encoding="utf-8")
        assert "<img src=x" not in page and "<i>plans</i>" not in page
        # quotes inside a text node need no escaping; the tags must be
        assert "&lt;img src=x onerror=" in page, name
        assert "&amp; &lt;i&gt;plans&lt;/i&gt; SMART plans" in page, name
    trends_page = (out / "03-trends.html").read_text(encoding="utf-8")
    assert "brief the auditors" in trends_page  # the recommendation, with its progress
    assert "Briefing held" in trends_page
    # D2 was measured on standard 23 alone: 24 is not in the 2019-20 framework
    areas = pd.read_csv(out / "tables" / "development-areas.csv", dtype=str, keep_default_na=False)
    d2 = areas.set_index("area_id").loc["D2"]
    assert d2["status"] == "met" and d2["raised_in"] == "2018-19"
    from audit_analysis.analysis.trends import MEASURED

    assert d2["measured"] in set(MEASURED) - {"raised this cycle"}
    for table in ("development-areas.csv", "recommendations.csv", "exec-development-progress.csv"):
        frame = pd.read_csv(out / "tables" / table, dtype=str, keep_default_na=False)
        cells = [str(c) for c in frame.to_numpy().ravel()]
        texts = [c for c in cells if not re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", c)]
        assert not any(c.startswith(("=", "+", "-", "@")) for c in texts), table
        assert any(DEV_HOSTILE in c for c in cells), table
    areas_cells = [str(c) for c in areas.to_numpy().ravel()]
    assert "'" + DEV_FORMULA in areas_cells  # the owner, defused


def test_same_inputs_give_identical_tables_and_keep_the_case_packs(study, run, packs, tmp_path):
    """Run again over the first run's output folder: the same tables, the case packs kept,
    and so are the analyst's own files in it (one named like a table the suite once wrote
    at the top); no input byte changes."""
    root, _ = study
    out, _ = run
    first = {p.name: p.read_bytes() for p in (out / "tables").glob("*.csv")}
    pages = sorted(p.name for p in packs.glob("*.html"))
    # run again over a copy of the first run's output folder (its case packs in it): the
    # shared one stays as it is for the tests reading it, maybe at this moment
    shutil.copytree(out.parent, tmp_path / "out", symlinks=True)
    own = {"rejections.csv": "the analyst's own log", "notes for the board.txt": "mine"}
    for name, text in own.items():
        (tmp_path / "out" / "2019-20" / name).write_text(text, encoding="utf-8")
    before = snapshot(root / "data")
    again = run_annual(root / "data", "2019-20", out=tmp_path / "out", progress=False)
    second = {p.name: p.read_bytes() for p in (again / "tables").glob("*.csv")}
    assert first == second
    assert sorted(p.name for p in (again / "case-packs").glob("*.html")) == pages
    for name, text in own.items():
        assert (again / name).read_text(encoding="utf-8") == text
    assert snapshot(root / "data") == before  # every input byte-identical
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["2019-20"]


def test_a_failing_notebook_stops_the_run_and_keeps_previous_outputs(study, tmp_path):
    root, _ = study
    broken = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOK_DIR, broken)
    # the fourth notebook to start fails at once, after its session opens: those started
    # before it (the executive summary among them) finish, and are marked. What is tested
    # is the run's handling of a failure, so the others open their session and stop there
    # (a page and a PDF each all the same, without a full notebook's charts).
    for path in broken.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        opens = [i for i, c in enumerate(nb.cells) if "open_session(" in c.source]
        if not opens:  # not one of the run's (the explorer, the case pack)
            continue
        nb.cells = nb.cells[: opens[0] + 1]
        if path.name == "04-agency-consistency.ipynb":
            nb.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('boom in consistency')"))
        nbformat.write(nb, path)
    out = tmp_path / "out"
    (out / "2019-20").mkdir(parents=True)
    (out / "2019-20" / "keep.txt").write_text("previous")
    with pytest.raises(
        NotebookFailedError,
        match=r"04-agency-consistency.ipynb failed in cell \d+: "
        r"RuntimeError: boom in consistency",
    ):
        run_annual(root / "data", "2019-20", out=out, progress=False, notebook_dir=broken)
    assert sorted(p.name for p in (out / "2019-20").iterdir()) == ["keep.txt"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    # what the failed run left says so on every page (and in any PDF's marking line)
    pages = list((out / "2019-20.failed").glob("*.html"))
    names = {p.name for p in pages}
    assert {"executive-summary.html", "02-findings-by-kloe.html"} <= names, names
    for path in pages:
        assert FAILED_MARKING in path.read_text(encoding="utf-8")
    printed = out / "2019-20.failed" / "executive-summary.pdf"
    if printed.exists():
        from pypdf import PdfReader

        reader = PdfReader(printed)
        assert FAILED_MARKING in reader.metadata["/ProtectiveMarking"]
        assert FAILED_MARKING in reader.pages[0].extract_text()


def test_the_manifest_names_every_file_of_a_cycle_folder_as_it_is():
    """The cycle folder's own files keep their names in the manifest (only returns, which
    agencies name by case, are numbered): the development record's three included."""
    from audit_analysis.pipeline.runner import _shown_path

    for name in (
        "cases.csv",
        "framework.yaml",
        "deep_dive.csv",
        "learning_event.csv",
        "family_feedback.csv",
        "development_areas.csv",
        "progress.csv",
        "recommendations.csv",
        "selection.yaml",
        "selection_record.yaml",
        "reserve.csv",
    ):
        assert _shown_path(name, 3) == name
    assert _shown_path("notes about C17.csv", 3) == "other/file-0003.csv"
