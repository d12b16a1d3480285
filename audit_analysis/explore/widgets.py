"""The explorer in JupyterLab: :class:`Explorer` keeps the state (a
:class:`~audit_analysis.explore.state.Selection`), asks :mod:`.views` for the view and
shows its blocks with the one renderer (:func:`audit_analysis.render.present.screen_html`),
in an ipywidgets box: the controls in a side panel on the left, the answer on the right,
so at 1280 x 800 the answer is on screen without scrolling."""

from __future__ import annotations

import html
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields, replace
from pathlib import Path

from audit_analysis.explore import views
from audit_analysis.explore.state import (
    BANNER,
    GROUPINGS,
    NO_WIDGETS,
    ORDERS,
    VIEWS,
    Cycles,
    PreparedCycle,
    Selection,
    available_cycles,
    earlier,
    normalise,
)
from audit_analysis.explore.state import (
    sorts as sort_words,
)
from audit_analysis.io.cycles import earlier_audits, normalise_cycle
from audit_analysis.io.dataset import CASES_FILE, CycleData, load_cycle
from audit_analysis.io.labels import current as current_labels
from audit_analysis.paths import private_folder, safe_name
from audit_analysis.pipeline.notebook import project_path
from audit_analysis.render.labels import agency_name, value_label
from audit_analysis.render.outputs import write_csv
from audit_analysis.render.present import figure_image, figure_images, screen_html

__all__ = ["CHART_CACHE", "STYLE", "Explorer", "explorer"]

CHART_CACHE = 32  # charts kept for selections seen before
EXPORT_DPI = 150
PANEL_WIDTH = "240px"
e = html.escape
# The answer's tables fill the width they are given and wrap their words rather than
# run past the edge; numbers and codes never break. Scoped to the explorer.
STYLE = """<style>
.audit-explorer-answer table { border-collapse: collapse; font-size: 11.5px; width: 100%;
  margin: 4px 0; table-layout: auto; }
.audit-explorer-answer th, .audit-explorer-answer td { padding: 2px 3px; text-align: left;
  vertical-align: top; border-bottom: 1px solid #e0e0e0; line-height: 1.35;
  overflow-wrap: anywhere; white-space: pre-line; }
.audit-explorer-answer th { overflow-wrap: break-word; }
.audit-explorer .widget-html-content { line-height: 1.4; }
.audit-explorer-answer td.num { text-align: right; white-space: nowrap;
  overflow-wrap: normal; font-variant-numeric: tabular-nums; }
.audit-explorer-answer th.num { text-align: right; overflow-wrap: normal; }
.audit-explorer-answer td.nw { white-space: nowrap; overflow-wrap: normal; }
.audit-explorer-answer thead th { border-bottom: 2px solid #505a5f; }
.audit-explorer-answer caption { text-align: left; font-weight: bold; padding: 4px 0; }
.audit-explorer-answer img { max-width: 100%; height: auto; }
.audit-explorer-answer details { margin: 2px 0 6px; }
.audit-explorer-answer p, .audit-explorer-headline p { white-space: normal;
  overflow-wrap: anywhere; margin: 4px 0; }
.audit-explorer-answer .note { color: #505a5f; }
.audit-explorer-answer p.chart-title { font-weight: bold; }
.audit-explorer-answer figure { margin: 0; }
.audit-explorer-panel .widget-label, .audit-explorer-panel label { white-space: normal; }
.audit-explorer-panel .widget-button { height: auto; white-space: normal; }
.audit-explorer-status { overflow-wrap: anywhere; white-space: normal; }
</style>"""


class Explorer:
    """The explorer: :attr:`state` (a :class:`Selection`), :attr:`view` (what it shows),
    :attr:`widget` (the ipywidgets box, or ``None`` without ipywidgets).

    Change the selection with the controls (:attr:`controls`, keyed by the fields of
    :class:`Selection`) or with :meth:`set`; each change recomputes the view and
    redraws. Build one with :func:`explorer` (from a data folder) or from loaded cycles
    (``Explorer({"2018-19": data, ...}, "2018-19")``).
    """

    def __init__(
        self,
        cycles: Mapping[str, CycleData | None],
        cycle: str | None = None,
        compare: Iterable[str] | None = None,
        *,
        loader: Callable[[str], CycleData] | None = None,
        export_dir: str | Path = "outputs/explore",
        widgets: bool = True,
        chart_cache: int = CHART_CACHE,
        view: str = "changes",
        min_cell_count: int = 5,
    ) -> None:
        self.data = Cycles(cycles, loader, min_cell_count)
        self.cycles = self.data.names
        self.export_dir = project_path(export_dir)
        current = normalise_cycle(cycle) if cycle else self.cycles[-1]
        if current not in self.data:
            raise ValueError(f"no cycle {current}: found {', '.join(self.cycles)}")
        before = earlier_audits(self.cycles, current)
        chosen = before if compare is None else [normalise_cycle(c) for c in compare]
        self.state = self._normalise(Selection(cycle=current, compare=tuple(chosen), view=view))
        self.view = views.View("changes", "")
        self.redraws = 0
        self.last_redraw_seconds = 0.0
        self.error: str | None = None
        self.status = ""
        self._quiet = False
        self._charts: OrderedDict = OrderedDict()
        self._chart_cache = int(chart_cache)
        self.widget = None
        self.controls: dict[str, object] = {}
        if widgets:
            try:
                self._build_widgets()
            except ImportError:  # ipywidgets not installed: static tables only
                self.widget = None
        self.redraw()

    # ----------------------------------------------------------------- data and state

    def cycle_data(self, cycle: str) -> PreparedCycle:
        return self.data.get(cycle)

    @property
    def current(self) -> PreparedCycle:
        return self.data.get(self.state.cycle)

    def _normalise(self, s: Selection) -> Selection:
        return normalise(s, self.data.get(s.cycle), self.cycles)

    def set(self, **changes: object) -> views.View:
        """Change the selection (any fields of :class:`Selection`) and redraw once.
        Compared cycles later than the current one are kept (unused) so that they are
        compared again when the cycle moves back."""
        unknown = set(changes) - {f.name for f in fields(Selection)}
        if unknown:
            raise TypeError(f"no such control: {', '.join(sorted(unknown))}")
        if "compare" in changes:
            chosen = tuple(changes["compare"] or ())
            later = tuple(c for c in self.state.compare if c >= self.state.cycle)
            changes["compare"] = chosen + later
        if changes.keys() & {"cycle", "against", "by", "priority", "agency", "age_band", "scope"}:
            changes.setdefault("cell", "")  # a cell of another table is no cell of this one
        self.state = self._normalise(replace(self.state, **changes))
        self._sync_controls()
        return self.redraw()

    @property
    def table(self):
        return self.view.table

    @property
    def chart_data(self):
        return self.view.chart_data

    @property
    def message(self) -> str | None:
        return self.view.message

    def describe(self) -> str:
        """The selection in words: the cycle, the scope and the filters."""
        s = self.state
        words = [s.cycle, views.scope_words(s, self.current)]
        words += list(views.filter_words(s).values()) or ["every agency"]
        return ", ".join(words)

    def compute(self) -> views.View:
        """The view for the current selection (no drawing)."""
        return views.compute(self.data, self.state)

    def case_options(self) -> list[str]:
        return views.case_options(self.data, replace(self.state, agency=""))

    # ----------------------------------------------------------------- drawing

    def figure(self):
        """The current view's chart as a matplotlib Figure, or ``None`` (no chart)."""
        return None if self.view.chart is None else self.view.chart.draw()

    def chart_image(self, fmt: str = "svg") -> bytes | None:
        """The current view's chart as SVG (what the widget shows) or PNG; ``None`` when
        the view has no chart. The last few charts are kept, so going back to a
        selection redraws at once."""
        if self.view.chart is None:
            return None
        key = (self.state, fmt)
        if key in self._charts:
            self._charts.move_to_end(key)
            return self._charts[key]
        image = figure_image(self.view.chart, fmt, tight=False)  # one drawing, not two
        self._charts[key] = image
        while len(self._charts) > self._chart_cache:
            self._charts.popitem(last=False)
        return image

    def answer_html(self) -> str:
        """The view's blocks after its headline, as the one renderer shows them."""
        parts = []
        for block in self.view.blocks[2:]:
            image = self.chart_image("svg") if block is self.view.chart else None
            parts.append(screen_html(block, self.state.cycle, image))
        return "\n".join(parts)

    def headline_html(self) -> str:
        return "\n".join(screen_html(b, self.state.cycle) for b in self.view.blocks[:2])

    def redraw(self) -> views.View:
        """Recompute the view and update the widgets."""
        started = time.perf_counter()
        try:
            self.view = self.compute()
            self.error = None
            if self.widget is not None:
                self._show()
        except Exception as error:  # shown to the analyst, then raised for the log
            self.error = f"{type(error).__name__}: {error}"
            if self.widget is not None:
                self._out[
                    "headline"
                ].value = f"<p><strong>Something went wrong: {e(self.error)}</strong></p>"
            raise
        finally:
            self.redraws += 1
            self.last_redraw_seconds = time.perf_counter() - started
        return self.view

    # ----------------------------------------------------------------- export

    def _stem(self) -> str:
        s = self.state
        parts = [s.cycle, s.view, s.scope.replace(":", "-")]
        if s.view == "changes":
            parts += [f"vs-{views.against(self.data, s)}", s.by]
        parts += [p for p in (s.agency, s.priority, s.age_band) if p]
        if s.view == "case" and s.case:
            parts.append(s.case)
        return safe_name("-".join(parts))

    def export_table(self, path: str | Path | None = None) -> Path:
        """Write the table shown to CSV (formula-safe, UTF-8 with BOM, owner-only);
        returns the path."""
        path = Path(path) if path else private_folder(self.export_dir) / f"{self._stem()}.csv"
        return write_csv(self.view.table, path)

    def export_chart(self, stem: str | Path | None = None) -> tuple[Path, Path]:
        """Write the chart shown to PNG and SVG (owner-only); returns both paths.

        Raises:
            ValueError: the view has no chart.
        """
        from audit_analysis.paths import open_private

        if self.view.chart is None:
            raise ValueError("this view has no chart to export")
        base = Path(stem) if stem else private_folder(self.export_dir) / self._stem()
        private_folder(base.parent)
        png, svg = base.with_name(base.name + ".png"), base.with_name(base.name + ".svg")
        images = figure_images(self.view.chart, "png", "svg")  # one chart, one measure
        for path, fmt in ((png, "png"), (svg, "svg")):
            with open_private(path, "wb") as fh:
                fh.write(images[fmt])
        return png, svg

    # ----------------------------------------------------------------- static display

    def static_html(self) -> str:
        """The banner, why there are no controls, and the selection's change, summary,
        agency and cycles views: what shows where no widget manager is."""
        saved, state = self.view, self.state
        parts = [
            STYLE,
            f'<p class="audit-explorer-banner"><strong>{e(BANNER)}</strong></p>',
            f"<p>{e(NO_WIDGETS)}</p>",
            '<div class="audit-explorer-answer">',
        ]
        try:
            for name in ("changes", "summary", "agencies", "cycles"):
                self.state = replace(state, view=name)
                self.view = self.compute()
                tables = [b for b in self.view.blocks if type(b).__name__ == "Table"]
                parts.append(f"<h3>{e(VIEWS[name])}</h3>{self.headline_html()}")
                parts += [screen_html(b, state.cycle) for b in tables]
        finally:
            self.view, self.state = saved, state
        parts.append("</div>")
        return "\n".join(parts)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        data = {
            "text/plain": f"{BANNER}\n{NO_WIDGETS}\n{self.describe()}",
            "text/html": self.static_html(),
        }
        if self.widget is not None:
            bundle = self.widget._repr_mimebundle_() or {}
            data.update({k: v for k, v in bundle.items() if k != "text/plain"})
        return data

    # ----------------------------------------------------------------- widgets

    def _build_widgets(self) -> None:
        import ipywidgets as w

        s = self.state
        full = {"layout": w.Layout(width="100%"), "style": {"description_width": "5.5em"}}
        c: dict[str, w.Widget] = {
            "view": w.RadioButtons(
                options=[(v, k) for k, v in VIEWS.items()],
                value=s.view,
                layout=w.Layout(width="100%"),
            ),
            "cycle": w.Dropdown(description="Cycle", options=self.cycles, value=s.cycle, **full),
            "compare": w.SelectMultiple(description="Compare with", rows=3, **full),
            "like_for_like": w.Checkbox(
                description="Like for like (standards in every cycle shown)",
                value=s.like_for_like,
                indent=False,
                layout=w.Layout(width="100%"),
            ),
            "against": w.Dropdown(description="Against", **full),
            "by": w.Dropdown(
                description="Columns", options=[(v, k) for k, v in GROUPINGS.items()], **full
            ),
            "order": w.Dropdown(
                description="Sort", options=[(v, k) for k, v in ORDERS.items()], **full
            ),
            "clear_only": w.Checkbox(
                description="Only clear changes",
                value=s.clear_only,
                indent=False,
                layout=w.Layout(width="100%"),
            ),
            "cell": w.Dropdown(description="Cell", **full),
            "scope": w.Dropdown(description="Standards", **full),
            "agency": w.Dropdown(description="Agency", **full),
            "priority": w.Dropdown(
                description="Priority",
                options=[
                    ("All themes", ""),
                    *[(value_label("priority", p), p) for p in current_labels().priorities],
                ],
                **full,
            ),
            "age_band": w.Dropdown(
                description="Age band",
                options=[
                    ("All ages", ""),
                    *[(value_label("age_band", b), b) for b in current_labels().age_bands],
                ],
                **full,
            ),
            "case": w.Dropdown(description="Case", **full),
            "sort_by": w.Dropdown(description="Sort by", **full),
            "descending": w.Checkbox(
                description="Descending",
                value=s.descending,
                indent=False,
                layout=w.Layout(width="100%"),
            ),
        }
        for name, control in c.items():
            control.add_class(f"audit-explorer-{name.replace('_', '-')}")
            control.observe(self._on_control(name), names="value")
        out = {
            "banner": w.HTML(
                f'{STYLE}<div style="background:#fbe9ef;'
                f'border-left:6px solid #801650;padding:4px 10px;"><strong>{e(BANNER)}'
                "</strong></div>"
            ),
            "headline": w.HTML(layout=w.Layout(width="100%")),
            "answer": w.HTML(layout=w.Layout(width="100%")),
            "status": w.HTML(layout=w.Layout(width="100%")),
        }
        for name, widget in out.items():
            widget.add_class(f"audit-explorer-{name}")
        buttons = {
            "csv": w.Button(description="Export table (CSV)", icon="table"),
            "chart": w.Button(description="Export chart (PNG, SVG)", icon="image"),
        }
        buttons["csv"].on_click(lambda _: self._export("table"))
        buttons["chart"].on_click(lambda _: self._export("chart"))
        for name, button in buttons.items():
            button.add_class(f"audit-explorer-export-{name}")
            button.layout = w.Layout(width="100%", height="auto")
        self.controls, self._out, self.buttons = c, out, buttons

        def box(*children, title: str = "") -> w.VBox:
            head = [w.HTML(f"<strong>{e(title)}</strong>")] if title else []
            return w.VBox([*head, *children], layout=w.Layout(width="100%"))

        self._groups = {
            "changes": box(
                c["against"], c["by"], c["order"], c["clear_only"], c["cell"], title="Change"
            ),
            "cycles": box(c["compare"], c["like_for_like"]),
            "case": box(c["case"]),
            "cases": box(c["sort_by"], c["descending"]),
        }
        panel = w.VBox(
            [
                box(c["view"], title="View"),
                c["cycle"],
                *self._groups.values(),
                box(c["scope"], c["agency"], c["priority"], c["age_band"], title="Filters"),
                buttons["csv"],
                buttons["chart"],
                out["status"],
            ],
            layout=w.Layout(width=PANEL_WIDTH, min_width=PANEL_WIDTH, padding="0 8px 0 0"),
        )
        panel.add_class("audit-explorer-panel")
        main = w.VBox(
            [out["headline"], out["answer"]],
            layout=w.Layout(flex="1 1 auto", width="auto", min_width="0", overflow="hidden"),
        )
        main.add_class("audit-explorer-main")
        self.widget = w.VBox(
            [out["banner"], w.HBox([panel, main], layout=w.Layout(width="100%"))],
            layout=w.Layout(width="100%"),
        )
        self.widget.add_class("audit-explorer")
        self._sync_controls()

    def _on_control(self, name: str) -> Callable[[dict], None]:
        def changed(change: dict) -> None:
            if self._quiet:
                return
            self.set(**{name: change["new"]})

        return changed

    def _sync_controls(self) -> None:
        """Options and values of the controls from :attr:`state`, without redrawing."""
        if not self.controls:
            return
        s, cyc = self.state, self.current
        fw = cyc.data.framework
        scopes = [("All standards", "all")]
        for k in fw.kloes:
            scopes.append((f"KLOE {k.number}: {views.short(k.title, 60)}", f"kloe:{k.key}"))
            scopes += [
                (f"    {x.number}. {views.short(x.text, 70)}", f"standard:{x.key}")
                for x in k.standards
            ]
        agencies = [("All agencies", "")] + [
            (f"{a}: {views.short(agency_name(a), 40)}", a) for a in cyc.agencies
        ]
        sorts = list(sort_words().items()) + [(a, f"Agency {a}") for a in cyc.agencies]
        before = [x for x in self.cycles if x < s.cycle]
        c = self.controls
        self._quiet = True
        try:
            _options(c["scope"], scopes)
            _options(c["agency"], agencies)
            _options(c["compare"], before)
            _options(c["against"], before[::-1] or [("No earlier cycle", "")])
            _options(c["sort_by"], [(label, key) for key, label in sorts])
            values = {
                "compare": earlier(s),
                "against": views.against(self.data, s),
            }
            for f in fields(Selection):
                if f.name in ("case", "cell"):
                    continue
                value = values.get(f.name, getattr(s, f.name))
                if c[f.name].value != value:
                    c[f.name].value = value
        finally:
            self._quiet = False

    def _show(self) -> None:
        view, out, s = self.view, self._out, self.state
        self._quiet = True
        try:
            if s.view == "case":
                options = self.case_options()
                _options(self.controls["case"], options)
                shown = s.case if s.case in options else (options[0] if options else None)
                if self.controls["case"].value != shown:
                    self.controls["case"].value = shown
            if s.view == "changes":
                cells = [
                    ("Pick a cell: its cases and evidence", ""),
                    *views.cell_options(self.data, s),
                ]
                _options(self.controls["cell"], cells)
                value = s.cell if s.cell in {v for _, v in cells} else ""
                if self.controls["cell"].value != value:
                    self.controls["cell"].value = value
        finally:
            self._quiet = False
        for name, group in self._groups.items():
            group.layout.display = "" if name == s.view else "none"
        out["headline"].value = self.headline_html()
        out["answer"].value = self.answer_html()
        self.buttons["chart"].disabled = view.chart is None
        out["status"].value = ""

    def _export(self, what: str) -> None:
        try:
            written = [self.export_table()] if what == "table" else list(self.export_chart())
            self.status = "Written: " + ", ".join(str(p) for p in written)
        except (OSError, ValueError) as error:
            self.status = f"Not exported: {error}"
        if self.widget is not None:
            self._out["status"].value = f"<span>{e(self.status)}</span>"


def _options(control, options: list) -> None:
    """Set a selection control's options only when they changed (a change costs a
    message to the browser and resets the value)."""
    if tuple(control.options) != tuple(options):
        control.options = options


def explorer(
    data_dir: str | Path = "data/demo",
    cycle: str | None = None,
    compare: Iterable[str] | None = None,
    *,
    export_dir: str | Path = "outputs/explore",
    widgets: bool = True,
    chart_cache: int = CHART_CACHE,
    view: str = "changes",
    min_cell_count: int = 5,
) -> Explorer:
    """An :class:`Explorer` on the cycles under ``data_dir`` (relative paths are read
    from the project folder), starting on ``cycle`` (default: the latest) compared with
    ``compare`` (default: the earlier audits of its series,
    :func:`~audit_analysis.io.cycles.earlier_audits`) and on ``view`` (default: what
    changed). Cycles are loaded when first shown; exports go to ``export_dir``; the last
    ``chart_cache`` charts drawn are kept. An audit of no more cases than
    ``min_cell_count`` is small: a comparison with it judges no change, as its pages."""
    data_dir = project_path(data_dir)
    found = available_cycles(data_dir)
    if not found:
        raise ValueError(f"no cycle folders with a {CASES_FILE} under {data_dir}")
    return Explorer(
        dict.fromkeys(found),
        cycle,
        compare,
        loader=lambda name: load_cycle(data_dir, name),
        export_dir=export_dir,
        widgets=widgets,
        chart_cache=chart_cache,
        view=view,
        min_cell_count=min_cell_count,
    )
