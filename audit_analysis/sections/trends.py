"""Section 3, trends: each standard's share against the earlier cycles, the areas for
development carried from year to year (the report's Appendix II) and the
recommendations, and each KLOE's standards cycle by cycle.

:class:`Trends` computes the trend table and the areas' progress once (the executive
summary takes both from here); the sentences that describe them are beside them."""

from __future__ import annotations

from functools import cached_property, partial

import pandas as pd

from audit_analysis.analysis import planning, trends
from audit_analysis.io.cycles import audit_key
from audit_analysis.io.development import latest_status
from audit_analysis.render import plots
from audit_analysis.render.labels import good
from audit_analysis.render.section import Block, Figure, Section, Table, Text
from audit_analysis.sections import small
from audit_analysis.sections.base import SectionBuilder, Session
from audit_analysis.sections.words import interval, pct, points, verdict_words

__all__ = [
    "Trends",
    "appendix_display",
    "build",
    "change_sentence",
    "detectable_sentence",
    "plan_display",
    "plan_method",
    "measured_words",
    "progress_sentence",
    "progress_summary",
    "recommendations_display",
    "trend_chart_text",
    "trend_counts",
    "trend_display",
    "trend_part",
    "trend_sentence",
    "verdict_column",
]


class Trends(SectionBuilder):
    name = "trends"
    title = "Trends"

    @cached_property
    def table(self) -> pd.DataFrame | None:
        """Each standard's share per cycle and its change (None: nothing to compare)."""
        if not self.session.earlier:
            return None
        return trends.trend_table(self.data, self.session.earlier)

    @cached_property
    def plan(self) -> pd.DataFrame:
        """The minimum detectable change by level, cohort size and agencies per case."""
        return planning.minimum_detectable_change(self.data)

    @cached_property
    def areas(self) -> pd.DataFrame:
        """The areas for development and their measured progress (Appendix II); in a
        small audit, the change measured but not judged."""
        areas = trends.area_progress(self.data, self.session.earlier)
        if self.session.small and "measured" in areas:
            judged = areas["measured"].isin(
                ["improved", "declined", "no clear change", trends.CASE_MIX]
            )
            areas.loc[judged, "measured"] = small.NOT_JUDGED
        return areas

    def parts(self) -> dict[str, list[Block]]:
        data, earlier = self.data, self.session.earlier
        cycle = data.cycle
        cycles = [e.cycle for e in earlier]
        parts: dict[str, list[Block]] = {}
        if self.table is None:
            parts["standards"] = [Text(f"No earlier cycle to compare {cycle} with.")]
            parts["table"] = []
        elif self.session.small:  # no verdict of change: the shares for reference
            parts["standards"] = [
                Table(self.table, "", "trends", show=False),
                Text(small.no_verdict_sentence(cycle, self.session.cases, cycles)),
            ]
            shown = trend_display(self.table, cycle, cycles)
            parts["table"] = [
                Table(
                    shown.drop(columns=[f"change vs {c}" for c in cycles]),
                    f"Share {good()} per standard, by cycle (no change judged: a small audit)",
                    "trend-table",
                )
            ]
        else:
            parts["standards"] = [
                Table(self.table, "", "trends", show=False),
                *(Text(trend_sentence(self.table, cycle, c)) for c in cycles),
            ]
            # issue 24: audits on different scales compare on the share rated good only
            note = trends.scale_note(data, earlier)
            if note:
                parts["standards"].append(Text(note))
            parts["table"] = [
                Table(
                    trend_display(self.table, cycle, cycles),
                    f"Share {good()} per standard, by cycle",
                    "trend-table",
                )
            ]
        areas = self.areas
        development: list[Block] = [Table(areas, "", "development-areas", show=False)]
        if areas.empty:
            development.append(
                Text(
                    f"No areas for development recorded for {cycle} or the cycles it is "
                    "compared with."
                )
            )
        else:
            development.append(Text(progress_sentence(areas, cycle)))
            for kloe in data.framework.kloes:
                part = appendix_display(areas, kloe.number)
                if len(part):
                    development.append(
                        Table(part, f"KLOE {kloe.number} ({kloe.title}): areas for development")
                    )
        parts["development"] = development
        recommendations = recommendations_display(data, earlier)
        parts["recommendations"] = [
            Text("No recommendations recorded for the cycles compared.")
            if recommendations.empty
            else Table(
                recommendations,
                "Recommendations raised in the cycles compared, with their latest status",
                "recommendations",
            )
        ]
        charts: list[Block] = []
        if self.table is not None:
            long = trends.trend_long(data, earlier, table=self.table)
            every = [*cycles, cycle]
            for kloe in data.framework.kloes:
                part = trend_part(long, kloe.key)
                title, alt = trend_chart_text(self.table, part, kloe, cycle, every)
                if self.session.small:
                    title = (
                        f"KLOE {kloe.number} ({kloe.title}): shares per audit, no change "
                        "judged (a small audit)"
                    )
                charts.append(
                    Figure(
                        f"trend-kloe-{kloe.number}",
                        title=title,
                        subtitle=f"Share {good()} with 95% interval, per cycle",
                        alt=alt,
                        data=part,
                        draw=partial(plots.trend_dots, part, "label", every),
                    )
                )
        parts["kloes"] = charts
        plan = self.plan
        if plan.empty:
            parts["planning"] = [Text("Too few cases rated to say what the audit could detect.")]
        else:
            parts["planning"] = [
                Text(detectable_sentence(plan)),
                Table(
                    plan_display(plan),
                    "Smallest change detectable between two years (percentage points), by "
                    "cases audited a year and agencies rating each case",
                    "planning",
                ),
                Text(plan_method(plan)),
            ]
        return parts


def build(session: Session) -> Section:
    """The trends section of ``session``'s cycle against its earlier cycles."""
    return Trends(session).build()


def trend_counts(trend: pd.DataFrame, earlier: str) -> dict[str, int]:
    verdicts = trend[f"verdict_vs_{earlier}"]
    status = trend.get(f"status_{earlier}")
    new = (status == "not in framework") if status is not None else verdicts.isna()
    counts = verdicts[~new].value_counts()
    return {
        "improved": int(counts.get("improved", 0)),
        "declined": int(counts.get("declined", 0)),
        "no clear change": int(counts.get("no clear change", 0)),
        trends.CASE_MIX: int(counts.get(trends.CASE_MIX, 0)),
        "not comparable": int(new.sum() + counts.get("not estimable", 0)),
    }


def trend_sentence(trend: pd.DataFrame, current: str, earlier: str) -> str:
    """How many standards improved or declined against ``earlier``, in plain words, with
    the rule behind the count (case-level intervals, adjusted for many standards)."""
    c = trend_counts(trend, earlier)
    mix = c[trends.CASE_MIX]
    compared = c["improved"] + c["declined"] + c["no clear change"] + mix
    text = (
        f"Against {earlier}, of the {compared} standards that can be compared, "
        f"{c['improved']} improved and {c['declined']} declined; {c['no clear change']} "
        "show no clear change"
    )
    if mix:
        text += (
            f"; {mix} get no verdict, since the change measured on the cases as audited "
            "and the change with both years standardised to one mix of priority themes "
            "disagree"
        )
    if c["not comparable"]:
        text += (
            f". {c['not comparable']} cannot be compared (not in both frameworks, or too "
            "few cases rated)"
        )
    return text + (
        ". A change is counted only where it stands out once chance variation between "
        "the cases audited, and the number of standards compared at once, are allowed for "
        "(95% intervals by case; false discovery rate 5%), and holds when both years' "
        "shares are standardised to the same mix of priority themes."
    )


def change_sentence(overall: pd.Series, current: str, earlier: str) -> str:
    """The overall change against ``earlier`` from an
    :func:`~audit_analysis.analysis.trends.overall_trend` row: ``77% against 68% in 2017-18: no
    clear change (+9 points; 95% interval by case -1 to +18)``."""
    now, before = overall[f"share_{current}"], overall[f"share_{earlier}"]
    verdict = overall[f"verdict_vs_{earlier}"]
    if pd.isna(now) or pd.isna(before):
        return f"no comparison with {earlier} is possible (no ratings in one of the years)"
    text = f"{pct(now)} against {pct(before)} in {earlier}: {verdict_words(verdict)}"
    low, high = overall[f"diff_low_vs_{earlier}"], overall[f"diff_high_vs_{earlier}"]
    diff = overall[f"diff_vs_{earlier}"]
    if pd.notna(low):
        text += f" ({points(diff)} points; 95% interval by case {points(low)} to {points(high)})"
    return text


def verdict_column(trend: pd.DataFrame, earlier: str) -> pd.Series:
    """The verdict against ``earlier``, saying so where a standard did not exist then."""
    verdict = trend[f"verdict_vs_{earlier}"].astype(object)
    status = trend.get(f"status_{earlier}")
    if status is not None:
        verdict = verdict.where(status != "not in framework", f"not in {earlier} framework")
    return verdict


def trend_display(trend: pd.DataFrame, current: str, earlier: list[str]) -> pd.DataFrame:
    """The Appendix II table: each standard, its share in each cycle, and the verdicts."""
    out = pd.DataFrame(
        {
            "standard": trend[f"standard_{current}"].map(lambda v: "" if pd.isna(v) else int(v)),
            "key": trend["standard_key"],
            "wording": trend["text"],
        }
    )
    for cycle in [*earlier, current]:
        status = trend[f"status_{cycle}"]
        out[cycle] = [
            "not in framework"
            if s == "not in framework"
            else interval(row, f"share_{cycle}", f"low_{cycle}", f"high_{cycle}")
            for s, (_, row) in zip(status, trend.iterrows(), strict=True)
        ]
    for cycle in earlier:
        out[f"change vs {cycle}"] = verdict_column(trend, cycle)
    return out


def trend_part(long: pd.DataFrame, kloe_key: str) -> pd.DataFrame:
    part = long[long["kloe_key"] == kloe_key].copy()
    current = part[part["current"]] if "current" in part else part
    numbers = dict(zip(current["standard_key"], current["standard"], strict=False))
    part["label"] = [
        (f"{int(numbers[k])}. " if k in numbers and pd.notna(numbers[k]) else "(retired) ")
        + (t if len(t) <= 44 else t[:43].rsplit(" ", 1)[0] + "…")
        for k, t in zip(part["standard_key"], part["text"].astype(str).str.rstrip("."), strict=True)
    ]
    return part.reset_index(drop=True)


def trend_chart_text(
    trend: pd.DataFrame, part: pd.DataFrame, kloe, current: str, cycles: list[str]
) -> tuple[str, str]:
    rows = trend[trend["kloe_key"] == kloe.key]
    previous = cycles[-2] if len(cycles) > 1 else None
    name = f"KLOE {kloe.number} ({kloe.title})"
    if previous is None:
        title = f"{name}: no earlier cycle to compare"
    else:
        c = trend_counts(rows, previous)
        title = (
            f"{name}: against {previous}, {c['improved']} of {len(rows)} standards "
            f"improved and {c['declined']} declined"
        )
    parts = []
    for label, group in part.groupby("label", sort=False):
        shown = [
            f"{r.cycle} {interval(r)}"
            if r.status != "not in framework"
            else f"{r.cycle} not in framework"
            for r in group.itertuples()
        ]
        parts.append(f"{label}: " + ", ".join(shown))
    alt = (
        f"Dot chart of each standard's share {good()} in {name}, per cycle "
        f"({', '.join(cycles)}), with 95% intervals. " + "; ".join(parts) + "."
    )
    return title, alt


def measured_words(row: pd.Series | dict) -> str:
    """An area's measured change in words: ``improved: 49% to 88% (+38 points; 95%
    interval by case +20 to +53)``, ``not measured: ...`` or ``raised this cycle``."""
    measured = row["measured"]
    if measured == "raised this cycle":
        now = row.get("share_now")
        return "raised this cycle" + (f" (now {pct(now)})" if pd.notna(now) else "")
    if measured == "not measured":
        note = row.get("measured_note") or ""
        return "not measured" + (f": {note}" if note else "")
    label = (
        "no verdict (the change as audited and standardised to one mix of themes disagree)"
        if measured == trends.CASE_MIX
        else measured
    )
    text = f"{label}: {pct(row['share_then'])} to {pct(row['share_now'])}"
    low, high = row.get("diff_low"), row.get("diff_high")
    if pd.notna(low):
        text += (
            f" ({points(row['diff'])} points; 95% interval by case {points(low)} to {points(high)})"
        )
        if measured == "no clear change" and (low > 0 or high < 0):
            text += ", not clear once the number of areas measured is allowed for"
    return text


def appendix_display(areas: pd.DataFrame, kloe: int | None = None) -> pd.DataFrame:
    """The report's Appendix II for one KLOE (or all): each area with the cycle that
    raised it, its owner, the progress this year's audit noted, its status and the
    measured change of its standards, for the QA group's trends page."""
    part = areas if kloe is None else areas[areas["kloe"] == kloe]
    return pd.DataFrame(
        {
            "area": part["area"].to_numpy(),
            "raised in": part["raised_in"].to_numpy(),
            "standards": part["standards"].to_numpy(),
            "owner": part["owner"].fillna("").to_numpy(),
            "progress noted this year": part["progress"].fillna("").to_numpy(),
            "status": part["status"].to_numpy(),
            "measured change of its standards": [measured_words(r) for _, r in part.iterrows()],
        }
    )


def progress_summary(areas: pd.DataFrame) -> pd.DataFrame:
    """The executive page's "Progress on earlier areas for development": area, raised
    in, status, the QA group's words on this year's progress and the measured change in
    one word or phrase (improved, no clear change, declined, not measured). The texts
    are the partnership's own (no case, no evidence); they are escaped wherever they are
    shown."""
    earlier = areas[areas["measured"] != "raised this cycle"]
    return pd.DataFrame(
        {
            "area": earlier["area"].to_numpy(),
            "raised in": earlier["raised_in"].to_numpy(),
            "status": earlier["status"].to_numpy(),
            "progress noted this year": earlier["progress"].fillna("").to_numpy(),
            "measured change": earlier["measured"].to_numpy(),
        }
    )


def progress_sentence(areas: pd.DataFrame, cycle: str) -> str:
    """One headline on the earlier areas for development."""
    earlier = areas[areas["measured"] != "raised this cycle"]
    if earlier.empty:
        return f"No areas for development from earlier cycles are recorded for {cycle}."
    counts = earlier["measured"].value_counts()
    closed = int(earlier["status"].isin(["met", "dropped"]).sum())
    return (
        f"Of {len(earlier)} areas for development raised in earlier cycles, {closed} are "
        f"recorded as met or dropped; measured by their standards, "
        f"{int(counts.get('improved', 0))} improved, "
        f"{int(counts.get('declined', 0))} declined and "
        f"{int(counts.get('no clear change', 0))} show no clear change since they were raised"
        + (
            f" ({int(counts.get(trends.CASE_MIX, 0))} get no verdict: their change as "
            "audited and standardised to one mix of priority themes disagree)"
            if counts.get(trends.CASE_MIX, 0)
            else ""
        )
        + (
            f" ({int(counts.get('not measured', 0))} cannot be measured)"
            if counts.get("not measured", 0)
            else ""
        )
        + "."
    )


def recommendations_display(current, earlier) -> pd.DataFrame:
    """The recommendations raised in the compared cycles (the report's section 4.3.3),
    oldest first, with the latest status recorded and this cycle's progress."""
    cycles = sorted([*earlier, current], key=lambda d: audit_key(d.cycle))
    records = [(d.cycle, d.development) for d in cycles if d.development is not None]
    status, progress = latest_status(records, "recommendation", now=current.cycle)
    rows = [(cycle, r) for cycle, record in records for r in record.recommendations.itertuples()]
    return pd.DataFrame(
        {
            "recommendation": [r.recommendation for _, r in rows],
            "raised in": [c for c, _ in rows],
            "owner": [r.owner or "" for _, r in rows],
            "due": [r.due or "" for _, r in rows],
            "status": [
                "new" if c == current.cycle else status.get(r.id.casefold(), "open")
                for c, r in rows
            ],
            "progress noted this year": [progress.get(r.id.casefold()) or "" for _, r in rows],
        }
    )


_LEVEL_WORDS = {
    "overall": "the overall share",
    "kloe": "a key line of enquiry",
    "standard": "a single standard",
}


def detectable_sentence(plan: pd.DataFrame) -> str:
    """What this year's audit could detect, from
    :func:`~audit_analysis.analysis.planning.minimum_detectable_change`: ``With 24 cases,
    a change of less than about 15 points in the overall share rated good (15 in a
    key line of enquiry, 19 in a single standard) could not be told apart from chance
    ...``. For the executive page as well as the trends page."""
    own = plan[plan["this_cycle"]].set_index("level")
    if own.empty:
        return "Too few cases were rated to say what size of change the audit could detect."
    cases = int(own["cases"].iloc[0])
    n = {level: round(100 * own.loc[level, "mdc"]) for level in own.index}
    rest = [f"{n[level]} in {_LEVEL_WORDS[level]}" for level in ("kloe", "standard") if level in n]
    return (
        f"With {cases} cases, a change of less than about {n.get('overall', '?')} points in "
        f"the overall share {good()}"
        + (f" ({', '.join(rest)})" if rest else "")
        + " could not be reliably told apart from chance: a true change of that size would "
        "be detected about 4 times in 5 (two-sided 5% level), and smaller ones less often."
    )


def plan_display(plan: pd.DataFrame) -> pd.DataFrame:
    """The plan as a table: one row per cohort size and agencies per case, one column
    per level, each cell the minimum detectable change in points (for standards and
    KLOEs with, in brackets, the change needed when it is the only one among those
    compared); this year's design marked."""
    rows = []
    for (cases, agencies), group in plan.groupby(["cases", "agencies_per_case"], sort=True):
        row = {"cases a year": int(cases), "agencies a case": f"{agencies:g}"}
        for r in group.itertuples():
            text = f"{100 * r.mdc:.0f}"
            if r.level != "overall":
                text += f" ({100 * r.mdc_alone:.0f})"
            row[_LEVEL_WORDS[r.level]] = text
        row["this year"] = "this year" if group["this_cycle"].any() else ""
        rows.append(row)
    return pd.DataFrame(rows)


def plan_method(plan: pd.DataFrame) -> str:
    """How :func:`plan_display` is worked out, in words, with this year's figures."""
    own = plan[plan["this_cycle"]].set_index("level")
    shares = ", ".join(
        f"{_LEVEL_WORDS[level]} {pct(own.loc[level, 'share'])} (intraclass correlation "
        f"{own.loc[level, 'rho']:.2f})"
        for level in planning.LEVELS
        if level in own.index
    )
    return (
        "Minimum detectable change (Bloom 1995): the smallest true change between two "
        "years that a two-sided test at 5% would detect with 80% power, as (t at 2.5% + "
        "t at 20%, on cases less one degrees of freedom) x the change's standard error "
        "by case. The standard error for another cohort or number of agencies comes from "
        "this year's design effect: a share's variance is p(1 - p)/(cases x ratings a "
        "case) x (1 + (ratings a case - 1) x the intraclass correlation of ratings of one "
        "case) (Kish 1965), the correlation read off this year's case-level interval and "
        "the change taken towards 50%. This year's medians: " + shares + ". The figure "
        "in brackets is for a standard or KLOE whose change is the only one among those "
        "compared (their verdicts allow for how many are compared, so a lone change must "
        "be larger). More agencies per case help only as far as their ratings of one "
        "case differ; more cases always help. A planning figure: it assumes next year's "
        "shares, mix of themes and consistency between agencies are like this year's."
    )
