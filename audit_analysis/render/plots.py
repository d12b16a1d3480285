"""Charts, following the UK Government Analysis Function's guidance: colour-blind-safe
palettes, an ordered palette for ordered ratings, direct labels so colour never carries
meaning alone. Each function returns a matplotlib Figure; ``present.Report.chart`` gives
it a title, subtitle, alt text and its table.

Legends use the words of :mod:`audit_analysis.render.labels` (``Early help``, not ``early_help``)
and list only what the chart shows: a group whose every figure is suppressed or empty
has no entry."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from audit_analysis.io.ratings import Scale  # noqa: E402
from audit_analysis.render.labels import (  # noqa: E402
    cap,
    good,
    rating_label,
    shown_scale,
    value_label,
)

__all__ = [
    "CATEGORICAL",
    "GREY",
    "MARKERS",
    "RATING_COLOURS",
    "RATING_LABELS",
    "rating_colours",
    "agreement_heatmap",
    "interval_plot",
    "rating_bars",
    "share_dots",
    "trend_dots",
]


# Analysis Function categorical palette (in order), 3:1 contrast between neighbours.
CATEGORICAL = ["#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1"]
# Ordered ratings, worst to best: dark pink, orange, turquoise, dark blue.
RATING_COLOURS = {
    "unmet": "#801650",
    "partially_met": "#F46A25",
    "met": "#28A197",
    "exceeded": "#12436D",
}
RATING_LABELS = {category: rating_label(category) for category in RATING_COLOURS}
# Any other scale, by its number of levels, worst to best, colour-blind safe: the four
# above for four levels and their ends for fewer; ColorBrewer's PuOr (orange worst,
# purple best) for five to seven.
_ORDERED = {
    2: ["#801650", "#12436D"],
    3: ["#801650", "#F46A25", "#12436D"],
    4: list(RATING_COLOURS.values()),
    5: ["#E66101", "#FDB863", "#BDBDBD", "#B2ABD2", "#5E3C99"],
    6: ["#B35806", "#F1A340", "#FEE0B6", "#D8DAEB", "#998EC3", "#542788"],
    7: ["#B35806", "#F1A340", "#FEE0B6", "#BDBDBD", "#D8DAEB", "#998EC3", "#542788"],
}


def rating_colours(scale: Scale | None = None) -> dict[str, str]:
    """Each level of ``scale`` (default: the shown one) -> its colour, worst to best,
    assigned by position on the scale."""
    scale = scale or shown_scale()
    return dict(zip(scale.levels, _ORDERED[len(scale.levels)], strict=True))


MARKERS = ["o", "s", "D", "^", "v", "P"]
GREY = "#BFC1C3"

plt.rcParams.update(
    {
        # DejaVu Sans (matplotlib's own), then the generic family: an SVG chart names
        # both, so a browser without DejaVu still draws its text in a sans-serif font
        "font.family": ["DejaVu Sans", "sans-serif"],
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 10,
        "svg.fonttype": "none",
        # Every text a chart draws is data or our words, never markup: a `$` pair in a
        # framework's wording or an agency's evidence is drawn as written, not as
        # mathtext (which garbles it, or raises on `$\\frac{1}$`).
        "text.parse_math": False,
        "text.usetex": False,
    }
)


def _text_colour(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "white"


def rating_bars(summary: pd.DataFrame, label: str = "label") -> plt.Figure:
    """Stacked horizontal bars: each row's ratings as shares of those rated on the scale,
    with the share rated good and its 95% interval written at the right."""
    rows = summary.reset_index(drop=True)
    height = max(0.5 + 0.42 * len(rows), 1.6)  # room for the legend over a row or two
    fig, ax = plt.subplots(figsize=(8.5, height))
    colours = rating_colours()
    totals = rows[list(colours)].sum(axis=1).replace(0, np.nan)
    left = np.zeros(len(rows))
    y = np.arange(len(rows))[::-1]
    for category, colour in colours.items():
        share = (rows[category] / totals).fillna(0).to_numpy()
        shown = bool((share > 0).any())
        ax.barh(
            y,
            share,
            left=left,
            color=colour,
            label=rating_label(category) if shown else None,
            edgecolor="white",
            linewidth=0.6,
            height=0.72,
        )
        for yi, li, si in zip(y, left, share, strict=True):
            if si >= 0.09:
                ax.text(
                    li + si / 2,
                    yi,
                    f"{si:.0%}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color=_text_colour(colour),
                )
        left += share
    for yi, (_, row) in zip(y, rows.iterrows(), strict=True):
        if row["n"] > 0 and pd.isna(row["low"]):
            text = f"{row['share']:.0%} (too few cases for an interval), n={int(row['n'])}"
        elif row["n"] > 0:
            text = f"{row['share']:.0%} ({row['low']:.0%}-{row['high']:.0%}), n={int(row['n'])}"
        else:
            text = "no ratings"
        ax.text(1.02, yi, text, va="center", fontsize=7.5, transform=ax.get_yaxis_transform())
    ax.set_yticks(y, rows[label])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("Share of ratings on the scale (n/a and not recorded left out)")
    ax.legend(ncols=4, loc="lower left", bbox_to_anchor=(0, 1.0), frameon=False, fontsize=8)
    # va="bottom": the note's descenders inside the figure too (on a baseline they hung
    # below a short chart's edge, which cost its PNG a second drawing)
    fig.text(
        0.99,
        0.01,
        f"Right: {good()}, 95% interval",
        ha="right",
        va="bottom",
        fontsize=7,
        color="#505a5f",
    )
    fig.tight_layout()
    return fig


def _share_bars(ax, part: pd.DataFrame, ys, k: int, label: str | None, **style) -> None:
    """One series of shares with their 95% intervals: the ``k``-th marker and colour."""
    share, low, high = (pd.to_numeric(part[c], errors="coerce") for c in ("share", "low", "high"))
    colour = CATEGORICAL[k % len(CATEGORICAL)]
    ax.errorbar(
        share,
        ys,
        xerr=[(share - low).clip(lower=0), (high - share).clip(lower=0)],
        fmt=MARKERS[k % 6],
        color=colour,
        ecolor=colour,
        capsize=2,
        label=label,
        **style,
    )


# A chart for a phone: drawn this wide (inches) with text no smaller than NARROW_POINTS,
# it is shown about 350 px wide on a 390 px screen with its text at 9 px or more.
NARROW_WIDTH = 4.2
NARROW_POINTS = 9.5
NARROW_LABEL = 24  # characters a label line holds before it wraps


def _legend_place(narrow: bool) -> dict:
    """Where a legend goes above the chart: for a phone, compact and right-aligned over
    the plot, so that it never widens the picture beyond its labels and plot."""
    if not narrow:
        return {"loc": "lower left", "bbox_to_anchor": (0, 1.0)}
    return {
        "loc": "lower right",
        "bbox_to_anchor": (1.0, 1.0),
        "fontsize": NARROW_POINTS,
        "handlelength": 1.0,
        "handletextpad": 0.3,
        "columnspacing": 0.7,
        "borderaxespad": 0.2,
    }


def _wrapped(labels: list, width: int = NARROW_LABEL) -> list:
    """Labels wrapped onto lines of at most ``width`` characters, at spaces only."""
    import textwrap

    return ["\n".join(textwrap.wrap(str(v), width)) or str(v) for v in labels]


def _share_axis(ax, labels: list, xlabel: str | None = None, narrow: bool = False) -> None:
    """Labels top to bottom, shares from 0% to 100%, light vertical grid lines."""
    shown = _wrapped(labels) if narrow else labels
    ax.set_yticks(range(len(labels)), shown[::-1])
    if narrow:
        ax.tick_params(labelsize=NARROW_POINTS)
        ax.xaxis.label.set_size(NARROW_POINTS)
    ax.set_xlim(-0.02, 1.02)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    if narrow:
        ax.set_xlabel(xlabel or f"{cap(good())}, 95% interval", fontsize=NARROW_POINTS)
        ax.set_xticks([0, 0.5, 1])
    else:
        ax.set_xlabel(xlabel or f"Share {good()}, with 95% interval")
    ax.grid(axis="x", color="#e0e0e0", linewidth=0.6)


def _narrow_height(labels: list, per_line: float = 0.2, per_label: float = 0.12) -> float:
    lines = sum(len(t.split("\n")) for t in _wrapped(labels))
    return per_line * lines + per_label * len(labels)


def share_dots(
    frame: pd.DataFrame,
    label: str,
    group: str | None = None,
    xlabel: str | None = None,
    narrow: bool = False,
) -> plt.Figure:
    """Share rated good with its 95% interval, one line per row (and marker shape
    and colour per group, so that colour is never the only cue). ``narrow``: drawn for a
    phone, :data:`NARROW_WIDTH` wide, labels wrapped, text at least
    :data:`NARROW_POINTS`."""
    rows = frame.reset_index(drop=True)
    labels = list(dict.fromkeys(rows[label]))
    groups = list(dict.fromkeys(rows[group])) if group else [None]
    if group:  # a group with no figure to show (all suppressed or empty) has no entry
        groups = [g for g in groups if _has_figures(rows[rows[group] == g])] or groups
    if narrow:
        size = (NARROW_WIDTH, 1.3 + _narrow_height(labels) * max(1, len(groups) ** 0.5))
    else:
        size = (8, 0.6 + 0.38 * len(labels) * max(1, len(groups) ** 0.5))
    fig, ax = plt.subplots(figsize=size)
    step = 0.6 / max(1, len(groups))
    for g_index, g in enumerate(groups):
        part = rows if g is None else rows[rows[group] == g]
        offsets = (g_index - (len(groups) - 1) / 2) * step
        ys = [len(labels) - 1 - labels.index(v) + offsets for v in part[label]]
        _share_bars(
            ax,
            part,
            ys,
            g_index,
            None if g is None else value_label(group, g),
            elinewidth=1.2,
            markersize=5,
        )
    _share_axis(ax, labels, xlabel, narrow)
    if group and any(_has_figures(rows[rows[group] == g]) for g in groups):
        place = _legend_place(True) if narrow else {**_legend_place(False), "fontsize": 8}
        ax.legend(ncols=min(len(groups), 2 if narrow else 4), frameon=False, **place)
    fig.tight_layout()
    return fig


def _has_figures(part: pd.DataFrame, column: str = "share") -> bool:
    """Whether ``part`` holds at least one number to plot in ``column`` (not ``c``)."""
    return bool(pd.to_numeric(part[column], errors="coerce").notna().any())


def agreement_heatmap(
    values: pd.DataFrame, counts: pd.DataFrame, min_shared: int, what: str = "agree"
) -> plt.Figure:
    """Agency-by-agency agreement: each cell its percentage and (n) shared ratings; cells
    resting on fewer than ``min_shared`` shared ratings are grey and unlabelled."""
    agencies = list(values.index)
    n = len(agencies)
    fig, ax = plt.subplots(figsize=(1.2 + 0.62 * n, 1.0 + 0.55 * n))
    cmap = matplotlib.colormaps["cividis"]
    for i, a in enumerate(agencies):
        for j, b in enumerate(agencies):
            shared = counts.loc[a, b] if b in counts.columns else np.nan
            value = values.loc[a, b]
            if a == b:
                colour, text = "white", ""
            elif pd.isna(shared) or shared < min_shared or pd.isna(value):
                colour = GREY
                text = "" if pd.isna(shared) or shared == 0 else f"n={int(shared)}"
            else:
                colour = matplotlib.colors.to_hex(cmap(float(value)))
                text = f"{value:.0%}\n(n={int(shared)})"
            ax.add_patch(plt.Rectangle((j, n - 1 - i), 1, 1, color=colour, ec="white"))
            if text:
                ax.text(
                    j + 0.5,
                    n - 0.5 - i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color=_text_colour(colour) if colour.startswith("#") else "black",
                )
    ax.set_xlim(0, n)
    ax.set_ylim(0, n)
    ax.set_xticks(np.arange(n) + 0.5, agencies, rotation=90)
    ax.set_yticks(np.arange(n) + 0.5, agencies[::-1])
    ax.tick_params(length=0)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    scalar = matplotlib.cm.ScalarMappable(norm=matplotlib.colors.Normalize(0, 1), cmap=cmap)
    bar = fig.colorbar(scalar, ax=ax, fraction=0.04, pad=0.02)
    bar.ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    bar.set_label(f"Share of shared ratings where they {what}")
    ax.set_aspect("equal")
    fig.tight_layout()
    return fig


def interval_plot(
    frame: pd.DataFrame,
    label: str,
    estimates: list[tuple[str, str, str, str]],
    xlabel: str,
    xlim: tuple[float, float] = (-0.5, 1.0),
) -> plt.Figure:
    """Point estimates with intervals per row; ``estimates`` = (name, est, low, high)
    columns. Rows with no estimate are labelled 'not estimable'."""
    rows = frame.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.8 + 0.34 * len(rows)))
    y = np.arange(len(rows))[::-1]
    step = 0.5 / max(1, len(estimates))
    for k, (name, est, low, high) in enumerate(estimates):
        offset = (k - (len(estimates) - 1) / 2) * step
        e = pd.to_numeric(rows[est], errors="coerce")
        lo = pd.to_numeric(rows[low], errors="coerce")
        hi = pd.to_numeric(rows[high], errors="coerce")
        colour = CATEGORICAL[k]
        ok = e.notna().to_numpy()
        ax.errorbar(
            e[ok],
            y[ok] + offset,
            # a percentile bootstrap interval can lie beside its estimate: never a negative bar
            xerr=[(e - lo)[ok].fillna(0).clip(lower=0), (hi - e)[ok].fillna(0).clip(lower=0)],
            fmt=MARKERS[k],
            color=colour,
            capsize=2,
            markersize=4.5,
            label=name if ok.any() else None,
        )
    for yi, (_, row) in zip(y, rows.iterrows(), strict=True):
        if all(pd.isna(row[est]) for _, est, _, _ in estimates):
            ax.text(xlim[0] + 0.02, yi, "not estimable", va="center", fontsize=7, color="#505a5f")
    ax.axvline(0, color="#3D3D3D", linewidth=0.6)
    ax.set_yticks(y, rows[label])
    ax.set_xlim(*xlim)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", color="#e0e0e0", linewidth=0.6)
    if ax.get_legend_handles_labels()[1]:
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=len(estimates), frameon=False)
    fig.tight_layout()
    return fig


def trend_dots(
    long: pd.DataFrame, label: str, cycles: list[str], narrow: bool = False
) -> plt.Figure:
    """Each row's share rated good in each cycle, with 95% intervals; each cycle has
    its own marker and colour; a cycle with no such standard shows nothing. ``narrow``:
    drawn for a phone (as :func:`share_dots`)."""
    labels = list(dict.fromkeys(long[label]))
    if narrow:
        size = (NARROW_WIDTH, 1.4 + _narrow_height(labels, 0.2, 0.16))
    else:
        size = (8, 0.8 + 0.42 * len(labels))
    fig, ax = plt.subplots(figsize=size)
    step = 0.6 / max(1, len(cycles))
    for k, cycle in enumerate(cycles):
        part = long[(long["cycle"] == cycle) & long["share"].notna()]
        ys = [
            len(labels) - 1 - labels.index(v) + (k - (len(cycles) - 1) / 2) * step
            for v in part[label]
        ]
        _share_bars(ax, part, ys, k, cycle if len(part) else None, markersize=4.5)
    _share_axis(ax, labels, narrow=narrow)
    if ax.get_legend_handles_labels()[1]:
        ax.legend(ncols=len(cycles), frameon=False, **_legend_place(narrow))
    fig.tight_layout()
    return fig
