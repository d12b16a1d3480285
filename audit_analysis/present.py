"""Presenting findings in a notebook: each chart with its title, subtitle, alt text and
the table behind it, saved as PNG, SVG and CSV; every table escaped on the way out.

A notebook calls these so that what the analyst sees in JupyterLab is what the exported
HTML shows, and every chart's numbers are on disk beside it.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .outputs import write_csv  # noqa: E402

SOURCE = "Source: multi-agency case audit returns, {cycle}."
plt.rcParams["svg.hashsalt"] = "audit-analysis"  # stable ids: same inputs, same SVG


def display_html(markup: str) -> None:
    try:
        from IPython.display import HTML, display
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return
    display(HTML(markup))


def table_html(frame: pd.DataFrame, caption: str | None = None) -> str:
    """An accessible HTML table; every cell escaped (evidence text may hold anything)."""
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else value
            cls = ' class="num"' if numeric else ""
            cells.append(f"<td{cls}>{html.escape(str(text))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>" + "".join(body) + "</tbody></table>"


class Report:
    """Where a notebook puts its figures and tables (``output_dir/figures|tables``)."""

    def __init__(self, output_dir: str | Path, cycle: str) -> None:
        self.output_dir = Path(output_dir)
        self.cycle = cycle
        self.figures = self.output_dir / "figures"
        self.tables = self.output_dir / "tables"
        self.figures.mkdir(parents=True, exist_ok=True)
        self.tables.mkdir(parents=True, exist_ok=True)

    def save_table(self, frame: pd.DataFrame, name: str) -> Path:
        return write_csv(frame, self.tables / f"{name}.csv")

    def table(self, frame: pd.DataFrame, name: str | None, caption: str, show: bool = True) -> str:
        """Save ``frame`` as ``tables/<name>.csv`` (unless name is None) and show it."""
        if name:
            self.save_table(frame, name)
        display_html(table_html(frame, caption))

    def chart(
        self,
        fig: plt.Figure,
        name: str,
        *,
        title: str,
        subtitle: str,
        alt: str,
        table: pd.DataFrame,
        table_caption: str | None = None,
    ) -> None:
        """Save the chart (PNG, SVG) and its table (CSV); show it with its alt text.

        The chart is drawn twice, not three times: the page embeds the very PNG saved in
        ``figures/`` (each drawing costs a notebook about a second per KLOE chart)."""
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=150, bbox_inches="tight", metadata={"Software": None})
        (self.figures / f"{name}.png").write_bytes(buffer.getvalue())
        fig.savefig(
            self.figures / f"{name}.svg",
            bbox_inches="tight",
            metadata={"Date": None, "Creator": None},
        )
        plt.close(fig)
        self.save_table(table, name)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        source = SOURCE.format(cycle=self.cycle)
        markup = (
            f'<figure class="chart" id="{html.escape(name)}">'
            f'<p class="chart-title">{html.escape(title)}</p>'
            f'<p class="chart-subtitle">{html.escape(subtitle)}</p>'
            f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}">'
            f"<figcaption>{html.escape(source)}</figcaption></figure>"
            f"<details><summary>Table: {html.escape(title)}</summary>"
            f"{table_html(table, table_caption or title)}</details>"
        )
        display_html(markup)

    def learning_event(self, learning: pd.DataFrame | None, kloe: int) -> None:
        """The learning event's three columns for one KLOE, if the cycle has them."""
        from .records import learning_table_html

        if learning is not None and len(learning):
            markup = learning_table_html(learning, kloe)
            if markup:
                display_html(markup)

    def say(self, text: str) -> None:
        """A sentence of findings, as escaped HTML (numbers and agency names only)."""
        display_html(f"<p>{html.escape(text)}</p>")
