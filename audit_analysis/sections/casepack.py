"""Case packs for the deep-dive round table: every agency's view of one case, side by
side (issue 6). OFFICIAL-SENSITIVE: they name the case and quote evidence, so they are
written to their own folder, never linked from or bundled into the Executive Group's
page, and every piece of text in them is escaped."""

from __future__ import annotations

import html

import pandas as pd

from audit_analysis.analysis.summaries import age_band
from audit_analysis.io.dataset import CycleData
from audit_analysis.io.ratings import MET_OR_BETTER, SCALE

__all__ = ["BANNER", "MARKING", "SHORT", "STYLE", "case_grid", "case_pack_html", "flagged_cases"]


MARKING = "OFFICIAL-SENSITIVE"
BANNER = (
    f"{MARKING}: case-level detail for the deep-dive round table. "
    "Do not forward or print beyond the audit group."
)
SHORT = {
    "exceeded": "Exceeded",
    "met": "Met",
    "partially_met": "Partly met",
    "unmet": "Unmet",
    "not_applicable": "N/A",
    "not_recorded": "Blank",
}


def flagged_cases(data: CycleData) -> list[str]:
    """The cases listed in the cycle's ``deep_dive.csv``, in cohort order."""
    deep = data.deep_dive
    if deep is None or deep.empty:
        return []
    flagged = set(deep["case_ref"])
    return [c for c in data.cases["case_ref"] if c in flagged]


def case_grid(data: CycleData, case_ref: str) -> tuple[pd.DataFrame, list[str], list[str]]:
    """(grid, agencies that rated the case, agencies active this cycle that did not).

    The grid has one row per standard of the framework, in KLOE order: ``kloe``,
    ``standard``, ``text``, one column per agency holding its rating, and ``disagree``
    (one agency met or exceeded, another unmet) and ``spread`` (ratings on the scale
    differ at all)."""
    mine = data.ratings[data.ratings["case_ref"] == case_ref]
    agencies = sorted(mine["agency"].unique())
    active = sorted(set(data.ratings["agency"]))
    silent = [a for a in active if a not in agencies]
    grid = data.framework.to_frame()[["kloe", "kloe_title", "standard", "text"]].copy()
    wide = mine.pivot(index="standard", columns="agency", values="rating")
    for agency in agencies:
        grid[agency] = (
            grid["standard"]
            .map(wide[agency].astype(object))
            .map(lambda r: SHORT.get(r, "") if isinstance(r, str) else "")
        )
    ratings = mine.assign(rating=mine["rating"].astype(str))
    by_standard = ratings.groupby("standard")["rating"].agg(set)
    grid["disagree"] = grid["standard"].map(
        lambda s: (
            bool(by_standard.get(s, set()) & set(MET_OR_BETTER))
            and "unmet" in by_standard.get(s, set())
        )
    )
    grid["spread"] = grid["standard"].map(lambda s: len(by_standard.get(s, set()) & set(SCALE)) > 1)
    return grid, agencies, silent


def case_pack_html(data: CycleData, case_ref: str) -> str:
    """The body of a case pack (escaped HTML), for ``export.page``."""
    grid, agencies, silent = case_grid(data, case_ref)
    # agency codes with hyphens are not identifiers: read ratings by position instead
    values = grid[agencies].to_numpy()
    grid_rows = grid.drop(columns=agencies)
    case = data.cases.set_index("case_ref").loc[case_ref]
    e = html.escape
    parts = [
        f'<p class="marking">{MARKING}</p>',
        f"<h1>Case pack: {e(case_ref)}</h1>",
        f"<p>Priority theme: {e(str(case['priority'] or 'not given'))}; age band: "
        f"{e(str(age_band(pd.Series([case['age']])).iloc[0]))}. Audit cycle "
        f"{e(data.cycle)}.</p>",
    ]
    parts.append(
        "<p>Agencies that returned an audit of this case: "
        + (e(", ".join(agencies)) or "none")
        + ".</p>"
    )
    parts.append(
        "<p><strong>Returned nothing for this case</strong> (of the agencies that "
        "sent returns this cycle): " + (e(", ".join(silent)) or "none") + ".</p>"
    )
    deep = data.deep_dive
    if deep is not None and case_ref in set(deep["case_ref"]):
        d = deep.set_index("case_ref").loc[case_ref]
        parts.append(
            "<p>Deep dive: "
            + (
                "discussed"
                if d["discussed"]
                else "not discussed ("
                + e(str(d["reason_not_discussed"] or "no reason given"))
                + ")"
            )
            + (f"; themes: {e(str(d['themes']))}" if d["themes"] else "")
            + ("; <strong>action required</strong>" if d["action_required"] else "")
            + ".</p>"
        )
    disagree = grid[grid["disagree"]]
    parts.append("<h2>Where agencies disagree</h2>")
    if disagree.empty:
        parts.append("<p>No standard where one agency says met or exceeded and another unmet.</p>")
    else:
        items = []
        for i in disagree.index:
            said = "; ".join(f"{a}: {values[i][j]}" for j, a in enumerate(agencies) if values[i][j])
            items.append(
                f"<li>Standard {int(grid.at[i, 'standard'])} "
                f"({e(str(grid.at[i, 'text']))}): {e(said)}</li>"
            )
        parts.append('<ul class="disagree">' + "".join(items) + "</ul>")
    parts.append("<h2>Every standard, every agency</h2>")
    parts.append(
        '<p class="note">Rows where agencies disagree (met or exceeded against '
        "unmet) are marked ◆ and shaded; rows with any other difference are marked "
        "◇.</p>"
    )
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in ["Standard", *agencies])
    rows, kloe = [], None
    for i, r in enumerate(grid_rows.itertuples(index=False)):
        if r.kloe != kloe:
            kloe = r.kloe
            rows.append(
                f'<tr class="kloe"><th colspan="{len(agencies) + 1}" '
                f'scope="rowgroup">KLOE {int(r.kloe)}: {e(str(r.kloe_title))}</th></tr>'
            )
        mark, cls = (
            ("◆ ", ' class="disagree"')
            if r.disagree
            else (("◇ ", ' class="spread"') if r.spread else ("", ""))
        )
        cells = "".join(f"<td>{e(v)}</td>" for v in values[i])
        rows.append(
            f'<tr{cls}><th scope="row">{mark}{int(r.standard)}. {e(str(r.text))}</th>{cells}</tr>'
        )
    parts.append(
        f'<table class="grid"><thead><tr>{head}</tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table>"
    )
    parts.append("<h2>Evidence, standard by standard</h2>")
    mine = data.ratings[data.ratings["case_ref"] == case_ref]
    for r in grid_rows.itertuples(index=False):
        said = mine[mine["standard"] == r.standard].sort_values("agency")
        if said.empty:
            continue
        items = "".join(
            f"<li><strong>{e(a)}</strong> ({e(SHORT.get(str(g), str(g)))}): "
            + (e(ev) if isinstance(ev, str) else "<em>no evidence given</em>")
            + "</li>"
            for a, g, ev in zip(said["agency"], said["rating"], said["evidence"], strict=True)
        )
        parts.append(f"<h3>{int(r.standard)}. {e(str(r.text))}</h3><ul>{items}</ul>")
    return "\n".join(parts)


STYLE = """
table.grid th[scope=row] { font-weight: normal; max-width: 28rem; }
table.grid tr.kloe th { background: #f3f2f1; font-weight: bold; }
table.grid tr.disagree { background: #fbe9ef; }
table.grid tr.disagree th[scope=row] { font-weight: bold; }
"""
