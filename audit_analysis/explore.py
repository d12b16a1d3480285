"""The QA analyst's explorer (issue 12): a finding looked into with controls, not code.

``explorer(data_dir, cycle)`` loads the cycles found in ``data_dir`` and gives back an
:class:`Explorer`: pick the cycle and the cycles to compare, all standards, a KLOE or
one standard, and filter by agency, priority theme and age band; see the share met or
exceeded with its interval by case and the rating distribution, the same by agency and
over the cycles, the cases behind the selection, one case's ratings and evidence side
by side, and the disagreements with their evidence; export the table shown to CSV and
the chart to PNG and SVG. Its ``widget`` is an ipywidgets box for JupyterLab
(``notebooks/00-explore.ipynb``); its state (:attr:`Explorer.state`) and what it shows
(:attr:`Explorer.view`: tables and chart data) are plain Python, tested without a
browser. Where no widget manager can show the controls, it displays a message and
static tables instead.

**For the QA group only.** It names cases and quotes evidence: a banner says so, and it
is never part of the annual run or the Executive Group's page. Every piece of text it
renders as HTML is escaped; its CSV exports are formula-safe (:mod:`.outputs`).

**The same figures as the reports.** Shares and intervals are those of
:func:`~audit_analysis.analysis.summaries.add_shares` on counts with the columns of
:func:`~audit_analysis.analysis.summaries.tally` (the case as the sampling unit); changes
between cycles use the trend tables' machinery (:func:`~audit_analysis.analysis.inference.\
effective_sizes`, :func:`~audit_analysis.analysis.inference.difference_limits` and
:func:`~audit_analysis.analysis.inference.difference_p_values`). To redraw in a fraction of a
second on a national table (a million ratings a cycle), each cycle's ratings are
counted once into an array of case x agency x standard x rating, and a selection's
tally is read from it (:func:`tally_selection`); ``tests/test_explore.py`` checks it
equals :func:`~audit_analysis.analysis.summaries.tally` on the selected ratings.
"""

from __future__ import annotations

import contextlib
import html
import io
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from audit_analysis.analysis.agreement import disagreement_register
from audit_analysis.analysis.inference import (
    difference_limits,
    difference_p_values,
    effective_sizes,
)
from audit_analysis.analysis.summaries import (
    AGE_BANDS,
    COUNT_COLUMNS,
    STAT_COLUMNS,
    add_shares,
    age_band,
)
from audit_analysis.analysis.trends import NO_RATINGS, NOT_IN_FRAMEWORK, RATED, verdicts
from audit_analysis.io.cycles import normalise_cycle, parse_cycle
from audit_analysis.io.dataset import CASES_FILE, CycleData, load_cycle
from audit_analysis.io.schemas import PRIORITIES
from audit_analysis.pipeline.notebook import project_path
from audit_analysis.render import plots
from audit_analysis.render.labels import agency_name, rating_label
from audit_analysis.render.outputs import write_csv

__all__ = [
    "BANNER",
    "NO_MATCH",
    "VIEWS",
    "Explorer",
    "Selection",
    "View",
    "available_cycles",
    "explorer",
    "tally_selection",
]

BANNER = (
    "OFFICIAL-SENSITIVE: for the case audit QA group only. This explorer shows case "
    "references and auditors' evidence: do not share it, or what it exports, beyond the "
    "QA group, and never with the Executive Group."
)
NO_MATCH = "No ratings match this selection"
NO_WIDGETS = (
    "The explorer's controls need Jupyter's widget manager: open this notebook in "
    "JupyterLab 4 with ipywidgets installed (`make lab` installs both) and run it there. "
    "Shown here instead: static tables for the selection it starts with."
)
VIEWS = {
    "summary": "Share and ratings",
    "agencies": "By agency",
    "cycles": "Over the cycles",
    "cases": "Cases",
    "case": "One case",
    "disagreements": "Disagreements",
}
SORTS = {
    "case_ref": "Case reference",
    "priority": "Priority theme",
    "age_band": "Age band",
    "share": "Share met or exceeded",
    "n": "Ratings on the scale",
}
SHOWN_ROWS = 200  # a table longer than this shows its first rows; the export has all
SCREEN_DPI = 80
CHART_CACHE = 32  # charts kept for selections seen before
EXPORT_DPI = 150
SOURCE = "Source: multi-agency case audit returns, {cycle}. For the QA group only."
# the rating words the pages use (ratings.yaml's labels), so the explorer and the
# report never name a rating two ways
RATING_NAMES = {code: rating_label(code) for code in COUNT_COLUMNS}
_EXCEEDED, _MET, _PARTIAL, _UNMET, _NA, _BLANK = range(len(COUNT_COLUMNS))
_RANK = np.array([4.0, 3.0, 2.0, 1.0, np.nan, np.nan])  # a single rating, for sorting
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


# --------------------------------------------------------------------------- cycles


def available_cycles(data_dir: str | Path) -> list[str]:
    """The cycles under ``data_dir``: folders named for a cycle holding a ``cases.csv``."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        return []
    found = set()
    for child in data_dir.iterdir():
        cycle = parse_cycle(child.name) if child.is_dir() else None
        if cycle and (child / CASES_FILE).is_file():
            found.add(cycle)
    return sorted(found)


@dataclass
class _Cycle:
    """One cycle's ratings, counted once: ``cube[case, agency, standard, rating]``
    (ratings in the order of :data:`~audit_analysis.analysis.summaries.COUNT_COLUMNS`), with
    each rating row's codes to find its evidence."""

    data: CycleData
    case_refs: np.ndarray
    priority: np.ndarray
    age_band: np.ndarray
    agencies: list[str]
    std_keys: np.ndarray
    std_kloe: np.ndarray
    cube: np.ndarray
    row_case: np.ndarray
    row_agency: np.ndarray
    row_std: np.ndarray
    row_ok: np.ndarray
    _by_case: tuple[np.ndarray, np.ndarray] | None = None
    _register: pd.DataFrame | None = None

    @property
    def cycle(self) -> str:
        return self.data.cycle

    def rows_of_case(self, code: int) -> np.ndarray:
        """Positions in ``data.ratings`` of one case's ratings, in table order."""
        if self._by_case is None:
            order = np.argsort(self.row_case, kind="stable")
            bounds = np.searchsorted(self.row_case[order], np.arange(len(self.case_refs) + 1))
            self._by_case = (order, bounds)
        order, bounds = self._by_case
        return order[bounds[code] : bounds[code + 1]]

    def register(self) -> pd.DataFrame:
        """:func:`~audit_analysis.analysis.agreement.disagreement_register` of the whole cycle,
        with each standard's ``text``."""
        if self._register is None:
            table = disagreement_register(self.data.ratings)
            fw = self.data.framework
            table["text"] = table["standard_key"].map({s.key: s.text for s in fw.standards})
            self._register = table
        return self._register


def _positions(rating: pd.Series) -> np.ndarray:
    """Each rating's place in :data:`COUNT_COLUMNS`; -1 for anything else."""
    index = {c: i for i, c in enumerate(COUNT_COLUMNS)}
    if isinstance(rating.dtype, pd.CategoricalDtype):
        lookup = np.array([index.get(str(c), -1) for c in rating.cat.categories] + [-1])
        return lookup[rating.cat.codes.to_numpy()]
    return rating.astype(object).map(index).fillna(-1).to_numpy(dtype=np.int64)


def _prepare(data: CycleData) -> _Cycle:
    ratings, fw = data.ratings, data.framework
    refs = [str(r) for r in data.cases["case_ref"]]
    extra = sorted(set(ratings["case_ref"].dropna().astype(str)) - set(refs))
    refs = np.array([*refs, *extra], dtype=object)
    row_case = pd.Index(refs).get_indexer(ratings["case_ref"].astype(object))
    agencies = sorted(str(a) for a in ratings["agency"].dropna().unique())
    row_agency = pd.Index(agencies, dtype=object).get_indexer(ratings["agency"].astype(object))
    std_keys = np.array([s.key for s in fw.standards], dtype=object)
    row_std = pd.Index(std_keys).get_indexer(ratings["standard_key"].astype(object))
    row_cat = _positions(ratings["rating"])
    ok = (row_case >= 0) & (row_agency >= 0) & (row_std >= 0) & (row_cat >= 0)
    shape = (len(refs), len(agencies), len(std_keys), len(COUNT_COLUMNS))
    flat = np.ravel_multi_index((row_case[ok], row_agency[ok], row_std[ok], row_cat[ok]), shape)
    cube = np.bincount(flat, minlength=int(np.prod(shape))).astype(np.uint16).reshape(shape)
    lookup = data.cases.drop_duplicates("case_ref").set_index("case_ref")
    priority = pd.Series(refs).map(lookup.get("priority", {}))
    ages = pd.Series(refs).map(lookup.get("age", {}))
    return _Cycle(
        data=data,
        case_refs=refs,
        priority=priority.astype(object).where(priority.notna(), None).to_numpy(dtype=object),
        age_band=age_band(ages).astype(object).where(ages.notna(), None).to_numpy(dtype=object),
        agencies=agencies,
        std_keys=std_keys,
        std_kloe=np.array([s.kloe_key for s in fw.standards], dtype=object),
        cube=cube,
        row_case=row_case,
        row_agency=row_agency,
        row_std=row_std,
        row_ok=ok,
    )


# --------------------------------------------------------------------------- counting


def tally_selection(counts: np.ndarray) -> pd.DataFrame:
    """:func:`~audit_analysis.analysis.summaries.tally`'s columns from counts already made.

    ``counts`` is ``(groups, cases, 6)``: each group's ratings of each case in the order
    of :data:`~audit_analysis.analysis.summaries.COUNT_COLUMNS`. One row per group: each
    category's count, ``cases`` (cases with a rating on the scale), ``case_ss`` (the sum
    over cases of ``(y_i - p n_i) ** 2``), ``n`` and ``met_or_better``: what
    :func:`~audit_analysis.analysis.summaries.add_shares` needs for the interval by case.
    """
    counts = np.asarray(counts, dtype=np.int64)
    y = counts[..., _EXCEEDED] + counts[..., _MET]
    n = y + counts[..., _PARTIAL] + counts[..., _UNMET]
    big_y, big_n = y.sum(axis=1), n.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(big_n > 0, big_y / np.where(big_n > 0, big_n, 1), 0.0)
    frame = pd.DataFrame(counts.sum(axis=1), columns=list(COUNT_COLUMNS))
    frame["cases"] = (n > 0).sum(axis=1)
    frame["case_ss"] = ((y - p[:, None] * n) ** 2).sum(axis=1)
    frame["n"] = big_n
    frame["met_or_better"] = big_y
    return frame


def _shares(counts: np.ndarray) -> pd.DataFrame:
    return add_shares(tally_selection(counts))


STATS = list(STAT_COLUMNS)


# --------------------------------------------------------------------------- state


@dataclass(frozen=True)
class Selection:
    """What the controls say. ``scope`` is ``all``, ``kloe:<kloe_key>`` or
    ``standard:<standard_key>``; an empty ``agency``, ``priority`` or ``age_band`` means
    all; ``view`` is a key of :data:`VIEWS`; ``case`` the case of the one-case view;
    ``sort_by`` and ``descending`` order the cases view; ``like_for_like`` counts, over
    the cycles, only standards in every compared cycle's framework."""

    cycle: str
    compare: tuple[str, ...] = ()
    scope: str = "all"
    agency: str = ""
    priority: str = ""
    age_band: str = ""
    view: str = "summary"
    case: str = ""
    sort_by: str = "case_ref"
    descending: bool = False
    like_for_like: bool = True


@dataclass
class View:
    """What the explorer shows for a selection.

    ``table`` is the table shown (and exported), with raw numbers; ``chart_data`` the
    numbers behind the chart (``None``: no chart); ``message`` is set when nothing
    matches or something needs saying instead of a table."""

    name: str
    title: str
    headline: str = ""
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    table_html: str = ""
    chart_data: pd.DataFrame | None = None
    chart_kind: str = ""
    chart_title: str = ""
    chart_subtitle: str = ""
    message: str | None = None


# --------------------------------------------------------------------------- helpers

e = html.escape


def _pct(value: object) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):.0%}"


def _signed(value: object) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value) * 100:+.0f} pts"


def _interval(low: object, high: object) -> str:
    if low is None or pd.isna(low):
        return "too few cases for an interval"
    return f"95% interval by case {_pct(low)} to {_pct(high)}"


def _short(text: str, limit: int = 46) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _cell(column: str, value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if column in ("share", "low", "high"):
        return e(_pct(value))
    if column.startswith("change"):
        return e(_signed(value))
    if column == "p":
        return e(f"{float(value):.3f}")
    if isinstance(value, bool | np.bool_):
        return "yes" if value else ""
    if isinstance(value, int | np.integer):
        return e(f"{int(value):,}")
    if isinstance(value, float | np.floating):
        return e(f"{float(value):,.2f}")
    return e(str(value)).replace("\n", "<br>")


HEADINGS = {
    "kloe": "KLOE",
    "standard": "Standard",
    "text": "Wording",
    "agency_name": "Agency",
    "agency": "Code",
    **RATING_NAMES,
    "n": "On the scale",
    "met_or_better": "Met or exceeded",
    "share": "Share",
    "low": "95% low",
    "high": "95% high",
    "cases": "Cases",
    "cycle": "Cycle",
    "status": "Status",
    "standards": "Standards",
    "change": "Change",
    "change_low": "Change low",
    "change_high": "Change high",
    "verdict": "Verdict",
    "case_ref": "Case",
    "priority": "Priority theme",
    "age_band": "Age band",
    "agencies_met": "Met or exceeded by",
    "agencies_unmet": f"{rating_label('unmet')} by",
    "ratings": "Every rating",
    "evidence_met": "Evidence: met or exceeded",
    "evidence_unmet": "Evidence: unmet",
}
STYLE = """<style>
table.audit-explorer-data { border-collapse: collapse; font-size: 12px; margin: 4px 0; }
table.audit-explorer-data th, table.audit-explorer-data td {
  padding: 2px 6px; border-bottom: 1px solid #e0e0e0; vertical-align: top; text-align: left;
  line-height: 1.35; }
table.audit-explorer-data thead th { border-bottom: 2px solid #505a5f; }
table.audit-explorer-data td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.audit-explorer-data td.text { min-width: 16em; max-width: 30em; }
table.audit-explorer-data tr.disagree { background: #fbe9ef; }
table.audit-explorer-data caption { text-align: left; font-weight: bold; padding: 4px 0; }
</style>"""
_TEXT_COLUMNS = {"text", "evidence_met", "evidence_unmet", "ratings", "agency_name"}


def html_table(frame: pd.DataFrame, limit: int = SHOWN_ROWS, caption: str = "") -> str:
    """``frame`` as an HTML table, every cell escaped, shares as percentages, columns
    under readable headings; at most ``limit`` rows, with a note saying how many more
    the export holds."""
    columns = [str(c) for c in frame.columns]
    head = "".join(f'<th scope="col">{e(HEADINGS.get(c, c))}</th>' for c in columns)
    rows = []
    for values in frame.head(limit).itertuples(index=False):
        cells = []
        for c, v in zip(columns, values, strict=True):
            numeric = isinstance(v, int | float | np.integer | np.floating) and not isinstance(
                v, bool | np.bool_
            )
            cls = ' class="num"' if numeric else (' class="text"' if c in _TEXT_COLUMNS else "")
            cells.append(f"<td{cls}>{_cell(c, v)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    note = ""
    if len(frame) > limit:
        note = (
            f'<p class="note">Showing the first {limit:,} of {len(frame):,} rows; '
            "the CSV export holds them all.</p>"
        )
    cap = f"<caption>{e(caption)}</caption>" if caption else ""
    return (
        f'<table class="audit-explorer-data">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{note}"
    )


def _message_html(text: str) -> str:
    return f'<p class="audit-explorer-message"><strong>{e(text)}</strong></p>'


# --------------------------------------------------------------------------- charts


def _frame(height: float, width: float = 10.0) -> Figure:
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _axes(
    fig: Figure, labels: list[str], height: float, right: float = 2.4, top: float = 1.05
) -> object:
    """Axes placed by fixed margins in inches (no tight_layout: it draws the figure
    once more), the left one wide enough for the longest label at 9 points."""
    width = fig.get_figwidth()
    longest = max((len(s) for s in labels), default=4)
    left = min(0.45 * width, 0.3 + 0.074 * longest)
    bottom = 0.75
    return fig.add_axes(
        (left / width, bottom / height, 1 - (left + right) / width, 1 - (bottom + top) / height)
    )


def _titles(fig: Figure, view: View, cycle: str) -> None:
    height = fig.get_figheight()
    fig.text(0.01, 1 - 0.22 / height, view.chart_title, fontsize=10.5, weight="bold")
    fig.text(0.01, 1 - 0.42 / height, view.chart_subtitle, fontsize=8, color="#505a5f")
    fig.text(0.01, 0.06 / height, SOURCE.format(cycle=cycle), fontsize=7, color="#505a5f")


HATCHES = {"unmet": "///", "partially_met": "\\\\\\", "met": "", "exceeded": ""}


def _bars(view: View, cycle: str) -> Figure:
    """Stacked bars of each row's ratings (worst to best, hatched where below met, so
    colour is not the only cue), with the share met or exceeded and its interval at the
    right. One collection per rating, not a patch per bar: quick to draw."""
    rows = view.chart_data.reset_index(drop=True)
    labels = list(rows["label"])
    height = 1.9 + 0.3 * len(rows)
    fig = _frame(height)
    ax = _axes(fig, labels, height)
    y = np.arange(len(rows))[::-1].astype(float)
    totals = rows[list(plots.RATING_COLOURS)].sum(axis=1).replace(0, np.nan)
    left = np.zeros(len(rows))
    handles = []
    for category, colour in plots.RATING_COLOURS.items():
        share = (rows[category] / totals).fillna(0).to_numpy()
        boxes = [
            [(x0, yi - 0.36), (x0 + w, yi - 0.36), (x0 + w, yi + 0.36), (x0, yi + 0.36)]
            for x0, w, yi in zip(left, share, y, strict=True)
            if w > 0
        ]
        ax.add_collection(
            PolyCollection(
                boxes,
                facecolors=colour,
                edgecolors="white",
                linewidths=0.5,
                hatch=HATCHES[category] or None,
            ),
            autolim=False,
        )
        handles.append(
            Patch(
                facecolor=colour,
                edgecolor="white",
                hatch=HATCHES[category] or None,
                label=plots.RATING_LABELS[category],
            )
        )
        left += share
    for yi, row in zip(y, rows.itertuples(index=False), strict=True):
        if row.n > 0:
            text = f"{row.share:.0%} met or better, n={int(row.n):,}"
            if pd.notna(row.low):
                text += f" ({_pct(row.low)}-{_pct(row.high)})"
            else:
                text += " (no interval: few cases)"
        else:
            text = "no ratings on the scale"
        ax.text(1.02, yi, text, va="center", fontsize=7.5, transform=ax.get_yaxis_transform())
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("Share of ratings on the scale (n/a and not recorded left out)", fontsize=8)
    ax.legend(
        handles=handles,
        ncols=4,
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        frameon=False,
        fontsize=8,
    )
    _titles(fig, view, cycle)
    return fig


def _dots(view: View, cycle: str) -> Figure:
    rows = view.chart_data.reset_index(drop=True)
    labels = list(rows["label"])
    height = 1.65 + 0.42 * len(rows)
    fig = _frame(height)
    ax = _axes(fig, labels, height, right=3.2, top=0.8)
    y = np.arange(len(rows))[::-1]
    for k, (yi, row) in enumerate(zip(y, rows.itertuples(index=False), strict=True)):
        colour = plots.CATEGORICAL[k % len(plots.CATEGORICAL)]
        if pd.notna(row.share):
            low = row.share - row.low if pd.notna(row.low) else 0
            high = row.high - row.share if pd.notna(row.high) else 0
            ax.errorbar(
                [row.share],
                [yi],
                xerr=[[low], [high]],
                fmt=plots.MARKERS[k % 6],
                color=colour,
                capsize=3,
                markersize=6,
            )
        ax.text(1.03, yi, row.note, va="center", fontsize=7.5, transform=ax.get_yaxis_transform())
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlim(-0.02, 1.02)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("Share met or exceeded, with its 95% interval by case", fontsize=8)
    ax.grid(axis="x", color="#e0e0e0", linewidth=0.6)
    _titles(fig, view, cycle)
    return fig


# --------------------------------------------------------------------------- explorer


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
    ) -> None:
        self._sources = dict(cycles)
        if not self._sources:
            raise ValueError("no cycles to explore")
        self._loader = loader
        self._prepared: dict[str, _Cycle] = {}
        self.cycles = sorted(self._sources)
        self.export_dir = project_path(export_dir)
        current = normalise_cycle(cycle) if cycle else self.cycles[-1]
        if current not in self._sources:
            raise ValueError(f"no cycle {current}: found {', '.join(self.cycles)}")
        earlier = [c for c in self.cycles if c < current]
        chosen = earlier if compare is None else [normalise_cycle(c) for c in compare]
        self.state = self._normalise(Selection(cycle=current, compare=tuple(chosen)))
        self.view = View("summary", "")
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

    # ----------------------------------------------------------------- data

    def cycle_data(self, cycle: str) -> _Cycle:
        if cycle not in self._prepared:
            data = self._sources.get(cycle)
            if data is None:
                if self._loader is None:
                    raise ValueError(f"cycle {cycle} is not loaded")
                data = self._loader(cycle)
                self._sources[cycle] = data
            self._prepared[cycle] = _prepare(data)
        return self._prepared[cycle]

    @property
    def current(self) -> _Cycle:
        return self.cycle_data(self.state.cycle)

    # ----------------------------------------------------------------- state

    def _normalise(self, s: Selection) -> Selection:
        cyc = self.cycle_data(s.cycle)
        fw = cyc.data.framework
        compare = tuple(sorted({c for c in s.compare if c in self._sources and c < s.cycle}))
        scopes = {"all"} | {f"kloe:{k.key}" for k in fw.kloes}
        scopes |= {f"standard:{x.key}" for x in fw.standards}
        scope = s.scope if s.scope in scopes else "all"
        agency = s.agency if s.agency in cyc.agencies else ""
        priority = s.priority if s.priority in PRIORITIES else ""
        band = s.age_band if s.age_band in AGE_BANDS else ""
        view = s.view if s.view in VIEWS else "summary"
        sort_by = s.sort_by if s.sort_by in SORTS or s.sort_by in cyc.agencies else "case_ref"
        return replace(
            s,
            compare=compare,
            scope=scope,
            agency=agency,
            priority=priority,
            age_band=band,
            view=view,
            sort_by=sort_by,
            descending=bool(s.descending),
            like_for_like=bool(s.like_for_like),
        )

    def set(self, **changes: object) -> View:
        """Change the selection (any fields of :class:`Selection`) and redraw once."""
        unknown = set(changes) - {f.name for f in fields(Selection)}
        if unknown:
            raise TypeError(f"no such control: {', '.join(sorted(unknown))}")
        if "compare" in changes:
            changes["compare"] = tuple(changes["compare"] or ())
        self.state = self._normalise(replace(self.state, **changes))
        self._sync_controls()
        return self.redraw()

    @property
    def table(self) -> pd.DataFrame:
        return self.view.table

    @property
    def chart_data(self) -> pd.DataFrame | None:
        return self.view.chart_data

    @property
    def message(self) -> str | None:
        return self.view.message

    # ----------------------------------------------------------------- selection

    def _std_mask(self, cyc: _Cycle, keep: set[str] | None = None) -> np.ndarray:
        scope = self.state.scope
        if scope.startswith("kloe:"):
            mask = cyc.std_kloe == scope[5:]
        elif scope.startswith("standard:"):
            mask = cyc.std_keys == scope[9:]
        else:
            mask = np.ones(len(cyc.std_keys), dtype=bool)
        if keep is not None:
            mask &= np.isin(cyc.std_keys, list(keep))
        return mask

    def _case_mask(self, cyc: _Cycle) -> np.ndarray:
        mask = np.ones(len(cyc.case_refs), dtype=bool)
        if self.state.priority:
            mask &= cyc.priority == self.state.priority
        if self.state.age_band:
            mask &= cyc.age_band == self.state.age_band
        return mask

    def _agency_mask(self, cyc: _Cycle) -> np.ndarray:
        if not self.state.agency:
            return np.ones(len(cyc.agencies), dtype=bool)
        return np.array([a == self.state.agency for a in cyc.agencies], dtype=bool)

    def _selected(self, cyc: _Cycle, keep: set[str] | None = None):
        """(case, agency, standard) positions selected and their counts
        ``(cases, agencies, standards, 6)``."""
        ci = np.flatnonzero(self._case_mask(cyc))
        ai = np.flatnonzero(self._agency_mask(cyc))
        si = np.flatnonzero(self._std_mask(cyc, keep))
        return ci, ai, si, cyc.cube[np.ix_(ci, ai, si)]

    def describe(self) -> str:
        """The selection in words."""
        s, fw = self.state, self.current.data.framework
        parts = [s.cycle]
        if s.scope.startswith("kloe:"):
            k = next(k for k in fw.kloes if k.key == s.scope[5:])
            parts.append(f"KLOE {k.number}: {k.title}")
        elif s.scope.startswith("standard:"):
            x = fw.by_key(s.scope[9:])
            parts.append(f"standard {x.number}: {_short(x.text, 70)}")
        else:
            parts.append("all standards")
        parts.append(f"agency {s.agency}" if s.agency else "every agency")
        if s.priority:
            parts.append(f"priority theme {s.priority.replace('_', ' ')}")
        if s.age_band:
            parts.append(f"age band {s.age_band}")
        return ", ".join(parts)

    def _headline(self, total: pd.Series | None) -> str:
        what = e(self.describe())
        if total is None or total["n"] == 0:
            return f'<p class="audit-explorer-headline">{what}.</p>'
        return (
            f'<p class="audit-explorer-headline">{what}: <strong>{_pct(total["share"])}</strong> '
            f"of {int(total['n']):,} ratings on the scale met or exceeded "
            f"({e(_interval(total['low'], total['high']))}; {int(total['cases']):,} cases).</p>"
        )

    # ----------------------------------------------------------------- views

    def compute(self) -> View:
        """The view for the current selection (no drawing)."""
        cyc = self.current
        ci, ai, si, sub = self._selected(cyc)
        totals = _shares(sub.sum(axis=(1, 2))[None])
        total = totals.iloc[0]
        rated = int(sub.sum())
        name = self.state.view
        view = View(name, VIEWS[name], headline=self._headline(total))
        if rated == 0 or (total["n"] == 0 and name not in ("case", "cycles")):
            view.message = NO_MATCH + (
                "." if rated == 0 else f" on the scale: all {rated:,} are n/a or not recorded."
            )
            if name != "cycles":
                view.table_html = _message_html(view.message)
                return view
        builder = getattr(self, f"_view_{name}")
        builder(view, cyc, ci, ai, si, sub, totals)
        return view

    def _view_summary(self, view, cyc, ci, ai, si, sub, totals) -> None:
        total = totals.iloc[0]
        fw = cyc.data.framework
        per_standard = _shares(sub.sum(axis=1).transpose(1, 0, 2))
        meta = fw.to_frame().iloc[si].reset_index(drop=True)
        per_standard.insert(0, "row", "standard")
        for column in ("kloe", "standard", "standard_key", "text"):
            per_standard.insert(per_standard.columns.get_loc("row") + 1, column, meta[column])
        per_standard = per_standard[["row", "kloe", "standard", "standard_key", "text", *STATS]]
        top = totals[STATS].copy()
        top.insert(0, "row", "selection")
        for column in ("kloe", "standard", "standard_key", "text"):
            top.insert(1, column, None)
        top = top[per_standard.columns]
        table = pd.concat([top, per_standard], ignore_index=True) if len(si) > 1 else per_standard
        table["kloe"] = pd.array(table["kloe"], dtype="Int64")
        table["standard"] = pd.array(table["standard"], dtype="Int64")
        view.table = table
        labels = [
            "All in selection" if r.row == "selection" else f"{r.standard}. {_short(r.text, 38)}"
            for r in table.itertuples(index=False)
        ]
        view.chart_data = table.assign(label=labels)[["label", *STATS]]
        view.chart_kind = "bars"
        view.chart_title = self._finding(total)
        view.chart_subtitle = (
            f"{_short(self.describe(), 110)}. Each row: its ratings as shares of those on "
            "the scale."
        )
        shown = table.drop(columns=["row", "standard_key"])
        shown["text"] = shown["text"].where(table["row"] != "selection", "All in selection")
        view.table_html = html_table(shown)

    def _finding(self, total: pd.Series) -> str:
        if total["n"] == 0:
            return "No ratings on the scale"
        if pd.isna(total["low"]):
            return (
                f"{total['share']:.0%} of ratings met or exceeded (too few cases for an interval)"
            )
        return (
            f"{total['share']:.0%} of ratings met or exceeded "
            f"(95% interval by case {total['low']:.0%} to {total['high']:.0%})"
        )

    def _view_agencies(self, view, cyc, ci, ai, si, sub, totals) -> None:
        total = totals.iloc[0]
        per_agency = _shares(sub.sum(axis=2).transpose(1, 0, 2))
        codes = [cyc.agencies[i] for i in ai]
        per_agency.insert(0, "agency", codes)
        per_agency.insert(1, "agency_name", [agency_name(c) for c in codes])
        per_agency = per_agency[per_agency[list(COUNT_COLUMNS)].sum(axis=1) > 0]
        top = totals[STATS].copy()
        top.insert(0, "agency", "all")
        top.insert(1, "agency_name", "All agencies in selection")
        table = pd.concat([top, per_agency[["agency", "agency_name", *STATS]]], ignore_index=True)
        view.table = table
        labels = ["All in selection", *table["agency"].iloc[1:]]
        view.chart_data = table.assign(label=labels)[["label", *STATS]]
        view.chart_kind = "bars"
        view.chart_title = f"By agency: {_lower(self._finding(total))}"
        view.chart_subtitle = f"{_short(self.describe(), 110)}. Each agency's ratings."
        view.table_html = html_table(table)

    def _view_cycles(self, view, cyc, ci, ai, si, sub, totals) -> None:
        total = totals.iloc[0]
        s = self.state
        shown = [*s.compare, s.cycle]
        data = [self.cycle_data(c) for c in shown]
        keep = None
        if s.like_for_like and s.scope.startswith(("all", "kloe:")) and len(data) > 1:
            keep = set.intersection(*({str(k) for k in d.std_keys} for d in data))
        rows, parts = [], []
        for d in data:
            _, _, chosen, part = self._selected(d, keep)
            parts.append(part.sum(axis=(1, 2)))
            exists = s.scope == "all" or bool(self._std_mask(d).any())  # KLOE or standard
            rows.append(
                {
                    "cycle": d.cycle,
                    "current": d.cycle == s.cycle,
                    "in_framework": exists and len(chosen) > 0,
                    "standards": int(len(chosen)),
                }
            )
        # cycles hold different cases: pad with empty cases, which count for nothing
        padded = np.zeros((len(parts), max(len(x) for x in parts), len(COUNT_COLUMNS)), "int64")
        for i, x in enumerate(parts):
            padded[i, : len(x)] = x
        table = pd.concat([pd.DataFrame(rows), _shares(padded)], axis=1)
        table["status"] = np.where(
            ~table["in_framework"],
            NOT_IN_FRAMEWORK,
            np.where(table["n"] > 0, RATED, NO_RATINGS),
        )
        p1, n1, df1 = effective_sizes(
            table["met_or_better"], table["n"], table["case_ss"], table["cases"]
        )
        now = len(table) - 1  # the current cycle, last: every change is current minus earlier
        current = [np.full(len(table), a[now]) for a in (p1, n1, df1)]
        diff, low, high = difference_limits(*current, p1, n1, df1)
        p = difference_p_values(*current, p1, n1, df1)
        earlier = ~table["current"].to_numpy()
        table["change"] = np.where(earlier, diff, np.nan)
        table["change_low"] = np.where(earlier, low, np.nan)
        table["change_high"] = np.where(earlier, high, np.nan)
        table["p"] = np.where(earlier, p, np.nan)
        table["verdict"] = [
            ""
            if not earlier[i]
            else verdicts([table["change"].iloc[i]], [table["p"].iloc[i]], 0.95)[0]
            for i in range(len(table))
        ]
        columns = ["cycle", "status", "standards", *STATS, "change", "change_low", "change_high"]
        table = table[[*columns, "p", "verdict"]]
        view.table = table
        if table["n"].sum() == 0:
            view.message = NO_MATCH + " in any of the cycles shown."
            view.table_html = _message_html(view.message)
            return
        notes = []
        for r in table.itertuples(index=False):
            if r.status != "rated":
                notes.append(r.status)
            elif r.cycle == s.cycle:
                notes.append(f"{r.share:.0%}, n={int(r.n):,} (current)")
            elif pd.isna(r.change_low):
                notes.append(f"{r.share:.0%}; change not estimable")
            else:
                notes.append(
                    f"{r.share:.0%}; change {r.change * 100:+.0f} pts "
                    f"({r.change_low * 100:+.0f} to {r.change_high * 100:+.0f}): {r.verdict}"
                )
        view.chart_data = table.assign(label=table["cycle"], note=notes)[
            ["label", "note", *STATS, "change", "change_low", "change_high", "verdict"]
        ]
        view.chart_kind = "dots"
        view.chart_title = f"Over the cycles: {_lower(self._finding(total))} in {s.cycle}"
        view.chart_subtitle = f"{_short(self.describe(), 110)}."
        if len(table) == 1:
            view.message = "Choose cycles to compare with (earlier cycles only)."
        note = (
            "Change: the current cycle's share minus that cycle's, with its 95% interval by "
            "case and p-value (one comparison: a standard picked from many is better read "
            "from the trends notebook's adjusted verdicts)."
        )
        if keep is not None:
            note += " Like for like: only standards in every cycle shown are counted."
        shown = html_table(table)
        view.table_html = (
            (_message_html(view.message) if view.message else "")
            + shown
            + f'<p class="note">{e(note)}</p>'
        )

    def _cases_table(self, cyc, ci, ai, si, sub) -> pd.DataFrame:
        per_agency = sub.sum(axis=2)  # (case, agency, 6)
        per_case = per_agency.sum(axis=1)  # (case, 6)
        any_rating = per_case.sum(axis=1) > 0
        y = per_case[:, _EXCEEDED] + per_case[:, _MET]
        n = y + per_case[:, _PARTIAL] + per_case[:, _UNMET]
        table = pd.DataFrame(
            {
                "case_ref": cyc.case_refs[ci],
                "priority": cyc.priority[ci],
                "age_band": cyc.age_band[ci],
                "n": n.astype("int64"),
                "met_or_better": y.astype("int64"),
            }
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            table["share"] = np.where(n > 0, y / np.where(n > 0, n, 1), np.nan)
        keys: dict[str, np.ndarray] = {}
        for j, a in enumerate(ai):
            counts = per_agency[:, j, :]
            code = cyc.agencies[a]
            if len(si) == 1:
                which = counts.argmax(axis=1)
                has = counts.sum(axis=1) > 0
                table[code] = np.where(
                    has, np.array([RATING_NAMES[c] for c in COUNT_COLUMNS], dtype=object)[which], ""
                )
                keys[code] = np.where(has, _RANK[which], np.nan)
            else:
                ya = counts[:, _EXCEEDED] + counts[:, _MET]
                na = ya + counts[:, _PARTIAL] + counts[:, _UNMET]
                other = counts[:, _NA] + counts[:, _BLANK]
                table[code] = np.where(
                    na > 0,
                    [f"{a_}/{b_}" for a_, b_ in zip(ya, na, strict=True)],
                    np.where(other > 0, "n/a", ""),
                )
                with np.errstate(divide="ignore", invalid="ignore"):
                    keys[code] = np.where(na > 0, ya / np.where(na > 0, na, 1), np.nan)
        table = table[any_rating].reset_index(drop=True)
        order_key = {c: v[any_rating] for c, v in keys.items()}
        s = self.state
        if s.sort_by in order_key:
            key = pd.Series(order_key[s.sort_by])
        elif s.sort_by == "priority":
            key = table["priority"].map({p: i for i, p in enumerate(PRIORITIES)})
        elif s.sort_by == "age_band":
            key = table["age_band"].map({b: i for i, b in enumerate(AGE_BANDS)})
        else:
            key = table[s.sort_by] if s.sort_by in table else table["case_ref"]
        order = (
            pd.DataFrame({"key": key.to_numpy(), "ref": table["case_ref"].to_numpy()})
            .sort_values(["key", "ref"], ascending=[not s.descending, True], na_position="last")
            .index
        )
        return table.loc[order].reset_index(drop=True)

    def _view_cases(self, view, cyc, ci, ai, si, sub, totals) -> None:
        table = self._cases_table(cyc, ci, ai, si, sub)
        view.table = table
        each = "rating" if len(si) == 1 else "ratings met or exceeded out of those on the scale"
        caption = (
            f"{len(table):,} cases behind this selection; under each agency, its {each}. "
            f"Sorted by {SORTS.get(self.state.sort_by, self.state.sort_by)}"
            + (", descending." if self.state.descending else ".")
        )
        view.table_html = html_table(table, caption=caption)

    def case_options(self) -> list[str]:
        """The cases the one-case view can show: those behind the selection."""
        cyc = self.current
        ci, ai, si, sub = self._selected(cyc)
        return [str(c) for c in cyc.case_refs[ci][sub.sum(axis=(1, 2, 3)) > 0]]

    def _view_case(self, view, cyc, ci, ai, si, sub, totals) -> None:
        options = self.case_options()
        case = self.state.case if self.state.case in options else (options[0] if options else "")
        if case != self.state.case:
            self.state = replace(self.state, case=case)
        if not case:
            view.message = NO_MATCH + "."
            view.table_html = _message_html(view.message)
            return
        code = int(np.flatnonzero(cyc.case_refs == case)[0])
        rows = cyc.rows_of_case(code)
        rows = rows[np.isin(cyc.row_agency[rows], ai) & np.isin(cyc.row_std[rows], si)]
        ratings = cyc.data.ratings
        mine = pd.DataFrame(
            {
                "agency": ratings["agency"].to_numpy(dtype=object)[rows],
                "standard_key": ratings["standard_key"].to_numpy(dtype=object)[rows],
                "rating": ratings["rating"].astype(object).to_numpy()[rows],
                "evidence": (
                    ratings["evidence"].astype(object).to_numpy()[rows]
                    if "evidence" in ratings
                    else np.full(len(rows), None, dtype=object)
                ),
            }
        )
        agencies = sorted(mine["agency"].unique())
        silent = [a for a in (cyc.agencies[i] for i in ai) if a not in agencies]
        grid = cyc.data.framework.to_frame().iloc[si][["kloe", "standard", "standard_key", "text"]]
        grid = grid[grid["standard_key"].isin(set(mine["standard_key"]))].reset_index(drop=True)
        said = mine.groupby("standard_key")["rating"].agg(set)
        grid["disagree"] = [
            bool(said.get(k, set()) & {"met", "exceeded"}) and "unmet" in said.get(k, set())
            for k in grid["standard_key"]
        ]
        rating_of = mine.drop_duplicates(["standard_key", "agency"]).set_index(
            ["standard_key", "agency"]
        )
        for agency in agencies:
            got = [
                rating_of.loc[(k, agency)] if (k, agency) in rating_of.index else None
                for k in grid["standard_key"]
            ]
            grid[f"{agency} rating"] = [
                RATING_NAMES.get(g["rating"], g["rating"]) if g is not None else "" for g in got
            ]
            grid[f"{agency} evidence"] = [
                (g["evidence"] if isinstance(g["evidence"], str) else "") if g is not None else ""
                for g in got
            ]
        grid.insert(0, "case_ref", case)
        view.table = grid
        i = code
        facts = (
            f"Case {case}: priority theme {(cyc.priority[i] or 'not given').replace('_', ' ')}, "
            f"age band {cyc.age_band[i] or 'not given'}. Rated by {', '.join(agencies)}."
        )
        if silent:
            facts += f" Of the agencies selected, {', '.join(silent)} rated nothing in scope here."
        head = "".join(f'<th scope="col">{e(a)}</th>' for a in agencies)
        body = []
        for _, r in grid.iterrows():
            cells = []
            for agency in agencies:
                rating, evidence = r[f"{agency} rating"], r[f"{agency} evidence"]
                text = f"<strong>{e(rating)}</strong>" if rating else ""
                if rating and evidence:
                    text += "<br>" + e(evidence).replace("\n", "<br>")
                elif rating:
                    text += "<br><em>no evidence given</em>"
                cells.append(f"<td>{text}</td>")
            mark = "◆ " if r["disagree"] else ""
            cls = ' class="disagree"' if r["disagree"] else ""
            body.append(
                f'<tr{cls}><th scope="row">{mark}{int(r["standard"])}. {e(str(r["text"]))}</th>'
                + "".join(cells)
                + "</tr>"
            )
        view.table_html = (
            f"<p>{e(facts)}</p>"
            '<p class="note">◆ marks a standard where one agency says met or exceeded and '
            "another unmet.</p>"
            f'<table class="audit-explorer-data audit-explorer-case"><thead><tr>'
            f'<th scope="col">Standard</th>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>"
        )

    def _view_disagreements(self, view, cyc, ci, ai, si, sub, totals) -> None:
        register = cyc.register()
        keep = register["standard_key"].isin(set(cyc.std_keys[si])) & register["case_ref"].isin(
            set(cyc.case_refs[ci])
        )
        if self.state.agency:
            agency = self.state.agency
            sides = register["agencies_met"] + ", " + register["agencies_unmet"]
            keep &= sides.map(lambda t: agency in str(t).split(", "))
        table = register[keep][
            [
                "case_ref",
                "kloe",
                "standard",
                "text",
                "agencies_met",
                "agencies_unmet",
                "ratings",
                "evidence_met",
                "evidence_unmet",
            ]
        ].reset_index(drop=True)
        view.table = table
        if table.empty:
            view.message = "No disagreements in this selection."
            view.table_html = _message_html(view.message)
            return
        caption = (
            f"{len(table):,} disagreements: a case and standard where one agency says met or "
            "exceeded and another unmet, with what each side wrote."
        )
        view.table_html = html_table(table, caption=caption)

    # ----------------------------------------------------------------- drawing

    def figure(self) -> Figure | None:
        """The current view's chart as a matplotlib Figure, or ``None`` (no chart)."""
        view = self.view
        if view.chart_data is None or view.message and view.chart_kind != "dots":
            return None
        draw = _bars if view.chart_kind == "bars" else _dots
        return draw(view, self.state.cycle)

    def chart_image(self, fmt: str = "svg") -> bytes | None:
        """The current view's chart as SVG (what the widget shows: drawn in a third of
        the time of a PNG, whose text is rasterised glyph by glyph) or PNG; ``None``
        when the view has no chart. The last few charts are kept, so going back to a
        selection redraws at once."""
        key = (self.state, fmt)
        if key in self._charts:
            self._charts.move_to_end(key)
            return self._charts[key]
        fig = self.figure()
        if fig is None:
            return None
        buffer = io.BytesIO()
        if fmt == "svg":
            fig.savefig(buffer, format="svg", metadata={"Date": None})
        else:
            fig.savefig(buffer, format="png", dpi=SCREEN_DPI, metadata={"Software": None})
        image = buffer.getvalue()
        self._charts[key] = image
        while len(self._charts) > self._chart_cache:
            self._charts.popitem(last=False)
        return image

    def redraw(self) -> View:
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
                self._out["headline"].value = _message_html(f"Something went wrong: {self.error}")
            raise
        finally:
            self.redraws += 1
            self.last_redraw_seconds = time.perf_counter() - started
        return self.view

    # ----------------------------------------------------------------- export

    def _stem(self) -> str:
        s = self.state
        parts = [s.cycle, s.view, s.scope.replace(":", "-")]
        parts += [p for p in (s.agency, s.priority, s.age_band) if p]
        if s.view == "case" and s.case:
            parts.append(s.case)
        return _SAFE_NAME.sub("_", "-".join(parts))

    def export_table(self, path: str | Path | None = None) -> Path:
        """Write the table shown to CSV (formula-safe, UTF-8 with BOM); returns the path."""
        path = Path(path) if path else self.export_dir / f"{self._stem()}.csv"
        return write_csv(self.view.table, path)

    def export_chart(self, stem: str | Path | None = None) -> tuple[Path, Path]:
        """Write the chart shown to PNG and SVG; returns both paths.

        Raises:
            ValueError: the view has no chart.
        """
        fig = self.figure()
        if fig is None:
            raise ValueError("this view has no chart to export")
        base = Path(stem) if stem else self.export_dir / self._stem()
        base.parent.mkdir(parents=True, exist_ok=True)
        png, svg = base.with_suffix(".png"), base.with_suffix(".svg")
        fig.savefig(png, dpi=EXPORT_DPI, metadata={"Software": None})
        fig.savefig(svg, metadata={"Date": None})
        return png, svg

    # ----------------------------------------------------------------- static display

    def static_html(self) -> str:
        """The banner, why there are no controls, and the selection's summary, agency and
        cycles tables: what shows where no widget manager is."""
        saved = self.view
        parts = [
            STYLE,
            f'<p class="audit-explorer-banner"><strong>{e(BANNER)}</strong></p>',
            f"<p>{e(NO_WIDGETS)}</p>",
        ]
        try:
            for name in ("summary", "agencies", "cycles"):
                state = self.state
                self.state = replace(state, view=name)
                try:
                    view = self.compute()
                finally:
                    self.state = state
                parts.append(f"<h3>{e(view.title)}</h3>{view.headline}{view.table_html}")
        finally:
            self.view = saved
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
        wide = w.Layout(width="auto")
        c: dict[str, w.Widget] = {
            "cycle": w.Dropdown(description="Cycle", options=self.cycles, value=s.cycle),
            "compare": w.SelectMultiple(description="Compare with", rows=3),
            "like_for_like": w.Checkbox(
                description="Like for like (standards in every cycle shown)",
                value=s.like_for_like,
                indent=False,
            ),
            "scope": w.Dropdown(description="Standards", layout=w.Layout(width="46em")),
            "agency": w.Dropdown(description="Agency"),
            "priority": w.Dropdown(
                description="Priority",
                options=[("All themes", ""), *[(p.replace("_", " "), p) for p in PRIORITIES]],
            ),
            "age_band": w.Dropdown(
                description="Age band", options=[("All ages", ""), *[(b, b) for b in AGE_BANDS]]
            ),
            "view": w.ToggleButtons(options=[(v, k) for k, v in VIEWS.items()], value=s.view),
            "case": w.Dropdown(description="Case"),
            "sort_by": w.Dropdown(description="Sort by"),
            "descending": w.Checkbox(description="Descending", value=s.descending, indent=False),
        }
        style = {"description_width": "initial"}
        for name, control in c.items():
            control.add_class(f"audit-explorer-{name.replace('_', '-')}")
            if hasattr(control, "style") and name not in ("view",):
                with contextlib.suppress(AttributeError):
                    control.style.description_width = style["description_width"]
            control.observe(self._on_control(name), names="value")
        out = {
            "banner": w.HTML(
                f'{STYLE}<div style="background:#fbe9ef;border-left:6px solid #801650;'
                f'padding:6px 10px;"><strong>{e(BANNER)}</strong></div>'
            ),
            "headline": w.HTML(),
            "chart": w.Image(format="svg+xml", layout=w.Layout(max_width="100%")),
            "table": w.HTML(layout=w.Layout(overflow="auto", max_height="36em")),
            "status": w.HTML(),
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
            button.layout = w.Layout(width="auto")
        self.controls, self._out, self.buttons = c, out, buttons
        self._case_row = w.HBox([c["case"]])
        self._sort_row = w.HBox([c["sort_by"], c["descending"]])
        self.widget = w.VBox(
            [
                out["banner"],
                w.HBox([c["cycle"], c["compare"], c["like_for_like"]]),
                c["scope"],
                w.HBox([c["agency"], c["priority"], c["age_band"]]),
                c["view"],
                self._case_row,
                self._sort_row,
                out["headline"],
                out["chart"],
                out["table"],
                w.HBox([buttons["csv"], buttons["chart"], out["status"]]),
            ],
            layout=wide,
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
            scopes.append((f"KLOE {k.number}: {_short(k.title, 60)}", f"kloe:{k.key}"))
            scopes += [
                (f"    {x.number}. {_short(x.text, 70)}", f"standard:{x.key}") for x in k.standards
            ]
        agencies = [("All agencies", "")] + [
            (f"{a}: {_short(agency_name(a), 40)}", a) for a in cyc.agencies
        ]
        sorts = list(SORTS.items()) + [(a, f"Agency {a}") for a in cyc.agencies]
        c = self.controls
        self._quiet = True
        try:
            _options(c["scope"], scopes)
            _options(c["agency"], agencies)
            _options(c["compare"], [c_ for c_ in self.cycles if c_ < s.cycle])
            _options(c["sort_by"], [(label, key) for key, label in sorts])
            if s.view == "case":
                _options(c["case"], self.case_options())
            for name in (
                "cycle",
                "compare",
                "like_for_like",
                "scope",
                "agency",
                "priority",
                "age_band",
                "view",
                "sort_by",
                "descending",
            ):
                if c[name].value != getattr(s, name):
                    c[name].value = getattr(s, name)
        finally:
            self._quiet = False

    def _show(self) -> None:
        view, out, s = self.view, self._out, self.state
        self._quiet = True
        try:
            if s.view == "case":
                options = self.case_options()
                _options(self.controls["case"], options)
                if s.case in options and self.controls["case"].value != s.case:
                    self.controls["case"].value = s.case
        finally:
            self._quiet = False
        self._case_row.layout.display = "" if s.view == "case" else "none"
        self._sort_row.layout.display = "" if s.view == "cases" else "none"
        self.controls["like_for_like"].layout.display = "" if s.view == "cycles" else "none"
        out["headline"].value = view.headline
        image = self.chart_image("svg")
        if image is None:
            out["chart"].layout.display = "none"
            out["chart"].value = b""
        else:
            out["chart"].value = image
            out["chart"].layout.display = ""
        out["table"].value = view.table_html
        self.buttons["chart"].disabled = image is None
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


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def explorer(
    data_dir: str | Path = "data/demo",
    cycle: str | None = None,
    compare: Iterable[str] | None = None,
    *,
    export_dir: str | Path = "outputs/explore",
    widgets: bool = True,
    chart_cache: int = CHART_CACHE,
) -> Explorer:
    """An :class:`Explorer` on the cycles under ``data_dir`` (relative paths are read
    from the project folder), starting on ``cycle`` (default: the latest) compared with
    ``compare`` (default: every earlier cycle). Cycles are loaded when first shown;
    exports go to ``export_dir``; the last ``chart_cache`` charts drawn are kept."""
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
    )
