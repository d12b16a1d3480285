"""HTML for people: executed notebooks as self-contained, offline, script-free pages.

nbconvert's default templates pull require.js and MathJax from a CDN; the Executive
Group opens these pages on a locked-down laptop with no network. So we render with
nbconvert's ``basic`` template (the cells only, no ``<head>``), hide every code cell with
``exclude_input``, drop stderr (warnings are for the analyst, in the executed notebook),
and wrap the result in our own page: inline CSS, images already embedded as data URIs,
and a Content-Security-Policy that forbids any script or network request even if some
output tried one.

Every page also prints (``PRINT_STYLE``): A4 portrait, the protective marking at the top
and foot of every page, the document's title and "Page n of m" at its foot (CSS page
margin boxes); each chart printed whole with its title, subtitle, source and table
(``present.Report.chart``), as vector graphics; links printed with their targets. The
Executive Group's PDF (:mod:`audit_analysis.render.pdf`) is this print, made by Chromium.
"""

from __future__ import annotations

import html
import re
import secrets
from functools import lru_cache
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

__all__ = [
    "CSP",
    "PAGE",
    "PRINT_STYLE",
    "STYLE",
    "css_string",
    "index_page",
    "marking_of",
    "mark_failed",
    "FAILED_MARKING",
    "notebook_body",
    "notebook_to_html",
    "page",
    "print_style",
]


CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "font-src 'none'; script-src 'none'; connect-src 'none'; form-action 'none'"
)

STYLE = """
:root { --ink: #0b0c0c; --muted: #505a5f; --rule: #b1b4b6; --accent: #12436D; }
* { box-sizing: border-box; }
body { font-family: Arial, Helvetica, sans-serif; color: var(--ink); margin: 0;
       line-height: 1.45; font-size: 17px; background: #fff; }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
header.banner { background: var(--accent); color: #fff; padding: .75rem 1.25rem; }
header.banner p { margin: 0; max-width: 60rem; margin: 0 auto; }
h1 { font-size: 2rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.5rem; margin: 2rem 0 .75rem; border-top: 1px solid var(--rule);
     padding-top: 1rem; }
h3 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
a { color: #1d70b8; } a:focus { outline: 3px solid #fd0; }
a.anchor-link { display: none; }
figure { margin: 1rem 0 1.5rem; }
figure img { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: .9rem; }
.chart-title { font-weight: bold; font-size: 1.1rem; margin: 0; }
.chart-subtitle { color: var(--muted); margin: .1rem 0 .5rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border-bottom: 1px solid var(--rule); padding: .3rem .6rem; text-align: left;
         vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num, td.nw { white-space: nowrap; }
td.long { min-width: 16em; }
caption { text-align: left; font-weight: bold; padding: .3rem 0; }
details { margin: .25rem 0 1.25rem; } summary { cursor: pointer; color: #1d70b8; }
.note { color: var(--muted); font-size: .9rem; }
.marking { font-weight: bold; letter-spacing: .05em; }
pre { white-space: pre-wrap; }
.output_stderr { display: none; }
p, li, td, th, caption, summary { overflow-wrap: anywhere; }
ul.headlines li { margin-bottom: .4rem; }
.qa-words.quote { border-left: 4px solid var(--rule); padding-left: .75rem; }
.qa-words.code { font-family: monospace; white-space: pre-wrap; }
/* A phone: text and tables reflow to the screen's width, never wider. Each table's rows
   stack, every cell under its column's name; charts carry a version drawn for the
   width (present.Report, a picture element). */
@media screen and (max-width: 40em) {
  body { font-size: 16px; }
  main { padding: 1rem .75rem 2rem; }
  header.banner { padding: .5rem .75rem; }
  h1 { font-size: 1.5rem; } h2 { font-size: 1.3rem; } h3 { font-size: 1.1rem; }
  table { width: 100%; }
  table, table tbody, table tr, table td, table th, table caption { display: block;
                  width: 100%; }
  table thead { position: absolute; width: 1px; height: 1px; overflow: hidden;
                clip: rect(0 0 0 0); white-space: nowrap; }
  table tbody tr { border-bottom: 1px solid var(--rule); padding: .35rem 0; }
  table tbody td, table tbody th { border: none; padding: .1rem 0;
                  text-align: left !important; white-space: normal !important;
                  min-width: 0 !important; }
  table td[data-label]::before { content: attr(data-label) ": "; font-weight: bold; }
  table td[data-label]:empty { display: none; }
  figure { margin: .75rem 0 1rem; }
}
"""

# Print: what a board member gets from Ctrl+P, and what the PDF is made from. Margin boxes
# (@top-center and the like) are CSS Paged Media, printed by Chromium from version 131;
# older browsers print the page without its running marking and page numbers, but the
# banner still heads the first page.
PRINT_STYLE = """
@page {
  size: A4 portrait;
  margin: 20mm 16mm 20mm 16mm;
  @top-center { content: "{marking}"; font: bold 10pt Arial, Helvetica, sans-serif;
                letter-spacing: .05em; color: #0b0c0c; }
  @bottom-center { content: "{marking}"; font: bold 10pt Arial, Helvetica, sans-serif;
                   letter-spacing: .05em; color: #0b0c0c; }
  @bottom-left { content: "{footer}"; font: 8pt Arial, Helvetica, sans-serif;
                 color: #505a5f; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages);
                  font: 8pt Arial, Helvetica, sans-serif; color: #505a5f; }
}
@media print {
  html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { font-size: 10.5pt; line-height: 1.35; }
  main { max-width: none; padding: 0; }
  header.banner { padding: 2.5mm 4mm; margin-bottom: 4mm; }
  header.banner p { max-width: none; }
  h1 { font-size: 20pt; margin: 0 0 4mm; }
  h2 { font-size: 15pt; margin: 7mm 0 3mm; padding-top: 3mm; break-after: avoid; }
  h3 { font-size: 12pt; break-after: avoid; }
  h1, h2, h3, .chart-title, .chart-subtitle { break-after: avoid; page-break-after: avoid; }
  .text_cell { break-after: avoid; page-break-after: avoid; }  /* a heading with its chart */
  p, li { orphans: 3; widows: 3; }
  .table-block, .print-table { break-inside: auto; }
  .chart-block { break-inside: auto; }
  figure.chart { break-inside: avoid; page-break-inside: avoid; margin: 0 0 3mm; }
  .keep-with-next { break-after: avoid; page-break-after: avoid; }
  caption { break-after: avoid; }
  .on-screen, details { display: none !important; }
  .in-print { display: block !important; }
  figure.chart img.in-print { width: auto; max-width: 100%; height: auto; max-height: 105mm; }
  table { font-size: 8pt; margin: 2mm 0 4mm; width: 100%; }
  th, td { padding: .6mm 1.5mm; }
  thead { display: table-header-group; }
  tr, td, th { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: underline; }
  main a[href]:not([href^="#"])::after { content: " (" attr(href) ")"; font-size: 90%;
                                         color: #505a5f; word-break: break-all; }
  a.anchor-link { display: none !important; }
}
"""

PAGE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<header class="banner"><p>{banner}</p></header>
<main>
{body}
</main>
</body>
</html>
"""


FAILED_MARKING = "FAILED RUN: not for circulation"
"""What every page and PDF of a failed run (``OUT/<cycle>.failed/``) says in its marking
line, before its protective marking."""
_MARGIN_BOXES = ('@top-center { content: "', '@bottom-center { content: "')


def mark_failed(path: str | Path) -> bool:
    """Mark the page at ``path`` (written by :func:`page`) as a failed run's: the banner
    and the printed marking line, top and foot of every page, open with
    :data:`FAILED_MARKING`. Returns False for a page that was not ours (left as it was)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if FAILED_MARKING in text:
        return True
    opening = '<header class="banner"><p>'
    if opening not in text:
        return False
    text = text.replace(
        opening,
        '<header class="banner" style="background:#d4351c"><p><strong>'
        f"{html.escape(FAILED_MARKING)}.</strong> ",
        1,
    )
    for box in _MARGIN_BOXES:
        text = text.replace(box, f"{box}{css_string(FAILED_MARKING)}. ")
    path.write_text(text, encoding="utf-8")
    return True


def marking_of(banner: str) -> str:
    """The protective marking a banner opens with: ``OFFICIAL: for the QA group`` ->
    ``OFFICIAL``; ``OFFICIAL-SENSITIVE: ...`` -> ``OFFICIAL-SENSITIVE``."""
    return banner.split(":", 1)[0].strip()


def css_string(text: str) -> str:
    """``text`` safe inside a double-quoted CSS string in a ``<style>`` element: every
    character that could end the string, the rule or the element is escaped. A space
    right after an escape is doubled: CSS takes the first as the escape's end."""
    out = []
    for i, char in enumerate(text):
        if char.isalnum() or char in " .,;:()-_'/&+":
            out.append(char)
        else:
            out.append(f"\\{ord(char):06x}")
            if text[i + 1 : i + 2].isspace():
                out.append(" ")
    return "".join(out)


def print_style(title: str, marking: str) -> str:
    """The print stylesheet for a page called ``title`` carrying ``marking``."""
    return PRINT_STYLE.replace("{marking}", css_string(marking)).replace(
        "{footer}", css_string(title)
    )


def page(
    title: str, body_html: str, banner: str, extra_style: str = "", marking: str | None = None
) -> str:
    """A complete offline page around ``body_html`` (which must already be safe HTML).

    ``marking`` (default: what ``banner`` opens with, before its colon) is printed at
    the top and foot of every printed page."""
    marking = marking_of(banner) if marking is None else marking
    return PAGE.format(
        csp=CSP,
        title=html.escape(title),
        style=STYLE + print_style(title, marking) + extra_style,
        banner=html.escape(banner),
        body=body_html,
    )


def _without_stderr(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(nb)  # a copy
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
    return nb


@lru_cache(maxsize=1)
def _exporter() -> HTMLExporter:
    """One exporter per process: it compiles its templates once, not once a page."""
    return HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def notebook_body(nb: nbformat.NotebookNode) -> str:
    """The cells of an executed notebook as HTML, code hidden, stderr dropped.

    nbconvert lays the cells out; the HTML outputs (the suite's own markup, escaped
    where it carries text: :mod:`audit_analysis.render.present`) are held back while it
    does, each replaced by a one-off token that is swapped back afterwards. nbconvert's
    HTML exporter re-parses its whole page with BeautifulSoup to give an ``<img>`` with
    no alt text a default one and each output a tab stop: on pages made of charts, with
    their SVG and data-URI images, that pass was three quarters of the export's time,
    and found nothing to do (every chart of the suite carries its own alt text, and no
    output scrolls). An image output of nbconvert's own (a chart an analyst added with
    ``plt.show()``) is not held back, so still gets its default alt text."""
    nb = _without_stderr(nb)
    held: dict[str, str] = {}
    stamp = secrets.token_hex(8)  # no output can guess it
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = output.get("data", {})
            if output.get("output_type") in ("display_data", "execute_result") and isinstance(
                data.get("text/html"), str
            ):
                token = f"audit-analysis-output-{stamp}-{len(held)}"
                held[token] = data["text/html"]
                data["text/html"] = token
    body, _ = _exporter().from_notebook_node(nb)
    if not held:
        return body
    return re.sub(rf"audit-analysis-output-{stamp}-\d+", lambda m: held[m.group()], body)


def notebook_to_html(
    notebook: str | Path | nbformat.NotebookNode,
    target: str | Path,
    *,
    title: str,
    banner: str,
    extra_style: str = "",
) -> Path:
    """``notebook`` (a path, or the executed notebook itself) as a complete page at
    ``target`` (:func:`page`)."""
    if isinstance(notebook, str | Path):
        nb = nbformat.read(str(notebook), as_version=4)
    else:
        nb = notebook
    target = Path(target)
    target.write_text(page(title, notebook_body(nb), banner, extra_style), encoding="utf-8")
    return target


def index_page(cycle: str, entries: list[tuple[str, str, str]], banner: str) -> str:
    """``entries``: (href, title, description), all plain text, escaped here."""
    items = "\n".join(
        f'<li><a href="{html.escape(href)}">{html.escape(title)}</a>'
        f'<br><span class="note">{html.escape(desc)}</span></li>'
        for href, title, desc in entries
    )
    body = f"<h1>Multi-agency case audit {html.escape(cycle)}</h1>\n<ul>\n{items}\n</ul>"
    return page(f"Case audit {cycle}", body, banner)
