"""Words shared by every section: percentages, intervals, changes, labels, the best and
the worst, and the summary table that stands behind a chart of shares.

Only aggregate figures, agency codes and standard names go into these words: never a
case reference or evidence text, so they are safe on the Executive Group's page.
"""

from __future__ import annotations

import math

import pandas as pd

from audit_analysis.analysis.disclosure import MARKER
from audit_analysis.analysis.summaries import STAT_COLUMNS, stat_columns
from audit_analysis.analysis.trends import CASE_MIX
from audit_analysis.render.labels import cap, good, good_adj, good_did, shown_scale, worst

__all__ = [
    "SUMMARY_COLUMNS",
    "and_list",
    "cap",
    "good",
    "good_adj",
    "good_did",
    "worst",
    "extremes_text",
    "interval",
    "label",
    "pct",
    "plural",
    "points",
    "standard_label",
    "summary_table",
    "verdict_words",
]


def pct(value: object) -> str:
    """``0.734`` -> ``73%``; a suppressed or missing value as such."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    whole = round(float(value) * 100)
    return f"{whole + 0:d}%"  # + 0: a share that rounds to nothing is 0%, never -0%


def interval(row: object, est: str = "share", low: str = "low", high: str = "high") -> str:
    """``73% (65% to 80%)`` from a row (Series, dict or named tuple) of a summary."""
    e, lo, hi = (
        row[c] if isinstance(row, pd.Series | dict) else getattr(row, c) for c in (est, low, high)
    )
    if any(isinstance(v, str) for v in (e, lo, hi)):
        return MARKER
    if pd.isna(e):
        return "no ratings"
    if pd.isna(lo) or pd.isna(hi):
        return f"{pct(e)} (too few cases for an interval)"
    return f"{pct(e)} ({pct(lo)} to {pct(hi)})"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``word`` for one, its plural (``many``, or ``word`` + s) otherwise."""
    return word if count == 1 else (many or word + "s")


def and_list(items: list[str]) -> str:
    """``a``; ``a and b``; ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def verdict_words(verdict: object) -> str:
    """A change's verdict as a sentence says it: ``an improvement``, ``a decline``, ``no
    clear change``; where the change as audited and the change with the mix of priority
    themes held the same disagree, no verdict, saying why."""
    return {
        "improved": "an improvement",
        "declined": "a decline",
        "no clear change": "no clear change",
        CASE_MIX: "no verdict: the change reads differently once the mix of priority themes "
        "among the cases is held the same in both years",
    }.get(verdict, "too few cases to tell")


def points(value: float) -> str:
    """``0.087`` -> ``+9``: a change in percentage points; one that rounds to nothing is
    ``0``, never ``-0`` or ``+0``."""
    whole = round(float(value) * 100)
    return f"{whole:+d}" if whole else "0"


def label(value: object) -> str:
    """A code as words: ``early_help`` -> ``early help``."""
    return str(value).replace("_", " ")


def standard_label(row: pd.Series, width: int = 48) -> str:
    """``13 SMART plans …``: a standard's number and the start of its wording."""
    text = str(row.get("text", "")).rstrip(".")
    short = text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0] + "…"
    return f"{int(row['standard'])}. {short}"


def extremes_text(found: dict | None, what: str, name=label) -> str:
    """A title naming the highest and lowest group only where their gap is clear
    (:func:`~audit_analysis.analysis.summaries.extremes`); otherwise saying there is no clear
    difference."""
    if found is None:
        return f"Too few {what} with ratings to compare"
    top, bottom = name(found["top"]), name(found["bottom"])
    if found["clear"]:
        return (
            f"{top} has the highest share {good()} ({pct(found['share_top'])}) and "
            f"{bottom} the lowest ({pct(found['share_bottom'])}): a clear gap of "
            f"{points(found['diff']).lstrip('+')} points (95% interval by case, allowing for "
            f"{found['comparisons']} comparisons: {points(found['low']).lstrip('+')} to "
            f"{points(found['high']).lstrip('+')})"
        )
    return (
        f"No clear difference between {what}: from {pct(found['share_bottom'])} {good()} "
        f"({bottom}) to {pct(found['share_top'])} ({top}), a gap that chance "
        "variation between cases could explain"
    )


# what a reader's table shows of a summary: every statistic but the met-or-better count
SUMMARY_COLUMNS = [c for c in STAT_COLUMNS if c != "met_or_better"]


def summary_table(rows: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """A summary as a reader's table: identifiers, counts, the share and its interval
    (the Executive Group's page, which publishes no count of ratings by level, has its
    own: :func:`audit_analysis.sections.executive.page_table`)."""
    first = [c for c in ("kloe", "kloe_title", "standard", "text") if c in rows.columns]
    shown = stat_columns(shown_scale())
    stats = [c for c in shown if c in rows.columns and c != "met_or_better"]
    columns = first + ([by] if by else []) + stats
    out = rows[columns].copy()
    for c in ("share", "low", "high"):
        if c in out.columns:
            out[c] = out[c].map(
                lambda v: v if isinstance(v, str) else (None if pd.isna(v) else round(float(v), 4))
            )
    return out.reset_index(drop=True)
