"""Printing the PDF never fails the run: with no browser, or a browser that fails, the
run says so in one line and the HTML is written all the same. Checked with stand-in
notebooks and stand-in browsers, so these tests need no Chromium."""

from __future__ import annotations

import json
import logging
import stat
import time
from pathlib import Path

import nbformat
import pytest

from audit_analysis.pipeline.runner import EXECUTIVE_PDF, NOTEBOOKS, run_annual
from audit_analysis.render import pdf
from audit_analysis.render.export import css_string, page

MISSING = "/nonexistent/chromium"


def fake_browser(tmp_path, script: str):
    path = tmp_path / "fake-chromium"
    path.write_text("#!/bin/sh\n" + script + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.fixture
def html(tmp_path):
    target = tmp_path / "page.html"
    target.write_text(page("A page", "<h1>A page</h1>", "OFFICIAL: test"), encoding="utf-8")
    return target


def test_no_browser_is_a_one_line_note_and_no_file(html, tmp_path, monkeypatch):
    monkeypatch.setenv(pdf.BROWSER_ENV, MISSING)
    assert pdf.find_browser() is None
    result = pdf.print_to_pdf(html, tmp_path / "a.pdf", title="t", subject="s", marking="M")
    assert result.path is None
    assert "no Chromium or Chrome found" in result.note and pdf.BROWSER_ENV in result.note
    assert "\n" not in result.note
    assert not (tmp_path / "a.pdf").exists()


def test_a_failing_browser_leaves_no_pdf_and_says_why(html, tmp_path):
    browser = fake_browser(tmp_path, 'echo "first line" >&2; echo "it broke" >&2; exit 3')
    result = pdf.print_to_pdf(
        html, tmp_path / "a.pdf", title="t", subject="s", marking="M", browser=browser
    )
    assert result.path is None
    assert "exit status 3" in result.note and "it broke" in result.note
    assert list(tmp_path.glob("*.pdf*")) == []


def test_a_browser_writing_no_real_pdf_leaves_none(html, tmp_path):
    # writes junk where --print-to-pdf= says, and exits 0
    script = 'for a in "$@"; do case "$a" in --print-to-pdf=*) echo junk > "${a#*=}";; esac; done'
    result = pdf.print_to_pdf(
        html,
        tmp_path / "a.pdf",
        title="t",
        subject="s",
        marking="M",
        browser=fake_browser(tmp_path, script),
    )
    assert result.path is None and "could not be read back" in result.note
    assert list(tmp_path.glob("*.pdf*")) == []


def running(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_a_browser_that_hangs_is_stopped_with_its_helpers(html, tmp_path):
    helper = tmp_path / "helper.pid"
    script = f"sleep 30 & echo $! > {helper}; exec sleep 30"
    started = time.monotonic()
    result = pdf.print_to_pdf(
        html,
        tmp_path / "a.pdf",
        title="t",
        subject="s",
        marking="M",
        browser=fake_browser(tmp_path, script),
        timeout=1,
    )
    assert result.path is None and "took over 1 s" in result.note
    assert time.monotonic() - started < 15  # not waiting for the helper to finish
    assert not running(int(helper.read_text()))


def test_the_marking_cannot_break_out_of_the_stylesheet():
    hostile = 'OFFICIAL"; } </style><script>alert(1)</script>'
    text = page("t", "", hostile + ": banner")
    style = text.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "<" not in style and ">" not in style  # cannot close the <style> element
    assert 'OFFICIAL"' not in style  # nor end the CSS string it sits in
    assert css_string('a"b') == "a\\000022b"
    assert css_string("OFFICIAL – DRAFT") == "OFFICIAL \\002013  DRAFT"  # the space kept


@pytest.fixture(scope="module")
def stub_notebooks(tmp_path_factory):
    """Five notebooks with the run's names that only show a heading: the runner's
    work around them (pages, PDF, index, manifest) without the analysis."""
    folder = tmp_path_factory.mktemp("stubs")
    for spec in NOTEBOOKS:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "language": "python",
            "display_name": "Python 3",
        }
        nb.metadata["language_info"] = {"name": "python"}
        params = nbformat.v4.new_code_cell(
            'data_dir = ""\ncycle = ""\noutput_dir = ""\ncompare_cycles = None\nmin_cell_count = 5'
        )
        params.metadata["tags"] = ["parameters"]
        shown = nbformat.v4.new_code_cell(
            "from IPython.display import HTML, display\n"
            f"display(HTML('<h1>{spec.title}</h1><p>Stand-in.</p>'))"
        )
        nb.cells = [params, shown]
        nbformat.write(nb, folder / f"{spec.stem}.ipynb")
    return folder


def test_the_run_without_a_browser_writes_the_html_and_says_so_once(
    study, stub_notebooks, tmp_path, monkeypatch, caplog
):
    root, _ = study
    monkeypatch.setenv(pdf.BROWSER_ENV, MISSING)  # inherited by the run's workers
    with caplog.at_level(logging.WARNING, logger="audit_analysis"):
        out = run_annual(
            root / "data",
            "2019-20",
            out=tmp_path / "out",
            compare=["2018-19"],  # the study's commentary refers to it
            progress=False,
            notebook_dir=stub_notebooks,
        )
    assert (out / "executive-summary.html").is_file()
    assert not (out / EXECUTIVE_PDF).exists()
    notes = [r.getMessage() for r in caplog.records if r.name == "audit_analysis"]
    assert len(notes) == 1 and "\n" not in notes[0]
    assert notes[0].startswith(f"audit-analysis: {EXECUTIVE_PDF} not written: no Chromium")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    (note,) = [n for n in manifest["notes"] if n["kind"] == "pdf"]
    assert manifest["pdf"] is None and "no Chromium" in note["text"]
    assert EXECUTIVE_PDF not in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.e2e
@pytest.mark.skipif(pdf.find_browser() is None, reason="no chromium on PATH")
def test_the_run_with_a_browser_writes_the_pdf_and_links_it(
    study, stub_notebooks, tmp_path, caplog
):
    root, _ = study
    with caplog.at_level(logging.WARNING, logger="audit_analysis"):
        out = run_annual(
            root / "data",
            "2019-20",
            out=tmp_path / "out",
            compare=["2018-19"],  # the study's commentary refers to it
            progress=False,
            notebook_dir=stub_notebooks,
        )
    assert (out / EXECUTIVE_PDF).read_bytes().startswith(b"%PDF-")
    assert not list(out.glob(".*.part"))
    assert [r for r in caplog.records if r.name == "audit_analysis"] == []
    assert f'href="{EXECUTIVE_PDF}"' in (out / "index.html").read_text(encoding="utf-8")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["pdf"] == EXECUTIVE_PDF
    assert not [n for n in manifest["notes"] if n["kind"] == "pdf"]
