"""HTML for people: executed notebooks as self-contained, offline, script-free pages.

nbconvert's default templates pull require.js and MathJax from a CDN; the Executive
Group opens these pages on a locked-down laptop with no network. So we render with
nbconvert's ``basic`` template (the cells only, no ``<head>``), hide every code cell with
``exclude_input``, drop stderr (warnings are for the analyst, in the executed notebook),
and wrap the result in our own page: inline CSS, images already embedded as data URIs,
and a Content-Security-Policy that forbids any script or network request even if some
output tried one.
"""

from __future__ import annotations

import html
from functools import lru_cache
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

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
caption { text-align: left; font-weight: bold; padding: .3rem 0; }
details { margin: .25rem 0 1.25rem; } summary { cursor: pointer; color: #1d70b8; }
.note { color: var(--muted); font-size: .9rem; }
.marking { font-weight: bold; letter-spacing: .05em; }
pre { white-space: pre-wrap; }
.output_stderr { display: none; }
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


def page(title: str, body_html: str, banner: str, extra_style: str = "") -> str:
    """A complete offline page around ``body_html`` (which must already be safe HTML)."""
    return PAGE.format(
        csp=CSP,
        title=html.escape(title),
        style=STYLE + extra_style,
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
    """The cells of an executed notebook as HTML, code hidden, stderr dropped."""
    body, _ = _exporter().from_notebook_node(_without_stderr(nb))
    return body


def notebook_to_html(
    notebook: str | Path, target: str | Path, *, title: str, banner: str, extra_style: str = ""
) -> Path:
    nb = nbformat.read(str(notebook), as_version=4)
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
