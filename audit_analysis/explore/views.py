"""The explorer's views: for a selection, the section blocks
(:mod:`audit_analysis.render.section`: :class:`Text`, :class:`Table`, :class:`Figure`) that
the one renderer (:mod:`audit_analysis.render.present`) draws, as on every page. A view
holds its blocks, the table it exports (codes and raw numbers, as every CSV keeps them)
and its chart as a specification; computing one draws nothing and needs no widget, so
each is tested as plain Python.

Words are the pages' words: shares and intervals from :mod:`audit_analysis.sections.words`,
labels from ``labels.yaml`` and ``ratings.yaml`` (:mod:`audit_analysis.render.labels`),
charts from :mod:`audit_analysis.render.plots`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from audit_analysis.analysis.inference import (
    MIN_CASES,
    difference_limits,
    difference_p_values,
    effective_sizes,
)
from audit_analysis.analysis.stats import NOT_ESTIMABLE
from audit_analysis.analysis.summaries import (
    STAT_COLUMNS,
    add_shares,
    count_columns,
    stat_columns,
)
from audit_analysis.analysis.trends import NO_RATINGS, NOT_IN_FRAMEWORK, RATED, verdicts
from audit_analysis.explore.changes import CONFIDENCE, columns_of
from audit_analysis.explore.state import (
    ALL,
    GROUPINGS,
    NO_MATCH,
    ORDERS,
    SORTS,
    VIEWS,
    Cycles,
    PreparedCycle,
    Selection,
    earlier,
    not_judged,
    slots,
    sorts,
    tally_selection,
)
from audit_analysis.io.labels import current as current_labels
from audit_analysis.render.labels import (
    agency_name,
    good,
    rating_label,
    show_scale,
    shown_scale,
    value_label,
)
from audit_analysis.render.section import Block, Figure, Strong, Table, Text, plain
from audit_analysis.sections.small import NOT_JUDGED
from audit_analysis.sections.words import and_list, interval, pct, points

__all__ = ["SHOWN_ROWS", "View", "compute", "plural"]

SHOWN_ROWS = 200  # a table longer than this shows its first rows; the export has all
STATS = list(STAT_COLUMNS)
# what a chart of ratings draws, and the table folded under it shows
CHART_COLUMNS = ["unmet", "partially_met", "met", "exceeded", "n", "share", "low", "high"]
"""The built-in scale's chart columns; :func:`chart_columns` gives the shown scale's."""


def chart_columns() -> list[str]:
    """A rating chart's columns on the shown scale: its levels worst first, then ``n``
    and the share with its interval."""
    return [*shown_scale().levels, "n", "share", "low", "high"]


def count_names() -> tuple[tuple[str, ...], dict[str, str]]:
    """The shown scale's count columns and each one's words."""
    columns = count_columns(shown_scale())
    return columns, {code: rating_label(code) for code in columns}


def _ranks() -> np.ndarray:
    """A single rating's rank on the shown scale, best highest, for sorting (n/a and
    not recorded: none)."""
    levels = len(shown_scale().levels)
    return np.array([*range(levels, 0, -1), np.nan, np.nan], dtype=float)


RISE, FALL = "▲", "▼"  # a clear change: the shape says which way, not only the colour


def _plots():
    """The chart functions, imported with the first chart: the first view (What changed)
    has none, so a cold kernel shows it without importing matplotlib (issue 25)."""
    from audit_analysis.render import plots

    return plots


@dataclass
class View:
    """What the explorer shows for a selection: ``blocks`` in reading order (the
    headline first), ``table`` the table it exports (codes and raw numbers), ``chart``
    its chart (``None``: no chart) and ``message`` when nothing matches or something
    needs saying instead."""

    name: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    chart: Figure | None = None
    message: str | None = None
    cell_table: pd.DataFrame | None = None  # the change view's cell: its ratings

    @property
    def headline(self) -> str:
        """The headline and the sentence naming the filters, as plain text."""
        return " ".join(plain(b.text) for b in self.blocks[:2] if isinstance(b, Text))

    @property
    def chart_data(self) -> pd.DataFrame | None:
        return None if self.chart is None else self.chart.data

    def text(self) -> str:
        """Every sentence and caption of the view, as plain text."""
        out = []
        for b in self.blocks:
            if isinstance(b, Text):
                out.append(plain(b.text))
            elif isinstance(b, Table):
                out.append(b.caption)
        return "\n".join(out)


# --------------------------------------------------------------------------- words


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 case``, ``3 cases``, ``1,204 ratings``."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def short(text: object, limit: int = 60) -> str:
    text = " ".join(str(text).split()).rstrip(".")
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def standard_words(number: object, text: object, limit: int = 60) -> str:
    return f"{int(number)}. {short(text, limit)}"


def scope_words(s: Selection, cyc: PreparedCycle) -> str:
    fw = cyc.data.framework
    if s.scope.startswith("kloe:"):
        k = next(k for k in fw.kloes if k.key == s.scope[5:])
        return f"KLOE {k.number}: {k.title}"
    if s.scope.startswith("standard:"):
        x = fw.by_key(s.scope[9:])
        return f"standard {x.number}: {short(x.text, 70)}"
    return "all standards"


def filter_words(s: Selection) -> dict[str, str]:
    """Each filter set, in words, keyed by its control."""
    out = {}
    if s.agency:
        out["agency"] = f"agency {s.agency} ({agency_name(s.agency)})"
    if s.priority:
        out["priority"] = f"priority theme {value_label('priority', s.priority)}"
    if s.age_band:
        out["age_band"] = f"age band {value_label('age_band', s.age_band)}"
    return out


def _ignored(s: Selection) -> set[str]:
    """The filters a view does not apply."""
    if s.view == "case":
        return {"agency"}  # every agency side by side
    if s.view == "changes":
        return {"agency"} if s.by == "agency" else {"priority"}
    return set()


def filters_text(s: Selection) -> Text:
    """Which filters this view applies and which it ignores, by name."""
    words = filter_words(s)
    ignored = _ignored(s)
    applied = [w for k, w in words.items() if k not in ignored]
    left = [w for k, w in words.items() if k in ignored]
    parts = []
    if applied:
        parts.append("Filters applied: " + "; ".join(applied) + ".")
    elif not left:
        parts.append("No filters: every agency, priority theme and age band.")
    if left:
        why = {
            "case": "this view shows every agency's ratings of the case side by side",
            "changes": f"this view's columns are the {GROUPINGS[s.by].lower()}",
        }[s.view]
        parts.append("Ignored here (" + why + "): " + "; ".join(left) + ".")
    return Text(" ".join(parts), css="audit-explorer-filters")


def headline(s: Selection, cyc: PreparedCycle, total: pd.Series | None) -> Text:
    what = f"{s.cycle}, {scope_words(s, cyc)}"
    if total is None or total["n"] == 0:
        return Text(f"{what}.", css="audit-explorer-headline")
    return Text(
        (
            f"{what}: ",
            Strong(pct(total["share"])),
            f" of {plural(int(total['n']), 'rating')} on the scale {good()} ("
            + _interval_words(total)
            + f"; {plural(int(total['cases']), 'case')}).",
        ),
        css="audit-explorer-headline",
    )


def _interval_words(row) -> str:
    if pd.isna(row["low"]):
        return "too few cases for an interval"
    return f"95% interval by case {pct(row['low'])} to {pct(row['high'])}"


def change_words(change: float, low: float, high: float) -> str:
    """``-20 points (-35 to -5)``; empty where not estimable."""
    if pd.isna(change):
        return ""
    if pd.isna(low):
        return f"{points(change)} points (no interval)"
    return f"{points(change)} points ({points(low)} to {points(high)})"


def finding(total: pd.Series) -> str:
    if total["n"] == 0:
        return "No ratings on the scale"
    return f"{pct(total['share'])} of ratings {good()} ({_interval_words(total)})"


def small_note(cycles: Cycles, names) -> Text | None:
    """Why no change is judged, where any of the audits ``names`` (the one shown and
    those it is compared with) is small, by the pages' rule
    (:func:`~audit_analysis.sections.small.is_small`); None where none is."""
    small = cycles.small(*dict.fromkeys(names))
    if not small:
        return None
    audits = and_list([f"{c} ({plural(cycles.cases(c), 'case')} rated)" for c in small])
    return Text(
        f"{audits} {'is a small audit' if len(small) == 1 else 'are small audits'}: no "
        f"more cases than the {cycles.min_cell_count} below which a figure on part of the "
        "cases is suppressed, so its shares are for reference (their intervals are wide "
        "with so few cases) and, as on its pages, no change is judged: a difference could "
        "not be told from chance.",
        css="note audit-explorer-small",
    )


def _message(text: str) -> Text:
    return Text((Strong(text),), css="audit-explorer-message")


# --------------------------------------------------------------------------- views


def compute(cycles: Cycles, s: Selection) -> View:
    """The view of selection ``s`` (nothing drawn)."""
    cyc = cycles.get(s.cycle)
    show_scale(cyc.data.scale)  # the view's words, headings and colours: its cycle's scale
    used = replace(s, **dict.fromkeys(_ignored(s), ""))  # the filters this view applies
    ci, ai, si, sub = cyc.selected(used)
    total = add_shares(tally_selection(sub.sum(axis=(1, 2))[None])).iloc[0]
    rated = int(sub.sum())
    view = View(s.view, VIEWS[s.view], blocks=[headline(s, cyc, total), filters_text(s)])
    if s.view not in ("changes", "cycles"):  # those two name every audit compared
        note = small_note(cycles, [s.cycle])
        if note is not None:
            view.blocks.append(note)
    if s.view == "changes" and total["n"] > 0:
        _changes(view, cycles, s, cyc)
        return view
    if rated == 0 or (total["n"] == 0 and s.view not in ("case", "cycles")):
        view.message = NO_MATCH + (
            "." if rated == 0 else f" on the scale: all {rated:,} are n/a or not recorded."
        )
        if s.view != "cycles":
            view.blocks.append(_message(view.message))
            return view
    builder = {
        "summary": _summary,
        "agencies": _agencies,
        "cycles": _cycles_view,
        "cases": _cases,
        "case": _case,
        "disagreements": _disagreements,
    }[s.view]
    builder(view, cycles, s, cyc, ci, ai, si, sub, total)
    return view


def _rating_chart(view: View, s: Selection, data: pd.DataFrame, title: str, what: str) -> Figure:
    alt = f"Stacked bars of each row's ratings, {what}: " + "; ".join(
        f"{r.label} {interval(r)}" for r in data.itertuples(index=False)
    )
    return Figure(
        name=f"{s.cycle}-{s.view}",
        title=title,
        subtitle=f"{what}. Each row: its ratings as shares of those on the scale.",
        alt=alt,
        data=data,
        draw=lambda: _plots().rating_bars(data, "label"),
        table_caption=title,
    )


def _display_counts(table: pd.DataFrame, first: dict[str, object]) -> pd.DataFrame:
    """A reader's table: the first columns given, each rating's count, those on the
    scale, the share rated good with its interval, and the cases."""
    out = pd.DataFrame(first)
    for c in count_columns(shown_scale()):
        out[c] = table[c].to_numpy()
    out["n"] = table["n"].to_numpy()
    out["share"] = [interval(r) for _, r in table.iterrows()]
    out["cases"] = table["cases"].to_numpy()
    return out


def _whole(table: pd.DataFrame) -> pd.DataFrame:
    """Counts as whole numbers (a total row made from a Series comes back as floats)."""
    counts = [*count_columns(shown_scale()), "n", "met_or_better", "cases"]
    return table.astype(dict.fromkeys([c for c in counts if c in table], "int64"))


def _summary(view, cycles, s, cyc, ci, ai, si, sub, total) -> None:
    fw = cyc.data.framework
    per_standard = add_shares(tally_selection(sub.sum(axis=1).transpose(1, 0, 2)))
    meta = fw.to_frame().iloc[si].reset_index(drop=True)
    per_standard.insert(0, "row", "standard")
    for column in ("kloe", "standard", "standard_key", "text"):
        per_standard.insert(per_standard.columns.get_loc("row") + 1, column, meta[column])
    stats = list(stat_columns(shown_scale()))
    per_standard = per_standard[["row", "kloe", "standard", "standard_key", "text", *stats]]
    top = pd.DataFrame([total[stats]])
    top.insert(0, "row", "selection")
    for column in ("kloe", "standard", "standard_key", "text"):
        top.insert(1, column, None)
    top = top[per_standard.columns]
    table = pd.concat([top, per_standard], ignore_index=True) if len(si) > 1 else per_standard
    table["kloe"] = pd.array(table["kloe"], dtype="Int64")
    table["standard"] = pd.array(table["standard"], dtype="Int64")
    table = _whole(table)
    view.table = table
    labels = [
        "All in selection" if r.row == "selection" else standard_words(r.standard, r.text, 38)
        for r in table.itertuples(index=False)
    ]
    data = table.assign(label=labels)[["label", *chart_columns()]]
    view.chart = _rating_chart(view, s, data, finding(total), scope_words(s, cyc))
    view.blocks.append(view.chart)
    words = [
        "All in selection" if r.row == "selection" else standard_words(r.standard, r.text, 200)
        for r in table.itertuples(index=False)
    ]
    shown = _display_counts(table, {"standard": words})
    caption = f"Each standard's ratings, with the share {good()} (95% interval by case)."
    view.blocks.append(Table(shown, caption))


def _agencies(view, cycles, s, cyc, ci, ai, si, sub, total) -> None:
    per_agency = add_shares(tally_selection(sub.sum(axis=2).transpose(1, 0, 2)))
    codes = [cyc.agencies[i] for i in ai]
    per_agency.insert(0, "agency", codes)
    per_agency.insert(1, "agency_name", [agency_name(c) for c in codes])
    per_agency = per_agency[per_agency[list(count_columns(shown_scale()))].sum(axis=1) > 0]
    stats = list(stat_columns(shown_scale()))
    top = pd.DataFrame([total[stats]])
    top.insert(0, "agency", "all")
    top.insert(1, "agency_name", "All agencies in selection")
    table = pd.concat([top, per_agency[["agency", "agency_name", *stats]]], ignore_index=True)
    table = _whole(table)
    view.table = table
    labels = ["All in selection", *table["agency"].iloc[1:]]
    data = table.assign(label=labels)[["label", *chart_columns()]]
    title = f"By agency: {finding(total)[0].lower()}{finding(total)[1:]}"
    view.chart = _rating_chart(view, s, data, title, scope_words(s, cyc))
    view.blocks.append(view.chart)
    names = ["All agencies in selection", *(f"{c}: {agency_name(c)}" for c in table["agency"][1:])]
    caption = f"Each agency's ratings, with the share {good()} (95% interval by case)."
    view.blocks.append(Table(_display_counts(table, {"Agency": names}), caption))


def _standard_verdict(cycles: Cycles, s: Selection, key: str, then: str) -> tuple[float, str]:
    """One standard's adjusted p-value and verdict against ``then``, from the change
    view's family (every standard, as on the trends page)."""
    table = cycles.changes(replace(s, by="agency"), then)
    row = table[(table["standard_key"] == key) & (table["column"] == (s.agency or ALL))]
    if row.empty:
        return float("nan"), verdicts([float("nan")], [float("nan")], CONFIDENCE)[0]
    return float(row["p_adjusted"].iloc[0]), str(row["verdict"].iloc[0])


def _cycles_view(view, cycles, s, cyc, ci, ai, si, sub, total) -> None:
    shown = [*earlier(s), s.cycle]
    data = [cycles.get(c) for c in shown]
    keep = None
    if s.like_for_like and s.scope.startswith(("all", "kloe:")) and len(data) > 1:
        keep = set.intersection(*({str(k) for k in d.std_keys} for d in data))
    rows, parts = [], []
    for d in data:
        _, _, chosen, part = d.selected(s, keep)
        parts.append(part.sum(axis=(1, 2)))
        exists = s.scope == "all" or bool(d.standard_mask(s.scope).any())
        rows.append(
            {
                "cycle": d.cycle,
                "current": d.cycle == s.cycle,
                "in_framework": exists and len(chosen) > 0,
                "standards": int(len(chosen)),
            }
        )
    scales = [d.data.scale for d in data]
    if all(sc.levels == scales[-1].levels and sc.good == scales[-1].good for sc in scales):
        # cycles hold different cases: pad with empty cases, which count for nothing
        width = len(count_columns(scales[-1]))
        padded = np.zeros((len(parts), max(len(x) for x in parts), width), "int64")
        for i, x in enumerate(parts):
            padded[i, : len(x)] = x
        tallied = tally_selection(padded, scales[-1])
    else:
        # issue 24: cycles on different scales compare on the share rated good alone,
        # each counted on its own scale; their levels are not set side by side
        each = [tally_selection(x[None], sc) for x, sc in zip(parts, scales, strict=True)]
        common = ["cases", "case_ss", "n", "met_or_better"]
        tallied = pd.concat([t[common] for t in each], ignore_index=True)
    table = pd.concat([pd.DataFrame(rows), add_shares(tallied)], axis=1)
    table["status"] = np.where(
        ~table["in_framework"], NOT_IN_FRAMEWORK, np.where(table["n"] > 0, RATED, NO_RATINGS)
    )
    p1, n1, df1 = effective_sizes(
        table["met_or_better"], table["n"], table["case_ss"], table["cases"]
    )
    now = len(table) - 1  # the current cycle, last: every change is current minus earlier
    current = [np.full(len(table), a[now]) for a in (p1, n1, df1)]
    diff, low, high = difference_limits(*current, p1, n1, df1)
    p = difference_p_values(*current, p1, n1, df1)
    before = ~table["current"].to_numpy()
    table["change"] = np.where(before, diff, np.nan)
    table["change_low"] = np.where(before, low, np.nan)
    table["change_high"] = np.where(before, high, np.nan)
    table["p"] = np.where(before, p, np.nan)
    single = s.scope.startswith("standard:")
    # no filter: the view is the trends page's own comparison, so it takes the page's
    # verdict (all standards: standardised to one theme mix; a KLOE: adjusted across the
    # KLOEs too); with a filter there is no page to match, and one comparison is made
    page = None
    if not single and not (s.agency or s.priority or s.age_band) and len(table) > 1:
        page = cycles.page_row(s.cycle, earlier(s), s.like_for_like, s.scope)
    adjusted, verdict = [], []
    for i, c in enumerate(table["cycle"]):
        if not before[i]:
            adjusted.append(np.nan)
            verdict.append("")
        elif single:  # one of the standards compared at once: the trends page's rule
            pa, v = _standard_verdict(cycles, s, s.scope[9:], c)
            adjusted.append(pa)
            verdict.append(v)
        elif page is not None and f"verdict_vs_{c}" in page.index:
            adjusted.append(float(page[f"p_adjusted_vs_{c}"]))
            verdict.append(str(page[f"verdict_vs_{c}"]))
        else:  # a filtered selection: one comparison
            adjusted.append(table["p"].iloc[i])
            verdict.append(verdicts([diff[i]], [table["p"].iloc[i]], CONFIDENCE)[0])
    table["p_adjusted"] = adjusted
    table["verdict"] = verdict
    small = cycles.small(*shown)
    if small:  # a comparison with a small audit: measured, not judged (its pages' rule)
        involved = before & (table["cycle"].isin(small) | (s.cycle in small)).to_numpy()
        table.loc[involved, "verdict"] = not_judged(table.loc[involved, "verdict"])
    stats = [c for c in stat_columns(shown_scale()) if c in table.columns]
    columns = ["cycle", "status", "standards", *stats, "change", "change_low", "change_high"]
    table = table[[*columns, "p", "p_adjusted", "verdict"]]
    view.table = table
    note = small_note(cycles, shown)
    if note is not None:
        view.blocks.append(note)
    if table["n"].sum() == 0:
        view.message = NO_MATCH + " in any of the cycles shown."
        view.blocks.append(_message(view.message))
        return
    if len(table) == 1:
        view.message = "Choose cycles to compare with (earlier cycles only)."
        view.blocks.append(_message(view.message))
    data = table.assign(label=table["cycle"])[["label", "n", "cases", "share", "low", "high"]]
    title = f"Over the cycles: {finding(total)[0].lower()}{finding(total)[1:]} in {s.cycle}"
    view.chart = Figure(
        name=f"{s.cycle}-cycles",
        title=title,
        subtitle=f"{scope_words(s, cyc)}: the share {good()} in each cycle.",
        alt=f"Share {good()} in each cycle with its 95% interval by case: "
        + "; ".join(f"{r.label} {interval(r)}" for r in data.itertuples(index=False)),
        data=data,
        draw=lambda: _plots().share_dots(data, "label"),
    )
    view.blocks.append(view.chart)
    shown = pd.DataFrame(
        {
            "cycle": table["cycle"],
            "standards": table["standards"],
            "n": table["n"],
            "share": [
                r.status if r.status != RATED else interval(r._asdict())
                for r in table.itertuples(index=False)
            ],
            "Change (95% interval by case)": [
                change_words(r.change, r.change_low, r.change_high)
                for r in table.itertuples(index=False)
            ],
            "Verdict": table["verdict"],
        }
    )
    view.blocks.append(Table(shown, "The selection in each cycle, and its change since."))
    note = (
        "Change: the current cycle's share minus that cycle's, with its 95% interval by "
        "case. "
        + (
            "One standard is one of those compared at once: its verdict allows for them all "
            "(adjusted p-value), as on the trends page."
            if single
            else "All standards, or a KLOE, is one comparison: its verdict is the interval's, "
            "as on the trends page."
        )
    )
    n_now = int(table["n"].iloc[-1])
    if keep is not None and n_now != int(total["n"]):
        note += (
            f" Like for like: only the {plural(len(keep), 'standard')} in every cycle shown "
            f"are counted, so {s.cycle} counts {plural(n_now, 'rating')} here against the "
            f"{int(total['n']):,} of the headline."
        )
    elif keep is not None:
        note += " Like for like: only standards in every cycle shown are counted."
    view.blocks.append(Text(note, css="note"))


def _cases_table(s, cyc, ci, ai, si, sub) -> pd.DataFrame:
    per_agency = sub.sum(axis=2)  # (case, agency, 6)
    per_case = per_agency.sum(axis=1)  # (case, 6)
    any_rating = per_case.sum(axis=1) > 0
    good, levels = slots()
    y = per_case[:, good].sum(axis=-1)
    n = per_case[:, levels].sum(axis=-1)
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
            columns, words = count_names()
            names = np.array([words[c] for c in columns], dtype=object)
            table[code] = np.where(has, names[which], "")
            keys[code] = np.where(has, _ranks()[which], np.nan)
        else:
            ya = counts[:, good].sum(axis=-1)
            na = counts[:, levels].sum(axis=-1)
            other = counts[:, -2] + counts[:, -1]  # n/a, not recorded
            table[code] = np.where(
                na > 0,
                [f"{a_}/{b_}" for a_, b_ in zip(ya, na, strict=True)],
                np.where(other > 0, "n/a", ""),
            )
            with np.errstate(divide="ignore", invalid="ignore"):
                keys[code] = np.where(na > 0, ya / np.where(na > 0, na, 1), np.nan)
    table = table[any_rating].reset_index(drop=True)
    order_key = {c: v[any_rating] for c, v in keys.items()}
    if s.sort_by in order_key:
        key = pd.Series(order_key[s.sort_by])
    elif s.sort_by == "priority":
        key = table["priority"].map({p: i for i, p in enumerate(current_labels().priorities)})
    elif s.sort_by == "age_band":
        key = table["age_band"].map({b: i for i, b in enumerate(current_labels().age_bands)})
    else:
        key = table[s.sort_by] if s.sort_by in table else table["case_ref"]
    order = (
        pd.DataFrame({"key": key.to_numpy(), "ref": table["case_ref"].to_numpy()})
        .sort_values(["key", "ref"], ascending=[not s.descending, True], na_position="last")
        .index
    )
    return table.loc[order].reset_index(drop=True)


def _rows_note(table: pd.DataFrame) -> str:
    if len(table) <= SHOWN_ROWS:
        return ""
    return (
        f" Showing the first {SHOWN_ROWS:,} of {len(table):,} rows; the CSV export holds them all."
    )


def _cases(view, cycles, s, cyc, ci, ai, si, sub, total) -> None:
    table = _cases_table(s, cyc, ci, ai, si, sub)
    view.table = table
    each = "rating" if len(si) == 1 else f"ratings {good()} out of those on the scale"
    caption = (
        f"{plural(len(table), 'case')} behind this selection; under each agency, its {each}. "
        f"Sorted by {sorts()[s.sort_by].lower() if s.sort_by in SORTS else 'agency ' + s.sort_by}"
        + (", descending." if s.descending else ".")
        + _rows_note(table)
    )
    shown = table.drop(columns=["met_or_better"]).head(SHOWN_ROWS)
    shown["share"] = [pct(v) if pd.notna(v) else "" for v in shown["share"]]
    view.blocks.append(Table(shown, caption))


def case_options(cycles: Cycles, s: Selection) -> list[str]:
    """The cases the one-case view can show: those behind the selection."""
    cyc = cycles.get(s.cycle)
    ci, ai, si, sub = cyc.selected(s)
    return [str(c) for c in cyc.case_refs[ci][sub.sum(axis=(1, 2, 3)) > 0]]


def _evidence_rows(cyc: PreparedCycle, rows: np.ndarray) -> pd.DataFrame:
    """Ratings rows ``rows`` of a cycle: case, agency, standard, rating and evidence."""
    ratings = cyc.data.ratings
    evidence = (
        ratings["evidence"].astype(object).to_numpy()[rows]
        if "evidence" in ratings
        else np.full(len(rows), None, dtype=object)
    )
    return pd.DataFrame(
        {
            "cycle": cyc.cycle,
            "case_ref": ratings["case_ref"].astype(object).to_numpy()[rows],
            "agency": ratings["agency"].to_numpy(dtype=object)[rows],
            "standard_key": ratings["standard_key"].to_numpy(dtype=object)[rows],
            "rating": ratings["rating"].astype(object).to_numpy()[rows],
            "evidence": [e if isinstance(e, str) else "" for e in evidence],
        }
    )


def _case(view, cycles, s, cyc, ci, ai, si, sub, total) -> None:
    options = case_options(cycles, replace(s, agency=""))
    case = s.case if s.case in options else (options[0] if options else "")
    if not case:
        view.message = NO_MATCH + "."
        view.blocks.append(_message(view.message))
        return
    code = int(np.flatnonzero(cyc.case_refs == case)[0])
    rows = cyc.rows_of_case(code)
    rows = rows[np.isin(cyc.row_std[rows], si) & cyc.row_ok[rows]]
    mine = _evidence_rows(cyc, rows)
    fw = cyc.data.framework.to_frame().set_index("standard_key")
    mine["standard"] = [int(fw.at[k, "standard"]) for k in mine["standard_key"]]
    mine["text"] = [fw.at[k, "text"] for k in mine["standard_key"]]
    said = mine.groupby("standard_key")["rating"].agg(set)
    scale = shown_scale()
    disagree = {
        k for k, v in said.items() if v & set(scale.good) and scale.worst in v
    }  # one agency rated good, another the worst level
    mine["disagree"] = mine["standard_key"].isin(disagree)
    mine = mine.sort_values(["standard", "agency"], kind="stable").reset_index(drop=True)
    view.table = mine[
        ["case_ref", "standard", "standard_key", "text", "agency", "rating", "disagree", "evidence"]
    ]
    agencies = sorted(mine["agency"].unique())
    i = code
    facts = (
        f"Case {case}: priority theme {value_label('priority', cyc.priority[i] or 'not given')}, "
        f"age band {value_label('age_band', cyc.age_band[i] or 'not given')}. "
        f"Rated by {plural(len(agencies), 'agency', 'agencies')}: {', '.join(agencies)}."
    )
    view.blocks.append(Text(facts))
    if disagree:
        view.blocks.append(
            Text(
                f"◆ marks {plural(len(disagree), 'standard')} where one agency says {_sides()}.",
                css="note",
            )
        )
    shown = pd.DataFrame(
        {
            "standard": [
                ("◆ " if d else "") + standard_words(n, t, 70)
                for n, t, d in zip(mine["standard"], mine["text"], mine["disagree"], strict=True)
            ],
            "agency": mine["agency"],
            "rating": mine["rating"],
            "Evidence": [e or "(no evidence given)" for e in mine["evidence"]],
        }
    )
    view.blocks.append(
        Table(shown, f"Case {case}: every agency's rating and evidence, standard by standard.")
    )


def _disagreements(view, cycles, s, cyc, ci, ai, si, sub, total) -> None:
    register = cyc.register()
    keep = register["standard_key"].isin(set(cyc.std_keys[si])) & register["case_ref"].isin(
        set(cyc.case_refs[ci])
    )
    if s.agency:
        sides = register["agencies_met"] + ", " + register["agencies_unmet"]
        keep &= sides.map(lambda t: s.agency in str(t).split(", "))
    columns = [
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
    table = register[keep][columns].reset_index(drop=True)
    view.table = table
    if table.empty:
        view.message = "No disagreements in this selection."
        view.blocks.append(_message(view.message))
        return
    shown = table.head(SHOWN_ROWS)
    shown = pd.DataFrame(
        {
            "case_ref": shown["case_ref"],
            "standard": [
                standard_words(n, t, 50)
                for n, t in zip(shown["standard"], shown["text"], strict=True)
            ],
            f"Evidence: {good()}": shown["evidence_met"],
            f"Evidence: {_worst_side()}": shown["evidence_unmet"],
        }
    )
    caption = (
        f"{plural(len(table), 'disagreement')}: a case and standard where one agency says "
        f"{_sides()}, with what each side wrote." + _rows_note(table)
    )
    view.blocks.append(Table(shown, caption))


# --------------------------------------------------------------------------- changes


def _worst_side() -> str:
    """The worst level in the explorer's words: "not met"; "no"."""
    scale = shown_scale()
    return scale.label(scale.worst).lower()


def _sides() -> str:
    """The two sides of a disagreement in the shown scale's words: "met or exceeded
    and another not met"."""
    return f"{shown_scale().good_adj.lower()} and another {_worst_side()}"


def column_label(by: str, column: str) -> str:
    if column == ALL:
        return "All agencies" if by == "agency" else "All themes"
    return column if by == "agency" else value_label("priority", column)


def against(cycles: Cycles, s: Selection) -> str:
    """The earlier cycle the change view compares with: the one chosen, else the latest
    earlier one; empty when there is none."""
    before = [c for c in cycles.names if c < s.cycle]
    if s.against in before:
        return s.against
    return before[-1] if before else ""


def _cell_text(r) -> str:
    """A cell of the grid: its change in points, marked where clear."""
    if pd.isna(r.change) or r.verdict == NOT_ESTIMABLE:
        return ""
    mark = {"improved": RISE + " ", "declined": FALL + " "}.get(r.verdict, "")
    return f"{mark}{points(r.change)}"


def changed(table: pd.DataFrame) -> pd.Series:
    return table["verdict"].isin(["improved", "declined"])


def shown_changes(table: pd.DataFrame, s: Selection, cyc: PreparedCycle) -> pd.DataFrame:
    """The cells listed: in the scope, estimable (or every clear change only), sorted by
    change as chosen."""
    keep = cyc.standard_mask(s.scope)
    keys = set(cyc.std_keys[keep])
    part = table[table["standard_key"].isin(keys) & (table["verdict"] != NOT_ESTIMABLE)]
    if s.clear_only:
        part = part[changed(part)]
    if s.order == "standard":
        order = part.sort_values(["standard", "column"], kind="stable")
    else:
        order = part.sort_values(
            ["change", "standard"], ascending=[s.order == "worst", True], kind="stable"
        )
    return order.reset_index(drop=True)


def cell_options(cycles: Cycles, s: Selection) -> list[tuple[str, str]]:
    """The cells the change view lists, as (label, ``standard_key|column``)."""
    then = against(cycles, s)
    if not then:
        return []
    cyc = cycles.get(s.cycle)
    listed = shown_changes(cycles.changes(s, then), s, cyc).head(SHOWN_ROWS)
    return [
        (
            f"{r.standard}. {column_label(s.by, r.column)}: {points(r.change)} points, {r.verdict}",
            f"{r.standard_key}|{r.column}",
        )
        for r in listed.itertuples(index=False)
    ]


def _changes(view: View, cycles: Cycles, s: Selection, cyc: PreparedCycle) -> None:
    then = against(cycles, s)
    note = small_note(cycles, [s.cycle, then] if then else [s.cycle])
    if note is not None:
        view.blocks.append(note)
    if not then:
        view.message = f"No cycle before {s.cycle} to compare with."
        view.blocks.append(_message(view.message))
        return
    table = cycles.changes(s, then)
    judged = note is None
    fw = cyc.data.framework
    then_keys = set(cycles.get(then).std_keys)
    in_scope = set(cyc.std_keys[cyc.standard_mask(s.scope)])
    scoped = table[table["standard_key"].isin(in_scope)]
    clear = scoped[changed(scoped)]
    falls, rises = (
        int((clear["verdict"] == "declined").sum()),
        int(len(clear) - (clear["verdict"] == "declined").sum()),
    )
    columns = columns_of(cyc, s.by)
    # the headline: what changed clearly, and where
    worst = clear.sort_values("change").head(3)
    named = "; ".join(
        f"standard {r.standard}, {column_label(s.by, r.column)} {points(r.change)}"
        for r in worst.itertuples(index=False)
        if r.verdict == "declined"
    )
    view.blocks[0] = Text(
        (
            f"{s.cycle} against {then}, {scope_words(s, cyc)}: ",
            Strong(
                f"{plural(falls, 'clear fall')} and {plural(rises, 'clear rise')}"
                if judged
                else f"changes measured, {NOT_JUDGED}"
            ),
            f" in the share {good()}, across {plural(len(in_scope), 'standard')} x "
            f"{len(columns)} columns ({GROUPINGS[s.by].lower()} and all together)."
            + (f" Largest falls: {named}." if named else ""),
        ),
        css="audit-explorer-headline",
    )
    view.table = shown_changes(table, s, cyc)
    # the grid: a standard per row, a column per agency (or theme)
    grid_rows = (
        scoped
        if not s.clear_only
        else scoped[scoped["standard_key"].isin(set(clear["standard_key"]))]
    )
    wide = grid_rows.assign(cell=[_cell_text(r) for r in grid_rows.itertuples(index=False)])
    grid = wide.pivot(index="standard_key", columns="column", values="cell").reindex(
        columns=columns
    )
    meta = fw.to_frame().set_index("standard_key")
    if s.order == "standard":
        ordered = [k for k in cyc.std_keys if k in grid.index]
    else:
        # each standard by its largest estimable fall (or rise); none estimable: last
        estimable = grid_rows["change"].where(grid_rows["verdict"] != NOT_ESTIMABLE)
        extreme = estimable.groupby(grid_rows["standard_key"]).agg(
            "min" if s.order == "worst" else "max"
        )
        ordered = list(extreme.sort_values(ascending=s.order == "worst", na_position="last").index)
    grid = grid.loc[ordered]
    shown = pd.DataFrame(
        {
            "standard": [
                standard_words(meta.at[k, "standard"], meta.at[k, "text"], 42) for k in ordered
            ]
        }
    )
    for c in columns:
        shown[column_label(s.by, c)] = grid[c].fillna("").to_numpy()
    if shown.empty:
        view.message = NO_MATCH + "."
        if s.clear_only:
            view.message = "No clear changes in this selection." if judged else NOT_JUDGED + "."
        view.blocks.append(_message(view.message))
    else:
        view.blocks.append(
            Table(
                shown,
                f"Change in points since {then}, each standard x "
                f"{'agency' if s.by == 'agency' else 'priority theme'}. "
                f"Sorted: {ORDERS[s.order].lower()}."
                + (" Only standards with a clear change." if s.clear_only else ""),
            )
        )
    new = [k for k in in_scope if k not in then_keys]
    key = (
        (
            f"{RISE} a clear rise, {FALL} a clear fall: the 95% interval by case, with the "
            f"p-value adjusted for the {plural(len(cyc.std_keys), 'standard')} of a column "
            "compared at once (Benjamini-Hochberg), the trends page's rule: the column of "
            "all agencies with no filter gives the trends page's verdicts. No mark: no "
            "clear change."
            if judged
            else "Each cell: the change in points, measured and not judged (a small audit)."
        )
        + f" Blank: not estimable (fewer than {MIN_CASES} cases rated in a cycle"
        + (f", or a standard not in the {then} framework" if new else "")
        + ")."
    )
    view.blocks.append(Text(key, css="note"))
    listed = view.table
    if not listed.empty:
        cells = pd.DataFrame(
            {
                "standard": [
                    standard_words(n, t, 40)
                    for n, t in zip(listed["standard"], listed["text"], strict=True)
                ],
                "Agency" if s.by == "agency" else "Priority theme": [
                    column_label(s.by, c) for c in listed["column"]
                ],
                then: [
                    f"{pct(r.share_then)} of {r.n_then:,} ({plural(r.cases_then, 'case')})"
                    for r in listed.itertuples(index=False)
                ],
                s.cycle: [
                    f"{pct(r.share_now)} of {r.n_now:,} ({plural(r.cases_now, 'case')})"
                    for r in listed.itertuples(index=False)
                ],
                "Change (95% interval by case)": [
                    change_words(r.change, r.change_low, r.change_high)
                    for r in listed.itertuples(index=False)
                ],
                "Verdict": listed["verdict"],
            }
        )
        what = "clear changes" if s.clear_only else "cells with a change to estimate"
        view.blocks.append(
            Table(
                cells.head(SHOWN_ROWS),
                f"{plural(len(listed), 'cell')} listed ({what}), {ORDERS[s.order].lower()}: "
                f"the share {good()} of the ratings on the scale in each cycle. "
                "Pick a cell to read its cases and evidence." + _rows_note(listed),
            )
        )
    if s.cell:
        _cell(view, cycles, s, then, table)


def _cell(view: View, cycles: Cycles, s: Selection, then: str, table: pd.DataFrame) -> None:
    """The cases and evidence behind one cell, in both cycles."""
    key, _, column = s.cell.partition("|")
    row = table[(table["standard_key"] == key) & (table["column"] == column)]
    if row.empty:
        return
    r = row.iloc[0]
    parts = []
    for name in (then, s.cycle):
        cyc = cycles.get(name)
        where = np.flatnonzero(cyc.std_keys == key)
        if not len(where):
            continue
        ok = cyc.row_ok & (cyc.row_std == where[0])
        cases = cyc.case_mask(replace(s, priority="") if s.by == "priority" else s)
        if s.by == "priority" and column != ALL:
            cases = cases & (cyc.priority == column)
        ok &= cases[np.where(cyc.row_case >= 0, cyc.row_case, 0)]
        if s.by == "agency" and column != ALL:
            ok &= (
                np.array(cyc.agencies, dtype=object)[
                    np.where(cyc.row_agency >= 0, cyc.row_agency, 0)
                ]
                == column
            )
        elif s.by == "priority" and s.agency:
            ok &= (
                np.array(cyc.agencies, dtype=object)[
                    np.where(cyc.row_agency >= 0, cyc.row_agency, 0)
                ]
                == s.agency
            )
        parts.append(_evidence_rows(cyc, np.flatnonzero(ok)))
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    title = (
        f"Standard {r.standard}, {column_label(s.by, column)}: {pct(r.share_then)} {good()} "
        f"in {then} ({plural(int(r.n_then), 'rating')}), {pct(r.share_now)} in "
        f"{s.cycle} ({plural(int(r.n_now), 'rating')}): "
        + (change_words(r.change, r.change_low, r.change_high) or "no change to estimate")
        + f", {r.verdict}. {short(r.text, 200)}."
    )
    view.blocks.append(Text((Strong(title),), css="audit-explorer-cell-title"))
    if rows.empty:
        view.blocks.append(Text("No ratings behind this cell."))
        return
    rank = {c: i for i, c in enumerate(shown_scale().levels)}
    rows["_rank"] = rows["rating"].map(rank).fillna(9)
    rows = rows.sort_values(["cycle", "_rank", "case_ref", "agency"], kind="stable")
    rows = rows.drop(columns="_rank").reset_index(drop=True)
    view.cell_table = rows
    shown = pd.DataFrame(
        {
            "cycle": rows["cycle"],
            "case_ref": rows["case_ref"],
            "agency": rows["agency"],
            "rating": rows["rating"],
            "Evidence": [e or "(no evidence given)" for e in rows["evidence"]],
        }
    ).head(SHOWN_ROWS)
    counts = rows.groupby("cycle")["case_ref"].nunique()
    view.blocks.append(
        Table(
            shown,
            f"The ratings behind this cell: {then}, {plural(int(counts.get(then, 0)), 'case')}; "
            f"{s.cycle}, {plural(int(counts.get(s.cycle, 0)), 'case')}; worst rating first."
            + _rows_note(rows),
        )
    )
