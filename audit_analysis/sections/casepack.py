"""Case packs for the deep-dive round table: every agency's view of one case, side by
side (issue 6). OFFICIAL-SENSITIVE: they name the case and quote evidence, so they are
written to their own folder, never linked from or bundled into the Executive Group's
page, and every piece of text in them is escaped.

:class:`CasePack` builds one case's pack as a section, as data; the one renderer
(:mod:`audit_analysis.render.present`) turns it into the page's markup."""

from __future__ import annotations

from itertools import groupby

import pandas as pd

from audit_analysis.analysis.summaries import age_band
from audit_analysis.io.dataset import CycleData
from audit_analysis.io.ratings import BUILTIN, Scale
from audit_analysis.render.labels import good_adj, show_scale, worst
from audit_analysis.render.present import section_html
from audit_analysis.render.section import (
    Block,
    Bullets,
    Emphasis,
    Grid,
    Group,
    Heading,
    Row,
    RowGroup,
    Section,
    Strong,
    Text,
)

__all__ = [
    "BANNER",
    "MARKING",
    "SHORT",
    "short_words",
    "STYLE",
    "CasePack",
    "case_grid",
    "case_pack_html",
    "flagged_cases",
]


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
"""The built-in scale's short words for the grid; another scale shows its labels."""


def short_words(scale: Scale) -> dict[str, str]:
    """Each category's word in a case pack's grid: :data:`SHORT` on the built-in scale,
    else the scale's labels (and "Blank" for a blank cell)."""
    if scale is BUILTIN:
        return SHORT
    return {**{c: scale.label(c) for c in scale.categories}, "not_recorded": "Blank"}


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
    (one agency rated good, another unmet) and ``spread`` (ratings on the scale
    differ at all)."""
    mine = data.ratings[data.ratings["case_ref"] == case_ref]
    agencies = sorted(mine["agency"].unique())
    active = sorted(set(data.ratings["agency"]))
    silent = [a for a in active if a not in agencies]
    grid = data.framework.to_frame()[["kloe", "kloe_title", "standard", "text"]].copy()
    short = short_words(data.scale)
    wide = mine.pivot(index="standard", columns="agency", values="rating")
    for agency in agencies:
        grid[agency] = (
            grid["standard"]
            .map(wide[agency].astype(object))
            .map(lambda r: short.get(r, "") if isinstance(r, str) else "")
        )
    ratings = mine.assign(rating=mine["rating"].astype(str))
    by_standard = ratings.groupby("standard")["rating"].agg(set)
    grid["disagree"] = grid["standard"].map(
        lambda s: (
            bool(by_standard.get(s, set()) & set(data.scale.good))
            and data.scale.worst in by_standard.get(s, set())
        )
    )
    grid["spread"] = grid["standard"].map(
        lambda s: len(by_standard.get(s, set()) & set(data.scale.levels)) > 1
    )
    return grid, agencies, silent


class CasePack:
    """The case pack of one case as a section (``case-pack``): the case, where agencies
    disagree, every standard against every agency, and the evidence, standard by
    standard. Built from the cycle's data alone (no session: a pack is one case, run
    on its own); :meth:`build` shows, draws and writes nothing."""

    name = "case-pack"
    title = "Case pack"

    def __init__(self, data: CycleData, case_ref: str) -> None:
        show_scale(data.scale)  # the pack's words are its cycle's scale's
        self.data = data
        self.case_ref = case_ref
        self.grid, self.agencies, self.silent = case_grid(data, case_ref)
        # agency codes with hyphens are not identifiers: read ratings by position instead
        self.values = self.grid[self.agencies].to_numpy()
        self.rows = self.grid.drop(columns=self.agencies)

    def build(self) -> Section:
        """The section: its parts, in reading order, as blocks."""
        return Section(self.name, self.title, self.parts())

    def parts(self) -> dict[str, list[Block]]:
        return {
            "case": self.case(),
            "disagree": self.disagreements(),
            "grid": self.every_standard(),
            "evidence": self.evidence(),
        }

    def case(self) -> list[Block]:
        """The marking, the case, who returned an audit of it and who did not, and what
        the deep dive made of it."""
        data, case_ref = self.data, self.case_ref
        case = data.cases.set_index("case_ref").loc[case_ref]
        blocks: list[Block] = [
            Text(MARKING, css="marking"),
            Heading(f"Case pack: {case_ref}", 1),
            Text(
                f"Priority theme: {case['priority'] or 'not given'}; age band: "
                f"{age_band(pd.Series([case['age']])).iloc[0]}. Audit cycle {data.cycle}."
            ),
            Text(
                "Agencies that returned an audit of this case: "
                f"{', '.join(self.agencies) or 'none'}."
            ),
            Text(
                (
                    Strong("Returned nothing for this case"),
                    " (of the agencies that sent returns this cycle): "
                    f"{', '.join(self.silent) or 'none'}.",
                )
            ),
        ]
        deep = data.deep_dive
        if deep is not None and case_ref in set(deep["case_ref"]):
            d = deep.set_index("case_ref").loc[case_ref]
            said = "Deep dive: " + (
                "discussed"
                if d["discussed"]
                else f"not discussed ({d['reason_not_discussed'] or 'no reason given'})"
            )
            if d["themes"]:
                said += f"; themes: {d['themes']}"
            blocks.append(
                Text((f"{said}; ", Strong("action required"), "."))
                if d["action_required"]
                else Text(f"{said}.")
            )
        return blocks

    def disagreements(self) -> list[Block]:
        """Each standard where one agency rates good and another unmet."""
        grid, agencies, values = self.grid, self.agencies, self.values
        disagree = grid[grid["disagree"]]
        heading = Heading("Where agencies disagree", 2)
        if disagree.empty:
            return [
                heading,
                Text(f"No standard where one agency says {good_adj()} and another {worst()}."),
            ]
        items = []
        for i in disagree.index:
            said = "; ".join(f"{a}: {values[i][j]}" for j, a in enumerate(agencies) if values[i][j])
            items.append(f"Standard {int(grid.at[i, 'standard'])} ({grid.at[i, 'text']}): {said}")
        return [heading, Bullets(tuple(items), css="disagree")]

    def every_standard(self) -> list[Block]:
        """Every standard against every agency, by KLOE: ◆ where agencies disagree (met
        or exceeded against unmet), ◇ where they differ otherwise."""
        numbered = enumerate(self.rows.itertuples(index=False))
        groups = []
        for kloe, rows in groupby(numbered, key=lambda row: row[1].kloe):
            rows = list(rows)
            title = f"KLOE {int(kloe)}: {rows[0][1].kloe_title}"
            groups.append(RowGroup(title, tuple(self._row(i, r) for i, r in rows), css="kloe"))
        return [
            Heading("Every standard, every agency", 2),
            Text(
                f"Rows where agencies disagree ({good_adj()} against {worst()}) are marked "
                "◆ and shaded; rows with any other difference are marked ◇.",
                css="note",
            ),
            Grid(("Standard", *self.agencies), tuple(groups), css="grid"),
        ]

    def _row(self, i: int, r) -> Row:
        """Standard ``r`` (the ``i``-th of the framework) against every agency, marked."""
        mark, css = ("◆", "disagree") if r.disagree else (("◇", "spread") if r.spread else ("", ""))
        return Row(f"{int(r.standard)}. {r.text}", tuple(str(v) for v in self.values[i]), css, mark)

    def evidence(self) -> list[Block]:
        """Each standard any agency rated: each agency's rating and its evidence, in
        the agency's words."""
        blocks: list[Block] = [Heading("Evidence, standard by standard", 2)]
        short = short_words(self.data.scale)
        ratings = self.data.ratings
        mine = ratings[ratings["case_ref"] == self.case_ref]
        for r in self.rows.itertuples(index=False):
            said = mine[mine["standard"] == r.standard].sort_values("agency")
            if said.empty:
                continue
            items = tuple(
                (
                    Strong(a),
                    f" ({short.get(str(g), str(g))}): ",
                    ev if isinstance(ev, str) else Emphasis("no evidence given"),
                )
                for a, g, ev in zip(said["agency"], said["rating"], said["evidence"], strict=True)
            )
            blocks.append(Group((Heading(f"{int(r.standard)}. {r.text}", 3), Bullets(items))))
        return blocks


def case_pack_html(data: CycleData, case_ref: str) -> str:
    """The body of a case pack (escaped HTML), for ``export.page``: its section
    rendered by :func:`~audit_analysis.render.present.section_html`."""
    return section_html(CasePack(data, case_ref).build())


STYLE = """
table.grid th[scope=row] { font-weight: normal; max-width: 28rem; }
table.grid tr.kloe th { background: #f3f2f1; font-weight: bold; }
table.grid tr.disagree { background: #fbe9ef; }
table.grid tr.disagree th[scope=row] { font-weight: bold; }
"""
