"""The Executive Group's report as its readers get it (issue 19): on a phone, on paper,
in plain words, with the QA group's commentary shown as text whatever it holds. Built on
the annual run of the study (``tests/study.py``, whose 2019-20 cycle has a hostile draft
commentary), read in Chromium and from its PDF."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from conftest import needs_chromium
from study import COMMENTARY_HOSTILE

from audit_analysis.render.export import css_string
from audit_analysis.render.plots import NARROW_POINTS

pytestmark = [pytest.mark.e2e, needs_chromium("report layout")]
MM = 72 / 25.4
# statistical terms that belong in "About these figures" and the QA pages, never above
JARGON = re.compile(
    r"alpha|\bAC1\b|false discovery|\bMOVER\b|Benjamini|Hochberg|Krippendorff|Gwet|"
    r"p-value|\bkappa\b",
    re.IGNORECASE,
)


class Text(HTMLParser):
    """A page's visible text in order, and its headings (``h2``, ``h3``)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.headings: list[str] = []
        self._heading = ""
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "title"):
            self._skip += 1
        if tag in ("h2", "h3"):
            self._heading = " "

    def handle_endtag(self, tag):
        if tag in ("style", "script", "title"):
            self._skip -= 1
        if tag in ("h2", "h3") and self._heading:
            self.headings.append(self._heading.strip())
            self._heading = ""

    def handle_data(self, data):
        if self._skip:
            return
        self.parts.append(data)
        if self._heading:
            self._heading += data


def page_text(markup: str) -> Text:
    parser = Text()
    parser.feed(markup)
    return parser


@pytest.fixture(scope="module")
def executive(run):
    out, _ = run
    return out, (out / "executive-summary.html").read_text(encoding="utf-8")


def test_the_commentary_is_on_the_page_as_text_with_its_figures_filled_in(executive):
    out, markup = executive
    text = "".join(page_text(markup).parts)
    assert COMMENTARY_HOSTILE in text  # shown, as text
    assert "<script" not in markup.lower() and "<b>bold" not in markup
    assert not re.search(r"<img[^>]*src=.http", markup)  # nothing fetched
    links = re.findall(r'href="([^"]*)"', markup.split("<main>", 1)[1])
    assert all(link.startswith("#") for link in links), links  # headings' own anchors only
    assert "[image not shown: remote (http://evil.invalid/remote.png)]" in text
    assert "[click](javascript:void(0))" in text
    assert "{{" not in text and "95% interval by case" in text
    assert "Plans" in text and "Agree the recommendations." in text


def test_every_page_of_a_draft_says_draft(run):
    out, _ = run
    for page in sorted(out.glob("*.html")):
        markup = page.read_text(encoding="utf-8")
        assert "OFFICIAL – DRAFT:" in markup, page.name  # the banner
        assert f'content: "{css_string("OFFICIAL – DRAFT")}"' in markup, page.name  # print


def test_above_about_these_figures_there_is_no_statistical_jargon(executive):
    _, markup = executive
    body = markup.split("<main>", 1)[1]
    above = body.split(">About these figures</h2>", 1)[0]
    words = " ".join(page_text(above).parts)
    assert not JARGON.search(words), JARGON.search(words)
    below = body.split(">About these figures</h2>", 1)[1]
    assert JARGON.search(" ".join(page_text(below).parts))  # the methods are named there
    assert not re.search(r"\w…", words)  # no standard cut mid-wording


def test_on_a_phone_nothing_scrolls_sideways_and_chart_text_is_readable(browser, run):
    out, _ = run
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page.goto((out / "executive-summary.html").as_uri(), wait_until="load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    wide = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
              .filter(e => e.getBoundingClientRect().right > 391 && e.offsetParent !== null
                           && !e.closest('thead'))
              .map(e => e.tagName + '.' + e.className + ':' + e.textContent.slice(0, 40))"""
    )
    assert wide == []
    # each chart on screen is the version drawn for this width: its text, drawn at
    # NARROW_POINTS at 150 dpi, shown at the picture's width
    shown = page.evaluate(
        """() => [...document.querySelectorAll('figure.chart picture img')]
              .map(i => [i.currentSrc.length, i.naturalWidth, i.getBoundingClientRect().width])"""
    )
    assert shown, "no chart on the executive page has a version for phones"
    for _, natural, width in shown:
        assert NARROW_POINTS / 72 * 150 * width / natural >= 9
    smallest = page.evaluate(
        """() => Math.min(...[...document.querySelectorAll('main p, main li, main td, main th')]
              .filter(e => e.offsetParent !== null && e.textContent.trim())
              .map(e => parseFloat(getComputedStyle(e).fontSize)))"""
    )
    assert smallest >= 12
    page.close()


def _pages(pdf):
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    pages = []
    for page in reader.pages:
        pieces: list[tuple[str, float]] = []

        def visit(text, cm, tm, font, size, pieces=pieces):
            if text.strip():
                pieces.append((text.strip(), (cm[5] + tm[5] * cm[3]) if cm[3] else tm[5]))

        page.extract_text(visitor_text=visit)
        height = float(page.mediabox.height)
        # the page's own content: between the top and bottom margins (20 mm each)
        content = [(t, y) for t, y in pieces if 20 * MM < y < height - 20 * MM]
        pages.append((height, content))
    return pages


def test_on_paper_no_page_is_half_empty_and_no_heading_ends_a_page(executive):
    out, markup = executive
    pdf = out / "executive-summary.pdf"
    assert pdf.is_file()
    headings = set(page_text(markup).headings)
    pages = _pages(pdf)
    for number, (height, content) in enumerate(pages[:-1], start=1):
        assert content, f"page {number} is empty"
        lowest = min(y for _, y in content)
        filled = (height - 20 * MM - lowest) / (height - 40 * MM)
        assert filled > 0.5, f"page {number} is {1 - filled:.0%} empty"
        last = min(content, key=lambda p: p[1])[0]
        assert last not in headings, f"page {number} ends with the heading {last!r}"


def test_on_paper_the_commentary_is_text_and_percentages_read_as_on_screen(executive):
    out, markup = executive
    words = " ".join(t for _, content in _pages(out / "executive-summary.pdf") for t, _ in content)
    squashed = re.sub(r"\s+", "", words)
    assert re.sub(r"\s+", "", COMMENTARY_HOSTILE) in squashed
    assert not re.search(r"\d+\.\d%", words)  # tables print whole percentages, as on screen
