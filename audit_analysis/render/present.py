"""The one renderer of sections (:mod:`audit_analysis.render.section`): each chart with
its title, subtitle, alt text and the table behind it, saved as PNG, SVG and CSV; every
text and table escaped on the way out.

A notebook calls :meth:`Report.show` so that what the analyst sees in JupyterLab is what
the exported HTML shows, and every chart's numbers are on disk beside it; blocks that
write no files (a case pack's) render with :func:`block_html` and :func:`section_html`.

A chart is one block that prints as one (``export.PRINT_STYLE``): its title, subtitle,
chart, source line and table. On screen the chart is the PNG and its table folds away
in a ``<details>``; in print the chart is the SVG (vector) and the table is printed
open, from a copy that is hidden on screen (``<details>`` never prints open, and the
page may run no script to open it). Tables show words, not codes
(:func:`audit_analysis.render.labels.display_table`); their CSV files keep the codes.
"""

from __future__ import annotations

import base64
import html
import io
import numbers
import re
from pathlib import Path

import pandas as pd

from audit_analysis.analysis.disclosure import MARKER
from audit_analysis.render.labels import display_table
from audit_analysis.render.outputs import write_csv
from audit_analysis.render.section import (
    Block,
    Bullets,
    Emphasis,
    Figure,
    Grid,
    Group,
    Heading,
    Learning,
    Runs,
    Section,
    Strong,
    Table,
    Text,
)

__all__ = [
    "LAB_STYLE",
    "PRINT_ONLY",
    "Report",
    "SOURCE",
    "block_html",
    "display_html",
    "figure_image",
    "figure_images",
    "figure_layout",
    "no_mathjax",
    "learning_table_html",
    "screen_html",
    "section_html",
    "table_html",
]


SOURCE = "Source: multi-agency case audit returns, {cycle}."
# JupyterLab right-aligns every table cell; the exported page's stylesheet aligns text
# left and numbers right. The same rules, scoped to this suite's tables, for the analyst
# working in JupyterLab (harmless on the page, whose own rules say the same).
LAB_STYLE = (
    "<style>.jp-RenderedHTMLCommon :is(.table-block, .chart-block) :is(td, th):not(.num),"
    ".jp-RenderedHTMLCommon table.learning :is(td, th) { text-align: left; "
    "vertical-align: top; }</style>"
)
# Hidden on screen, shown by the print stylesheet (``!important`` there beats this inline
# style, which keeps them hidden in JupyterLab too, where the page's stylesheet is absent).
PRINT_ONLY = 'style="display:none"'
_PERCENT = re.compile(r"-?\d+(\.\d+)?%")
_PYPLOT = None


def _pyplot():
    """matplotlib's pyplot, imported with the first chart drawn or saved here, not with
    this module: a view of tables only (the explorer's first) never pays matplotlib's
    import (issue 25). Set up as every chart of the suite is: Agg, and stable SVG ids."""
    global _PYPLOT
    if _PYPLOT is None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        plt.rcParams["svg.hashsalt"] = "audit-analysis"  # stable ids: same inputs, same SVG
        plt.rcParams["text.parse_math"] = False  # data text is drawn as written (plots.py)
        _PYPLOT = plt
    return _PYPLOT


# A DataFrame shown in a notebook is marked for MathJax to leave alone, as our HTML is.
pd.set_option("display.html.use_mathjax", False)
NO_MATHJAX = "tex2jax_ignore mathjax_ignore"
"""The classes that tell MathJax (2 and 3, as Jupyter and JupyterLab load it) not to
typeset what they hold: evidence with `$5 and $10` stays text in an executed notebook."""


def display_html(markup: str) -> None:
    """Show ``markup`` in the notebook, inside an element MathJax leaves untypeset."""
    try:
        from IPython.display import HTML, display
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return
    display(HTML(no_mathjax(markup)))


def no_mathjax(markup: str) -> str:
    """``markup`` wrapped so that no ``$`` in it is typeset as mathematics."""
    return f'<div class="{NO_MATHJAX}">{markup}</div>'


def _is_number(value: object) -> bool:
    """A number, or a percentage as :func:`~audit_analysis.render.labels.display_table`
    writes it."""
    if isinstance(value, str):
        return _PERCENT.fullmatch(value) is not None
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _cell(value: object) -> tuple[str, str]:
    """A cell's text and its class: numbers right-aligned, short codes and cycles never
    broken across lines, long wording given room to be read."""
    if _blank(value):
        return "", ""
    if _is_number(value) or value == MARKER:  # a suppressed count stands with the numbers
        return str(value), "num"
    text = str(value)
    if text and len(text) <= 12 and " " not in text:
        return text, "nw"
    return text, "long" if len(text) > 40 else ""


def _blank(value: object) -> bool:
    """None, NaN, pandas' NA or NaT: shown as an empty cell."""
    if isinstance(value, str):
        return False
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # not a scalar
        return False


def _attr(cls: str) -> str:
    return f' class="{html.escape(cls)}"' if cls else ""


def table_html(frame: pd.DataFrame, caption: str | None = None) -> str:
    """An accessible HTML table; every cell escaped (evidence text may hold anything).
    A column of numbers (suppressed ``c`` among them) has its heading right-aligned
    over them."""
    numeric = []
    for i in range(frame.shape[1]):
        values = [v for v in frame.iloc[:, i] if not _blank(v)]
        numeric.append(bool(values) and all(_is_number(v) or v == MARKER for v in values))
    head = "".join(
        f'<th scope="col"{_attr("num" if num else "")}>{html.escape(str(c))}</th>'
        for c, num in zip(frame.columns, numeric, strict=True)
    )
    body = []
    labels = [f' data-label="{html.escape(str(c), quote=True)}"' for c in frame.columns]
    for row in frame.itertuples(index=False):
        cells = []
        for value, label in zip(row, labels, strict=True):
            text, cls = _cell(value)
            cells.append(f"<td{_attr(cls)}{label}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>" + "".join(body) + "</tbody></table>"


def _runs_html(text: str | Runs) -> str:
    """A sentence, escaped, its :class:`Strong` words in bold and :class:`Emphasis` in
    italics."""
    if isinstance(text, str):
        return html.escape(text)
    out = []
    for run in text:
        if isinstance(run, Strong):
            out.append(f"<strong>{html.escape(run.text)}</strong>")
        elif isinstance(run, Emphasis):
            out.append(f"<em>{html.escape(run.text)}</em>")
        else:
            out.append(html.escape(run))
    return "".join(out)


def _grid_html(grid: Grid) -> str:
    """A grid as an accessible table: each group's title spans it, each row's label
    heads the row (its mark first); every text escaped."""
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in grid.columns)
    rows = []
    for group in grid.groups:
        rows.append(
            f'<tr{_attr(group.css)}><th colspan="{len(grid.columns)}" scope="rowgroup">'
            f"{html.escape(group.title)}</th></tr>"
        )
        for row in group.rows:
            mark = html.escape(f"{row.mark} ") if row.mark else ""
            cells = "".join(f"<td>{html.escape(v)}</td>" for v in row.cells)
            rows.append(
                f'<tr{_attr(row.css)}><th scope="row">{mark}{html.escape(row.label)}</th>'
                f"{cells}</tr>"
            )
    return (
        f"<table{_attr(grid.css)}><thead><tr>{head}</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def block_html(block: Block) -> str:
    """A block that writes nothing as escaped HTML: text, lists, headings, grids,
    learning-event tables and groups of these. Charts and tables write their files:
    :meth:`Report.html` renders them, and every other block here."""
    if isinstance(block, Text):
        return f"<p{_attr(block.css)}>{_runs_html(block.text)}</p>"
    if isinstance(block, Bullets):
        items = "".join(f"<li>{_runs_html(h)}</li>" for h in block.items)
        tag = "ol" if block.ordered else "ul"
        return f"<{tag}{_attr(block.css)}>{items}</{tag}>"
    if isinstance(block, Heading):
        return f"<h{block.level}>{html.escape(block.text)}</h{block.level}>"
    if isinstance(block, Grid):
        return _grid_html(block)
    if isinstance(block, Group):
        return "".join(block_html(b) for b in block.blocks)
    if isinstance(block, Learning):
        if block.frame is None or not len(block.frame):
            return ""
        return learning_table_html(block.frame, block.kloe)
    if isinstance(block, Table | Figure):
        raise TypeError(f"a {type(block).__name__} writes files: render it with Report.html")
    raise TypeError(f"not a block of a section: {block!r}")


def section_html(section: Section, *parts: str) -> str:
    """A section (only ``parts`` of it, when named) whose blocks write nothing, such as
    a case pack, as one piece of escaped HTML: each block on its own line."""
    markups = (block_html(block) for block in section.blocks(*parts))
    return "\n".join(m for m in markups if m)


class Report:
    """Where a notebook puts its figures and tables (``output_dir/figures|tables``)."""

    def __init__(self, output_dir: str | Path, cycle: str) -> None:
        self.output_dir = Path(output_dir)
        self.cycle = cycle
        self.figures = self.output_dir / "figures"
        self.tables = self.output_dir / "tables"
        self.figures.mkdir(parents=True, exist_ok=True)
        self.tables.mkdir(parents=True, exist_ok=True)
        self._styled = False

    def save_table(self, frame: pd.DataFrame, name: str) -> Path:
        return write_csv(frame, self.tables / f"{name}.csv")

    def show(self, section: Section | Block | list[Block], *parts: str) -> None:
        """Show a section (only ``parts`` of it, when named), a block or a list of blocks
        in the notebook, one output per block, as :meth:`html` renders them."""
        if isinstance(section, Section):
            blocks = list(section.blocks(*parts))
        elif isinstance(section, list):
            blocks = section
        else:
            blocks = [section]
        if not self._styled:  # once per notebook: tables read left to right in JupyterLab
            display_html(LAB_STYLE)
            self._styled = True
        heading = ""  # a heading is shown with what follows it: in print it never ends a page
        for block in blocks:
            markup = self.html(block)
            if isinstance(block, Heading):
                heading += markup
            elif markup:
                display_html(heading + markup)
                heading = ""
        if heading:
            display_html(heading)

    def html(self, block: Block) -> str:
        """The one renderer: a block as escaped HTML, its files written on the way
        (a chart's PNG, SVG and CSV; a named table's CSV). Blocks that write nothing
        are :func:`block_html`'s."""
        if isinstance(block, Group):
            return "".join(self.html(b) for b in block.blocks)
        if isinstance(block, Table):
            if block.name:
                self.save_table(block.frame, block.name)
            if not block.show:
                return ""
            return (
                f'<div class="table-block">{table_html(display_table(block.frame), block.caption)}'
                "</div>"
            )
        if isinstance(block, Figure):
            return self._figure_html(block)
        return block_html(block)

    def _figure_html(self, spec: Figure) -> str:
        """Draw the chart, save it (PNG, SVG) and its table (CSV), and lay it out with
        its alt text.

        The page embeds the very PNG and SVG saved in ``figures/``: the PNG for the
        screen, the SVG for print, both cropped to one measure of what the chart shows
        (:func:`_tight`)."""
        plt = _pyplot()
        fig = spec.draw()
        images = _tight(fig, "png", "svg")
        plt.close(fig)
        png, svg = images["png"], images["svg"]
        (self.figures / f"{spec.name}.png").write_bytes(png)
        (self.figures / f"{spec.name}.svg").write_bytes(svg)
        self.save_table(spec.data, spec.name)
        narrow = None
        if spec.narrow is not None:  # a phone gets the chart drawn for its width
            small = spec.narrow()
            narrow = _tight(small, "png")["png"]
            plt.close(small)
            (self.figures / f"{spec.name}-narrow.png").write_bytes(narrow)
        return figure_layout(
            spec, self.cycle, ("image/png", png), ("image/svg+xml", svg), narrow=narrow
        )


PNG_DPI = 150
"""The resolution of every PNG chart (recorded in the file)."""
_PNG_METADATA = {"Software": None}
_SVG_METADATA = {"Date": None, "Creator": None}


def _tight(fig, *formats: str) -> dict[str, bytes]:
    """A drawn chart in each of ``formats`` (``"png"``, ``"svg"``), cropped to what it
    shows as ``savefig(bbox_inches="tight")`` crops it, but measured once for all.

    ``bbox_inches="tight"`` draws a chart twice per file (once to measure it, once to
    write it). Here it is drawn once on the Agg canvas at :data:`PNG_DPI` (only laid
    out, when no PNG is asked for), its tight box (padded by ``savefig.pad_inches``)
    measured on that drawing, the PNG cut out of the drawing's pixels and the SVG
    saved with that same box: the run's charts and the explorer's exports agree. A
    chart that draws beyond its own edge (which the drawing's pixels cannot show) has
    its PNG saved by ``savefig`` with that box instead."""
    plt = _pyplot()
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):  # pragma: no cover - Agg is set up
        return {fmt: _save(fig, fmt) for fmt in formats}
    dpi = fig.dpi
    fig.dpi = PNG_DPI
    try:
        if "png" in formats:
            fig.canvas.draw()
        else:
            fig.draw_without_rendering()
        shown = fig.get_tightbbox(fig.canvas.get_renderer()).frozen()
        box = shown.padded(plt.rcParams["savefig.pad_inches"])
        png = _crop_png(fig, shown, box) if "png" in formats else None
    finally:
        fig.dpi = dpi
    images = {}
    for fmt in formats:
        if fmt == "png":
            images[fmt] = png if png is not None else _save(fig, "png", box)
        else:
            images[fmt] = _save(fig, fmt, box)
    return images


def _crop_png(fig, shown, box) -> bytes | None:
    """The chart's drawing (at :data:`PNG_DPI`) cut to ``box`` (inches, from the
    figure's lower left) as PNG: the pixels ``savefig`` writes for that box, its
    background where the box's padding reaches past the figure's edge. None when what
    the chart ``shown`` reaches past the edge (no pixels of it were drawn), or when
    ``savefig`` would paint another background than the figure's."""
    import matplotlib.image
    import numpy as np
    from matplotlib.colors import to_rgba

    rc = _pyplot().rcParams
    face = to_rgba(fig.get_facecolor())
    pixels = np.asarray(fig.canvas.buffer_rgba())
    height, width = pixels.shape[:2]

    def rows_cols(bbox):  # (top, left, bottom, right) in the drawing's pixels
        # savefig's canvas for a box: its size truncated to whole pixels, its lower left
        # corner at the box's; Agg counts rows down from the top of the whole pixels.
        w, h = int(bbox.width * PNG_DPI), int(bbox.height * PNG_DPI)
        left, top = round(bbox.x0 * PNG_DPI), round(height - h - bbox.y0 * PNG_DPI)
        return top, left, top + h, left + w

    top, left, bottom, right = rows_cols(shown)
    if (
        top < 0
        or left < 0
        or bottom > height
        or right > width
        or face[3] != 1
        or rc["savefig.transparent"]
        or not all(_is(rc[f"savefig.{k}"], "auto") for k in ("facecolor", "edgecolor"))
    ):
        return None
    top, left, bottom, right = rows_cols(box)
    out = np.empty((bottom - top, right - left, 4), np.uint8)
    out[...] = [round(c * 255) for c in face]  # savefig's figure patch fills the box
    inside = pixels[max(top, 0) : min(bottom, height), max(left, 0) : min(right, width)]
    out[
        max(-top, 0) : max(-top, 0) + inside.shape[0],
        max(-left, 0) : max(-left, 0) + inside.shape[1],
    ] = inside
    buffer = io.BytesIO()
    matplotlib.image.imsave(
        buffer,
        memoryview(out),
        format="png",
        origin="upper",
        dpi=PNG_DPI,
        metadata=_PNG_METADATA,
    )
    return buffer.getvalue()


def _is(value: object, word: str) -> bool:
    """``value`` is ``word`` (a box or colour is never compared with a word)."""
    return isinstance(value, str) and value == word


def _save(fig, fmt: str, bbox_inches="tight") -> bytes:
    """A drawn chart saved by ``savefig`` as PNG (:data:`PNG_DPI`) or SVG, cropped to
    ``bbox_inches``: "tight" (measured here, at the cost of drawing it once more), a
    box in inches, or None (the whole figure).

    A chart laid out once by ``tight_layout`` keeps a layout engine that lays nothing
    out, for which ``savefig`` would draw it once more before saving: it is set aside
    while saving with a box already measured or none."""
    _pyplot()  # its settings hold for the saving too
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    buffer = io.BytesIO()
    engine = fig.get_layout_engine()
    idle = isinstance(engine, PlaceHolderLayoutEngine) and not _is(bbox_inches, "tight")
    if idle:
        fig.set_layout_engine(None)
    try:
        if fmt == "png":
            fig.savefig(
                buffer,
                format="png",
                dpi=PNG_DPI,
                bbox_inches=bbox_inches,
                metadata=_PNG_METADATA,
            )
        else:
            fig.savefig(buffer, format="svg", bbox_inches=bbox_inches, metadata=_SVG_METADATA)
    finally:
        if idle:
            fig.set_layout_engine(engine)
    return buffer.getvalue()


def figure_image(spec: Figure, fmt: str = "svg", tight: bool = True) -> bytes:
    """A chart drawn as :meth:`Report.html` draws it, as SVG or PNG bytes, writing no
    file (for a screen that shows charts without saving them, such as the explorer):
    cropped as the run crops it (:func:`_tight`). ``tight=False`` keeps the chart's own
    margins (its layout already fits it) and draws it only to write it: for a screen
    that redraws on every click."""
    if tight:
        return figure_images(spec, fmt)[fmt]
    fig = spec.draw()
    try:
        return _save(fig, fmt, None)
    finally:
        _pyplot().close(fig)


def figure_images(spec: Figure, *formats: str) -> dict[str, bytes]:
    """The chart in each of ``formats`` (``"png"``, ``"svg"``) exactly as the run saves
    it, built and measured once for all, writing no file (the explorer's export)."""
    plt = _pyplot()
    fig = spec.draw()
    try:
        return _tight(fig, *formats)
    finally:
        plt.close(fig)


def figure_layout(
    spec: Figure,
    cycle: str,
    screen: tuple[str, bytes],
    printed: tuple[str, bytes] | None = None,
    narrow: bytes | None = None,
) -> str:
    """A chart block's markup: title, subtitle, the image (``screen``: its media type
    and bytes; ``printed``: the one for print, when another; ``narrow``: a PNG drawn for
    a phone's width, shown instead on a narrow screen), source line and key, and the
    table behind it folded away (and printed open when there is a print image)."""
    title = spec.title
    alt_text = html.escape(spec.alt, quote=True)

    def img(kind: tuple[str, bytes], attrs: str) -> str:
        data = base64.b64encode(kind[1]).decode("ascii")
        return f'<img {attrs} src="data:{kind[0]};base64,{data}" alt="{alt_text}">'

    caption = SOURCE.format(cycle=cycle) + (f" {spec.key}" if spec.key else "")
    shown = table_html(display_table(spec.data), spec.table_caption or title)
    images = img(screen, 'class="on-screen"')
    if narrow is not None:
        small = base64.b64encode(narrow).decode("ascii")
        images = (
            '<picture class="on-screen"><source media="(max-width: 40em)" '
            f'srcset="data:image/png;base64,{small}">{images}</picture>'
        )
    tail = ""
    if printed is not None:
        images += img(printed, f'class="in-print" {PRINT_ONLY}')
        tail = f'<div class="in-print print-table" {PRINT_ONLY}>{shown}</div>'
    return (
        f'<div class="chart-block"><figure class="chart" id="{html.escape(spec.name)}">'
        f'<p class="chart-title">{html.escape(title)}</p>'
        f'<p class="chart-subtitle">{html.escape(spec.subtitle)}</p>'
        f"{images}<figcaption>{html.escape(caption)}</figcaption></figure>"
        f"<details><summary>Table: {html.escape(title)}</summary>{shown}</details>"
        f"{tail}</div>"
    )


def screen_html(block: Block, cycle: str, image: bytes | None = None) -> str:
    """A block as :meth:`Report.html` shows it, writing no file: a table with its
    caption, a chart as :func:`figure_layout` lays it out (``image``: its SVG, drawn
    here when not given), any other block as :func:`block_html`."""
    if isinstance(block, Group):
        return "".join(screen_html(b, cycle) for b in block.blocks)
    if isinstance(block, Table):
        if not block.show:
            return ""
        return (
            f'<div class="table-block">{table_html(display_table(block.frame), block.caption)}'
            "</div>"
        )
    if isinstance(block, Figure):
        svg = image if image is not None else figure_image(block, "svg")
        return figure_layout(block, cycle, ("image/svg+xml", svg))
    return block_html(block)


def learning_table_html(learning: pd.DataFrame, kloe: int) -> str:
    """The three-column table of one KLOE's learning-event feedback, escaped."""
    part = learning[learning["kloe"] == kloe]
    if part.empty:
        return ""
    cells = []
    from audit_analysis.io.records import COLUMN_TITLES

    for column in COLUMN_TITLES:
        items = "".join(
            f"<li>{html.escape(t)}</li>" for t in part.loc[part["column"] == column, "text"]
        )
        cells.append(f"<td><ul>{items}</ul></td>" if items else "<td></td>")
    head = "".join(f'<th scope="col">{html.escape(t)}</th>' for t in COLUMN_TITLES.values())
    return (
        '<table class="learning"><caption>Learning event: what practitioners said'
        f"</caption><thead><tr>{head}</tr></thead><tbody><tr>{''.join(cells)}</tr>"
        "</tbody></table>"
    )
