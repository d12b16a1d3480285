"""The Executive Group's summary: headlines in plain words and a few charts, built from
the data. Aggregate only: no case reference, no evidence text, and any breakdown by case
characteristics resting on fewer than ``min_cell_count`` cases suppressed (``c``)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

from . import agreement, disclosure, findings, plots, quality, summaries, trends
from .findings import interval, pct
from .notebook import Session
from .present import display_html


@dataclass
class ExecutiveSummary:
    lead: str
    headlines: list[str] = field(default_factory=list)
    trend: pd.DataFrame | None = None
    kloe_long: pd.DataFrame | None = None
    standards: pd.DataFrame | None = None


def build(session: Session) -> ExecutiveSummary:
    data = session.data
    overall = summaries.overall_summary(data.ratings)
    row = overall.iloc[0]
    lead = (
        f"In {data.cycle}, {int(row['agencies'])} agencies audited {len(data.cases)} "
        f"children's cases against {len(data.framework.standards)} standards. "
        f"{interval(row)} of their {int(row['n'])} ratings met or exceeded the standard"
    )
    summary = ExecutiveSummary(lead="")
    summary.standards = summaries.standard_summary(data.ratings, data.framework)
    if session.earlier:
        previous = session.earlier[-1]
        change = findings.overall_change(overall, summaries.overall_summary(previous.ratings))
        direction = {
            "improved": "an improvement",
            "declined": "a decline",
            "no clear change": "no clear change",
        }.get(change["verdict"], "not estimable")
        lead += (
            f", against {pct(change['before'])} in {previous.cycle}: {direction} "
            f"({change['diff'] * 100:+.0f} points, 95% interval {change['low'] * 100:+.0f} "
            f"to {change['high'] * 100:+.0f})"
        )
        summary.trend = trends.trend_table(data, session.earlier)
        summary.kloe_long = trends.kloe_trend_long(data, session.earlier)
        summary.headlines.append(findings.trend_sentence(summary.trend, data.cycle, previous.cycle))
        if len(session.earlier) > 1:
            first = session.earlier[0].cycle
            c = findings.trend_counts(summary.trend, first)
            summary.headlines.append(
                f"Over the longer run, against {first}: {c['improved']} standards improved and "
                f"{c['declined']} declined."
            )
    summary.lead = lead + "."
    rated = summary.standards[summary.standards["n"] > 0].sort_values(["share", "standard"])
    if len(rated) >= 3:
        weakest = rated.head(3)
        summary.headlines.append(
            "Weakest standards: "
            + "; ".join(
                f"{findings.standard_label(r, 60)} ({pct(r['share'])})"
                for _, r in weakest.iterrows()
            )
            + "."
        )
        strongest = rated.tail(2).iloc[::-1]
        summary.headlines.append(
            "Strongest: "
            + "; ".join(
                f"{findings.standard_label(r, 60)} ({pct(r['share'])})"
                for _, r in strongest.iterrows()
            )
            + "."
        )
    pairwise = agreement.pairwise_agreement(data.ratings, min_shared=session.min_cell_count)
    by_standard = agreement.agreement_by_standard(data.ratings, data.framework, n_boot=0)
    summary.headlines.append(findings.agreement_sentence(pairwise, by_standard))
    returns = quality.returns_by_agency(data)
    evidence = quality.evidence_rate(data)
    rejections = quality.rejections_summary(data)
    summary.headlines += findings.quality_sentences(returns, evidence, rejections, data.cycle)[1:4]
    summary.headlines += findings.records_sentences(data)
    return summary


def show_headlines(summary: ExecutiveSummary) -> None:
    items = "".join(f"<li>{html.escape(h)}</li>" for h in summary.headlines)
    display_html(f'<ul class="headlines">{items}</ul>')


def show_kloe_trend(session: Session, summary: ExecutiveSummary) -> None:
    data, report = session.data, session.report
    long = summary.kloe_long
    if long is None:
        long = trends.kloe_trend_long(data, [])
    long = long.assign(
        label=[
            f"KLOE {int(k)} {t}" if pd.notna(k) else t
            for k, t in zip(long["kloe"], long["kloe_title"], strict=True)
        ]
    )
    current = long[long["current"]]
    order = dict(zip(current["kloe_key"], current["label"], strict=True))
    long["label"] = long["kloe_key"].map(order).fillna(long["label"])
    cycles = list(dict.fromkeys(long["cycle"]))
    best = current.loc[current["share"].idxmax()]
    worst = current.loc[current["share"].idxmin()]
    title = (
        f"In {data.cycle}, {best['kloe_title']} is the strongest line of enquiry "
        f"({pct(best['share'])} met or exceeded) and {worst['kloe_title']} the weakest "
        f"({pct(worst['share'])})"
    )
    parts = [
        f"{lab}: " + ", ".join(f"{r.cycle} {interval(r)}" for r in g.itertuples())
        for lab, g in long.groupby("label", sort=False)
    ]
    alt = (
        f"Dot chart of each key line of enquiry's share met or exceeded per cycle "
        f"({', '.join(cycles)}) with 95% intervals. " + "; ".join(parts) + "."
    )
    table = long[["label", "cycle", "standards", "n", "met_or_better", "share", "low", "high"]]
    report.chart(
        plots.trend_dots(long, "label", cycles),
        "exec-kloe-trend",
        title=title,
        subtitle="Share of ratings met or exceeded, all agencies, per cycle",
        alt=alt,
        table=table.reset_index(drop=True),
    )


def show_standards(session: Session, summary: ExecutiveSummary, count: int = 6) -> None:
    data, report = session.data, session.report
    rated = summary.standards[summary.standards["n"] > 0].sort_values(["share", "standard"])
    weakest = rated.head(count).assign(label=lambda t: t.apply(findings.standard_label, axis=1))
    title = (
        f"{count} standards fall furthest short: from {pct(weakest['share'].min())} to "
        f"{pct(weakest['share'].max())} met or exceeded"
    )
    alt = (
        "Dot chart of the standards with the lowest share met or exceeded, "
        f"{data.cycle}, with 95% intervals: "
        + "; ".join(f"{r['label']} {interval(r)}" for _, r in weakest.iterrows())
        + "."
    )
    report.chart(
        plots.share_dots(weakest, "label"),
        "exec-weakest-standards",
        title=title,
        subtitle=f"Share of ratings met or exceeded, all agencies, {data.cycle}",
        alt=alt,
        table=findings.summary_table(weakest),
    )


def show_priority(session: Session, summary: ExecutiveSummary) -> None:
    data, report = session.data, session.report
    themed = summaries.with_case_characteristics(data.ratings, data.cases)
    by_theme = summaries.kloe_summary(themed, data.framework, by="priority")
    by_theme = disclosure.suppress_breakdown(by_theme, "priority", session.min_cell_count)
    title, alt = findings.breakdown_text(by_theme, "priority", data.cycle)
    report.chart(
        plots.share_dots(by_theme, "kloe_title", group="priority"),
        "exec-by-priority",
        title=title,
        subtitle=(
            f"Share met or exceeded per KLOE and priority theme, {data.cycle}; "
            f"c: fewer than {session.min_cell_count} cases"
        ),
        alt=alt,
        table=findings.summary_table(by_theme, "priority"),
    )
