"""Sections as data, tested without a kernel: building one computes tables, figure
specifications and sentences and shows, draws and writes nothing; the executive summary
takes the other sections' results instead of computing them again; and rendering every
section in this process gives the very tables the annual run's notebooks write."""

from __future__ import annotations

import os
from functools import wraps
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from tables import compare_folders, refresh

from audit_analysis.analysis import agreement, quality, summaries, trends
from audit_analysis.pipeline.notebook import open_session
from audit_analysis.render import present
from audit_analysis.render.section import Bullets, Figure, Learning, Section, Table, Text
from audit_analysis.sections import build_all, consistency, data_quality, executive

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "demo-2018-19"
HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


TABLES_ONLY = "AUDIT_ANALYSIS_TEST_TABLES_ONLY"


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    out = tmp_path_factory.mktemp("sections") / "out"
    return open_session(ROOT / "data" / "demo", "2018-19", out)


@pytest.fixture(scope="module")
def sections(session):
    return build_all(session)


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_building_shows_draws_and_writes_nothing(session, monkeypatch):
    def refuse(markup):
        raise AssertionError("a section builder displayed something")

    monkeypatch.setattr(present, "display_html", refuse)
    plt.close("all")
    built = build_all(session)
    assert list(built) == [
        "data-quality",
        "findings-by-kloe",
        "trends",
        "agency-consistency",
        "executive-summary",
    ]
    assert plt.get_fignums() == []
    assert _files(session.output_dir) == []


def test_every_figure_is_a_complete_specification(sections):
    names = []
    for section in sections.values():
        for figure in section.figures():
            names.append(figure.name)
            assert figure.title and figure.subtitle and figure.alt, figure.name
            assert isinstance(figure.data, pd.DataFrame) and len(figure.data), figure.name
            assert callable(figure.draw)
    # every figure of the year goes to one figures/ folder: a repeated name overwrites
    assert len(names) == len(set(names)) > 20
    assert {"kloe-1", "trend-kloe-6", "agency-agreement", "exec-kloe-trend"} <= set(names)


def test_parts_follow_the_notebooks_narrative(sections):
    """Each notebook shows its section part by part; a part it names must exist."""
    import json

    for stem, name in [
        ("01-data-quality", "data-quality"),
        ("02-findings-by-kloe", "findings-by-kloe"),
        ("03-trends", "trends"),
        ("04-agency-consistency", "agency-consistency"),
        ("05-executive-summary", "executive-summary"),
    ]:
        nb = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
        code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        shown = [line.split('"')[1] for line in code.splitlines() if "report.show(" in line]
        assert shown == list(sections[name].parts), stem


def _counting(monkeypatch, module, name, calls):
    original = getattr(module, name)

    @wraps(original)
    def counted(*args, **kwargs):
        calls[name] = calls.get(name, 0) + 1
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)


def test_the_executive_summary_takes_the_other_sections_results(session, monkeypatch):
    calls: dict[str, int] = {}
    for module, name in [
        (agreement, "agreement_by_standard"),
        (agreement, "agreement_overall"),
        (quality, "returns_by_agency"),
        (quality, "rejections_summary"),
        (summaries, "standard_summary"),
        (summaries, "overall_summary"),
        (trends, "trend_table"),
        (trends, "area_progress"),
    ]:
        _counting(monkeypatch, module, name, calls)
    built = build_all(session)
    assert calls == {
        "agreement_by_standard": 1,
        "agreement_overall": 1,
        "returns_by_agency": 1,
        "rejections_summary": 1,
        "standard_summary": 1,
        "overall_summary": 1,
        "trend_table": 1,
        "area_progress": 1,
    }
    # and it says what they say, word for word
    summary = built["executive-summary"]
    (headlines,) = [b.items for b in summary["summary"] if isinstance(b, Bullets)]
    # the coefficients in About these figures, word for word; above it, plain words
    assert built["agency-consistency"]["summary"][0].text in [b.text for b in summary["about"][1:]]
    quality_says = [b.text for b in built["data-quality"]["summary"]]
    assert set(quality_says[1:4]) <= set(headlines)


def test_on_its_own_the_executive_summary_builds_what_it_needs(session, monkeypatch):
    """Without the other builders it makes its own, computing only what it reads: the
    per-KLOE agreement bootstrap is the consistency section's alone."""
    calls: dict[str, int] = {}
    _counting(monkeypatch, agreement, "agreement_by_kloe", calls)
    _counting(monkeypatch, agreement, "agreement_by_standard", calls)
    alone = executive.build(session)
    assert calls == {"agreement_by_standard": 1}
    together = build_all(session)["executive-summary"]
    assert alone.sentences() == together.sentences()


def test_rendering_every_section_here_gives_the_annual_runs_tables(sections, tmp_path, monkeypatch):
    """The one renderer, in this process, writes the same tables, to their published
    precision, as the annual run's notebooks (``tests/golden``, checked against the run
    itself by the installed wheel's demo run in test_install).

    With ``TABLES_ONLY`` set (test_golden runs this under another numeric set-up, where
    only numbers can move) each chart's table is written and the chart is not drawn."""
    tables_only = bool(os.environ.get(TABLES_ONLY))
    if tables_only:

        def table_of(self, spec: Figure) -> str:
            self.save_table(spec.data, spec.name)
            return ""

        monkeypatch.setattr(present.Report, "_figure_html", table_of)
    report = present.Report(tmp_path, "2018-19")
    shown = []
    original = present.display_html
    present.display_html = shown.append
    try:
        for section in sections.values():
            report.show(section)
    finally:
        present.display_html = original
        plt.close("all")
    refresh(tmp_path / "tables", GOLDEN)
    assert compare_folders(tmp_path / "tables", GOLDEN) == []
    figures = {p.name for p in _files(tmp_path / "figures")}
    for section in sections.values():
        for figure in section.figures():
            assert tables_only or {f"{figure.name}.png", f"{figure.name}.svg"} <= figures
    assert shown and all(isinstance(m, str) for m in shown)


def test_the_renderer_escapes_every_block(tmp_path):
    frame = pd.DataFrame({"agency": [HOSTILE], "share": [0.5], "low": [0.4], "high": [0.6]})
    report = present.Report(tmp_path, "2018-19")
    blocks = [
        Text(HOSTILE),
        Bullets((HOSTILE,), "headlines"),
        Table(frame, HOSTILE, "hostile"),
        Figure(
            "fig",
            HOSTILE,
            HOSTILE,
            HOSTILE,
            frame,
            draw=lambda: plt.figure(),
            key=HOSTILE,
        ),
        Learning(pd.DataFrame({"kloe": [1], "column": ["worried"], "text": [HOSTILE]}), 1),
    ]
    for block in blocks:
        markup = report.html(block)
        assert "<script>" not in markup and "<b>" not in markup, type(block).__name__
        assert "&lt;script&gt;" in markup, type(block).__name__
    assert (tmp_path / "tables" / "hostile.csv").is_file()
    assert report.html(Table(frame, "saved only", "quiet", show=False)) == ""
    assert (tmp_path / "tables" / "quiet.csv").is_file()
    with pytest.raises(TypeError):
        report.html("not a block")


def test_a_section_reads_as_sentences_in_order():
    section = Section(
        "s", "S", {"a": [Text("one"), Bullets(("two", "three"))], "b": [Text("four")]}
    )
    assert section.sentences() == ["one", "two", "three", "four"]
    assert [type(b) for b in section.blocks("b")] == [Text]


def test_data_quality_and_consistency_build_alone(session):
    """Each builder is usable on its own, as the explorer or a script would use it."""
    dq = data_quality.build(session)
    assert dq.name == "data-quality" and dq["summary"]
    agree = consistency.Consistency(session)
    assert agree.sentence == agree.build()["summary"][0].text


def test_jupyterlab_gets_the_pages_alignment_once_per_notebook(tmp_path, monkeypatch):
    """JupyterLab right-aligns every table cell; the first show of a notebook adds the
    page's rule (text left, numbers right), scoped to the suite's own tables."""
    shown: list[str] = []
    monkeypatch.setattr(present, "display_html", shown.append)
    report = present.Report(tmp_path, "2018-19")
    report.show(Text("one"))
    report.show([Text("two"), Text("three")])
    assert shown == [present.LAB_STYLE, "<p>one</p>", "<p>two</p>", "<p>three</p>"]
    rules = present.LAB_STYLE
    assert rules.startswith("<style>") and ":not(.num)" in rules
    selectors = rules.removeprefix("<style>").split("{")[0]
    # two selectors, each scoped to JupyterLab's rendered output and the suite's tables
    assert selectors.count(".jp-RenderedHTMLCommon ") == 2
    assert selectors.startswith(".jp-RenderedHTMLCommon :is(.table-block, .chart-block)")
    assert ",.jp-RenderedHTMLCommon table.learning" in selectors


def test_findings_by_kloe_shows_each_kloes_distinctive_phrases(session, sections, tmp_path):
    """The QA page's phrases: one table (or a sentence saying none stands out) per KLOE,
    covering the KLOE and its standards; the planted identifiers and markup of hostile
    evidence come out scrubbed and escaped."""
    import dataclasses

    from audit_analysis.sections import by_kloe

    part = sections["findings-by-kloe"]["phrases"]
    kloes = session.data.framework.kloes
    assert len(part) == 1 + len(kloes)
    tables = [b for b in part if isinstance(b, Table)]
    assert tables and all(b.name is None for b in tables)  # shown only: no CSV of quotes
    seen = set().union(*(set(t.frame["Evidence of"]) for t in tables))
    assert any(s.startswith("Standard ") for s in seen) and any(s.startswith("KLOE ") for s in seen)
    for table in tables:
        assert set(table.frame["More often where"]) <= {"not or partly met", "met or exceeded"}
        assert table.frame["Quotes"].str.startswith("“").all()
        assert not table.frame["Quotes"].str.contains(r"\bC\d\d\b").any()

    ratings = session.data.ratings.copy()
    chosen = (ratings["kloe"] == kloes[0].number) & ratings["rating"].isin(["unmet"])
    ratings["evidence"] = ratings["evidence"].astype(object)
    ratings.loc[chosen, "evidence"] = "Zebrafish C05 " + HOSTILE
    ratings["evidence"] = ratings["evidence"].astype(session.data.ratings["evidence"].dtype)
    hostile = dataclasses.replace(session, data=dataclasses.replace(session.data, ratings=ratings))
    first = by_kloe.build(hostile)["phrases"][1]
    assert isinstance(first, Table) and first.frame["Quotes"].str.contains("Zebrafish").any()
    markup = present.Report(tmp_path, "2018-19").html(first)
    assert "Zebrafish [id] &lt;script&gt;" in markup
    assert "<script>" not in markup and "C05" not in markup
