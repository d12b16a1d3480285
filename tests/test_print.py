"""The Executive Group's paper: the annual run's ``executive-summary.pdf``, printed by
headless Chromium from the page's print stylesheet, read back with pypdf. Skipped where
there is no Chromium (the run then writes the HTML alone: ``test_pdf.py``)."""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from audit_analysis.render.pdf import find_browser, print_to_pdf

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        find_browser() is None,
        reason="no chromium on PATH: install Debian's chromium package to print the PDF",
    ),
]
MM = 72 / 25.4


def squash(text: str) -> str:
    """Text without its whitespace: lines wrap and cells split differently in a PDF; and
    with ligatures spelt out (a printed "figures" may come back as "\ufb01gures")."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


class Charts(HTMLParser):
    """Each chart of a page: its title, its alt text and the cells of its printed table
    (as the page shows them, in order)."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict] = []
        self._in: str | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "figure" and "chart" in classes:
            self.charts.append({"title": "", "alt": None, "cells": []})
        elif tag == "p" and "chart-title" in classes:
            self._in = "title"
        elif tag == "img" and "in-print" in classes:
            self.charts[-1]["alt"] = attrs["alt"]
            self.charts[-1]["src"] = attrs["src"][:30]
        elif tag == "div" and "print-table" in classes:
            self._in, self._depth = "table", 1
        elif tag == "div" and self._in == "table":
            self._depth += 1
        elif tag in ("td", "th") and self._in == "table":
            self.charts[-1]["cells"].append("")

    def handle_endtag(self, tag):
        if tag == "p" and self._in == "title":
            self._in = None
        elif tag == "div" and self._in == "table":
            self._depth -= 1
            if not self._depth:
                self._in = None

    def handle_data(self, data):
        if self._in == "title":
            self.charts[-1]["title"] += data
        elif self._in == "table" and self.charts[-1]["cells"]:
            self.charts[-1]["cells"][-1] += data


def charts_of(page: str) -> list[dict]:
    parser = Charts()
    parser.feed(page)
    return parser.charts


def kids(element) -> list:
    k = element.get("/K")
    if k is None:
        return []
    return [c.get_object() for c in (k if isinstance(k, list) else [k])]


def tagged_figures(reader: PdfReader) -> list[dict]:
    """Each ``<figure>`` of the tagged PDF: the pages its parts (title, subtitle, chart,
    source line) were drawn on, and its chart's alt text."""
    numbers = {p.indirect_reference.idnum: i for i, p in enumerate(reader.pages)}
    found = []

    def pages_under(element) -> set[int]:
        here = {numbers[element.raw_get("/Pg").idnum]} if "/Pg" in element else set()
        for child in kids(element):
            if isinstance(child, dict):
                here |= pages_under(child)
        return here

    def walk(element):
        if not isinstance(element, dict):
            return
        if element.get("/S") == "/Figure" and "/Alt" not in element:
            images = [c for c in kids(element) if isinstance(c, dict) and "/Alt" in c]
            found.append(
                {
                    "pages": pages_under(element),
                    "alt": [str(c["/Alt"]) for c in images],
                    "parts": [str(c.get("/S")) for c in kids(element) if isinstance(c, dict)],
                }
            )
            return
        for child in kids(element):
            walk(child)

    walk(reader.trailer["/Root"]["/StructTreeRoot"].get_object())
    return found


def placed_text(page) -> list[tuple[str, float]]:
    """Every piece of text on ``page`` with its height above the page's foot."""
    pieces: list[tuple[str, float]] = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            pieces.append((text.strip(), (cm[5] + tm[5] * cm[3]) if cm[3] else tm[5]))

    page.extract_text(visitor_text=visit)
    return pieces


@pytest.fixture(scope="module")
def paper(run):
    out, _ = run
    pdf = out / "executive-summary.pdf"
    assert pdf.is_file(), "the annual run printed no PDF although Chromium is installed"
    page = (out / "executive-summary.html").read_text(encoding="utf-8")
    return PdfReader(pdf), page


def test_the_paper_is_a4_tagged_with_its_title_cycle_and_marking(paper):
    reader, _ = paper
    info = reader.metadata
    assert info.title == "Executive summary: case audit 2019-20"
    assert "2019-20" in info.subject
    assert info["/ProtectiveMarking"] == "OFFICIAL"
    assert info["/Keywords"].startswith("OFFICIAL")
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged: figures keep alt text
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(width - 210 * MM) < 2 and abs(height - 297 * MM) < 2


def test_every_font_is_embedded_and_every_chart_is_vector(paper):
    reader, _ = paper
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts") or [font]
            for part in descendants:
                descriptor = part.get_object()["/FontDescriptor"].get_object()
                fonts[str(font["/BaseFont"])] = any(
                    k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")
                )
        assert len(page.images) == 0  # charts are the SVG, drawn as paths and text
    assert fonts and all(fonts.values()), fonts


def test_each_chart_prints_whole_with_its_title_on_the_same_page(paper):
    reader, page = paper
    charts = charts_of(page)
    figures = tagged_figures(reader)
    assert len(charts) >= 3 and len(figures) == len(charts)
    texts = [squash(p.extract_text()) for p in reader.pages]
    for chart, figure in zip(charts, figures, strict=True):
        assert chart["src"].startswith("data:image/svg+xml;base64,")
        assert figure["alt"] == [chart["alt"]]  # the print chart carries its alt text
        # title, subtitle, chart and source line: one <figure>, all on one page
        assert figure["parts"] == ["/P", "/P", "/Figure", "/Caption"]
        assert len(figure["pages"]) == 1, (chart["title"], figure["pages"])
        (number,) = figure["pages"]
        assert squash(chart["title"]) in texts[number], chart["title"]


def test_every_chart_table_prints_open_cell_by_cell(paper):
    reader, page = paper
    text = squash("".join(p.extract_text() for p in reader.pages))
    for chart in charts_of(page):
        cells = [squash(c) for c in chart["cells"] if c.strip()]
        assert len(cells) > 10
        at = text.find(squash(chart["title"]))
        assert at >= 0
        for cell in cells:  # in the table's own order, after its chart's title
            found = text.find(cell, at)
            assert found >= 0, f"{cell!r} of {chart['title']!r} is not printed"
            at = found + len(cell)


def test_marking_heads_and_foots_every_page_and_pages_are_numbered(paper):
    reader, _ = paper
    total = len(reader.pages)
    assert total >= 2
    for number, page in enumerate(reader.pages, start=1):
        height = float(page.mediabox.height)
        pieces = placed_text(page)
        top = [t for t, y in pieces if y > height - 20 * MM]
        foot = [t for t, y in pieces if y < 20 * MM]
        assert "OFFICIAL" in top, (number, top)
        assert "OFFICIAL" in foot, (number, foot)
        assert f"Page {number} of {total}" in " ".join(foot), (number, foot)
        assert any("Executive summary: case audit 2019-20" in t for t in foot)


def test_about_these_figures_is_printed_from_what_the_run_did(paper):
    reader, page = paper
    text = squash("".join(p.extract_text() for p in reader.pages))
    assert squash("About these figures") in text
    # the study compares 2017-18 (a built-in reconstruction) and uses its own 2019-20
    assert squash("2019-20/framework.yaml") in text
    assert "reconstructed" in text


def test_a_qa_page_prints_with_its_marking_and_page_numbers(run, tmp_path):
    out, _ = run
    target = tmp_path / "kloe.pdf"
    result = print_to_pdf(
        out / "02-findings-by-kloe.html",
        target,
        title="Findings by KLOE",
        subject="test",
        marking="OFFICIAL",
    )
    assert result.path == target, result.note
    reader = PdfReader(target)
    total = len(reader.pages)
    assert total > 2
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert "OFFICIAL" in text and f"Page {number} of {total}" in text
    for figure in tagged_figures(reader):
        assert len(figure["pages"]) == 1
