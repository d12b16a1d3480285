"""The Executive Group's summary: headlines in plain words and a few charts, built from
the data. Aggregate only: no case reference, no evidence text, and any breakdown by case
characteristics resting on fewer than ``min_cell_count`` cases suppressed (``c``)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from audit_analysis.analysis import agreement, disclosure, quality, summaries, trends
from audit_analysis.render import plots
from audit_analysis.render.present import display_html
from audit_analysis.sections import findings
from audit_analysis.sections.findings import interval, pct

__all__ = [
    "ExecutiveSummary",
    "about_these_figures",
    "build",
    "show_about",
    "show_development",
    "show_headlines",
    "show_kloe_trend",
    "show_priority",
    "show_standards",
]


if TYPE_CHECKING:  # the session is the pipeline's: sections only read it
    from audit_analysis.pipeline.notebook import Session


@dataclass
class ExecutiveSummary:
    lead: str
    headlines: list[str] = field(default_factory=list)
    trend: pd.DataFrame | None = None
    kloe_long: pd.DataFrame | None = None
    standards: pd.DataFrame | None = None
    compared: pd.DataFrame | None = None
    kloe_note: str = ""
    common_keys: set = field(default_factory=set)
    themed: pd.DataFrame | None = None
    by_theme: pd.DataFrame | None = None
    exposed_kloes: set = field(default_factory=set)


def build(session: Session) -> ExecutiveSummary:
    """The page's words and tables. Every statement of a difference, a change, a best
    or a worst rests on a 95% interval that treats the case as the unit
    (:mod:`audit_analysis.analysis.inference`); where the interval cannot tell, the words say so."""
    data = session.data
    overall = summaries.overall_summary(data.ratings)
    row = overall.iloc[0]
    lead = (
        f"In {data.cycle}, {int(row['agencies'])} agencies audited {len(data.cases)} "
        f"children's cases against {len(data.framework.standards)} standards. "
        f"{pct(row['share'])} of their {int(row['n'])} ratings met or exceeded the standard"
    )
    if pd.notna(row["low"]):
        lead += f" (95% interval by case: {pct(row['low'])} to {pct(row['high'])})"
    summary = ExecutiveSummary(lead="")
    summary.standards = summaries.standard_summary(data.ratings, data.framework)
    if session.earlier:
        previous = session.earlier[-1]
        like = trends.overall_trend(data, [previous], common_standards_only=True).iloc[0]
        common = int(like[f"standards_{data.cycle}"])
        same = common == len(data.framework.standards) == len(previous.framework.standards)
        scope = "" if same else f" on the {common} standards in both years' frameworks"
        lead += f". Compared like with like{scope}: " + findings.change_sentence(
            like, data.cycle, previous.cycle
        )
        summary.trend = trends.trend_table(data, session.earlier)
        summary.kloe_long = trends.kloe_trend_long(
            data, session.earlier, common_standards_only=True
        )
        summary.common_keys = trends.common_standard_keys(
            [d.framework for d in [*session.earlier, data]]
        )
        summary.kloe_note = _added_standards(data, summary.common_keys)
        summary.headlines.append(findings.trend_sentence(summary.trend, data.cycle, previous.cycle))
        if len(session.earlier) > 1:
            first = session.earlier[0].cycle
            c = findings.trend_counts(summary.trend, first)
            summary.headlines.append(
                f"Over the longer run, against {first}: {c['improved']} standards improved and "
                f"{c['declined']} declined (counted the same way)."
            )
    summary.lead = lead + "."
    summary.compared = summaries.compare_to_overall(data.ratings, data.framework)
    few = summary.standards.loc[
        summary.standards["cases"].between(1, session.min_cell_count - 1), "standard_key"
    ]
    shown = summary.compared[~summary.compared["standard_key"].isin(set(few))]
    summary.headlines += findings.standout_sentences(shown, summary.standards)
    pooled = agreement.agreement_overall(data.ratings, data.framework)
    by_standard = agreement.agreement_by_standard(data.ratings, data.framework)
    summary.headlines.append(
        findings.agreement_sentence(pooled, by_standard, session.min_cell_count)
    )
    returns = quality.returns_by_agency(data)
    evidence = quality.evidence_rate(data)
    rejections = quality.rejections_summary(data)
    summary.headlines += findings.quality_sentences(returns, evidence, rejections, data.cycle)[1:4]
    summary.headlines += findings.records_sentences(data, session.min_cell_count)
    themed = summaries.with_case_characteristics(data.ratings, data.cases)
    by_theme = summaries.kloe_summary(themed, data.framework, by="priority")
    summary.themed = themed
    summary.by_theme = disclosure.suppress_breakdown(by_theme, "priority", session.min_cell_count)
    # a KLOE whose only rated theme is suppressed: its total is that cell, so hide it too
    summary.exposed_kloes = disclosure.exposed_totals(
        by_theme, "priority", session.min_cell_count, within="kloe_key"
    )
    return summary


def _added_standards(data, keys: set[str]) -> str:
    """Standards of this year's framework missing from an earlier one (not in ``keys``,
    those of every compared framework): left out of the KLOE trend so that it compares
    like with like."""
    added = [s for s in data.framework.standards if s.key not in keys]
    if not added:
        return ""
    names = ", ".join(f"{s.number} ({s.key})" for s in added)
    word = "standard" if len(added) == 1 else "standards"
    return (
        f"Like with like: {word} {names}, not in every earlier framework, "
        "{verb} left out of these shares."
    ).replace("{verb}", "is" if len(added) == 1 else "are")


def about_these_figures(session: Session, today=None) -> list[str]:
    """ "About these figures", built from what this run did: the scale and what is left
    out, the interval methods actually used (a change between years only when an earlier
    cycle was compared), the suppression threshold, the cycles compared and where each
    one's framework came from, the run date and the package version. One paragraph per
    item; plain text (the caller escapes it).

    A framework is called "reconstructed" only when it is one of the suite's built-in
    reconstructions; a partnership's own framework is named by its file. ``today`` (a
    ``datetime.date``) defaults to the date of the run."""
    from datetime import date

    from audit_analysis.io.ratings import NOT_APPLICABLE, NOT_RECORDED, SCALE
    from audit_analysis.render.labels import rating_label

    data = session.data
    scale = [rating_label(c).lower() for c in reversed(SCALE)]
    outside = f"{rating_label(NOT_APPLICABLE)} and {rating_label(NOT_RECORDED).lower()}"
    cases = len(data.cases)
    standards = len(data.framework.standards)
    paragraphs = [
        "Each agency audited the cases it works with against the partnership's "
        f"standards, rating each {', '.join(scale[:-1])} or {scale[-1]}. Shares are of "
        f"ratings on that scale ({outside} are left out).",
        f"Every agency rates the same {cases} cases, so the case, not the rating, is the "
        "unit of every 95% interval: it says how far a share could be from the one a "
        "different sample of cases would give. A share's interval is Wilson's score "
        "interval on the effective number of ratings once ratings of the same case are "
        "allowed to go together, with Student's t on the number of cases less one "
        "(Korn and Graubard's method). The intervals do not cover changes in how an "
        "agency's auditors rate from one year to the next.",
    ]
    if session.earlier:
        paragraphs.append(
            "A change between years has the MOVER interval (Zou and Donner) built from "
            "the two years' intervals, and is stated only where that interval excludes "
            f"no change. Among the up to {standards} standards compared at once, a "
            "standard counts as improved or declined only where it stands out at a 5% "
            "false discovery rate (Benjamini-Hochberg)."
        )
    paragraphs.append(
        "Within the year, a standard is called above or below the overall share only "
        "where it stands out at a 5% false discovery rate (Benjamini-Hochberg) over all "
        f"{standards} standards; "
        "the highest and lowest key line of enquiry or priority theme are named only "
        "where a 95% interval by case, allowing for every pair that could have been "
        "picked, shows the gap. Agreement between agencies is Krippendorff's alpha and "
        "Gwet's AC1, with 95% intervals from resampling cases."
    )
    paragraphs.append(
        f"Figures by priority theme resting on fewer than {session.min_cell_count} cases "
        "are suppressed (shown c), with a second figure hidden wherever a total would "
        "give the first away."
    )
    cycles = [d.cycle for d in session.earlier]
    compared = (
        f"compared with {_and(cycles)}. Standards are matched across years by a stable "
        "key, and trends compare like with like"
        if cycles
        else "with no earlier cycle to compare"
    )
    origins = "; ".join(
        f"{d.cycle}, {_framework_origin(d.framework, session.data_dir)}"
        for d in [data, *reversed(session.earlier)]
    )
    word = "framework" if not cycles else "frameworks"
    paragraphs.append(f"This page covers {data.cycle}, {compared}. The {word}: {origins}.")
    today = today or date.today()
    paragraphs.append(
        f"Produced on {today.day} {today:%B %Y} by audit-analysis {_version()} from the "
        "agencies' returns."
    )
    return paragraphs


def show_about(session: Session) -> None:
    """ "About these figures" (:func:`about_these_figures`), one paragraph each."""
    for paragraph in about_these_figures(session):
        session.report.say(paragraph)


def _framework_origin(framework, data_dir) -> str:
    """Where a cycle's framework came from, in words; the partnership's own by its file
    (relative to the data folder, never a full path: the page travels)."""
    from pathlib import Path

    from audit_analysis.io.frameworks import is_builtin

    if not is_builtin(framework):
        source = Path(framework.source)
        try:
            name = source.resolve().relative_to(Path(data_dir).resolve()).as_posix()
        except ValueError:
            name = source.name
        return f"the partnership's own ({name})"
    if framework.reconstructed:
        return (
            "built into the suite and reconstructed: that year's framework was not "
            "published, so it is rebuilt from what a later report says changed"
        )
    return "built into the suite, as the partnership's report prints it"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("audit-analysis")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "(version unknown)"


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
    ).reset_index(drop=True)
    # small numbers: a KLOE resting on too few cases, or whose total would reveal a
    # suppressed priority theme (summary.exposed_kloes), shows c, is not drawn and is
    # named in no sentence
    marked = disclosure.suppress_breakdown(long, None, session.min_cell_count)
    marked = disclosure.suppress_totals(marked, summary.exposed_kloes, "kloe_key", where="current")
    hide = (marked["share"].astype("object") == disclosure.MARKER).to_numpy()
    current = long[long["current"]]
    order = dict(zip(current["kloe_key"], current["label"], strict=True))
    long["label"] = long["kloe_key"].map(order).fillna(long["label"])
    cycles = list(dict.fromkeys(long["cycle"]))
    hidden_now = set(long.loc[hide & long["current"].to_numpy(), "kloe_key"])
    counted = {
        key
        for key, n in zip(current["kloe_key"], current["standards"], strict=True)
        if n and key not in hidden_now
    }
    kloe_of = {s.key: s.kloe_key for s in data.framework.standards}
    if summary.kloe_note:
        kloe_of = {k: v for k, v in kloe_of.items() if k in summary.common_keys}
    keyed = data.ratings.assign(kloe_key=data.ratings["standard_key"].map(kloe_of))
    found = summaries.extremes(keyed, "kloe_key", [k for k in order if k in counted])
    titles = dict(zip(current["kloe_key"], current["kloe_title"], strict=True))
    title = f"In {data.cycle}: " + findings.extremes_text(
        found, "the key lines of enquiry", name=lambda k: titles.get(k, k)
    )
    table = long[
        ["label", "cycle", "standards", "n", "cases", "met_or_better", "share", "low", "high"]
    ]
    if hide.any():
        table = marked[table.columns].assign(label=table["label"])  # labels as relabelled
        long.loc[hide, ["share", "low", "high"]] = float("nan")  # drawn: nothing
    parts = [
        f"{lab}: " + ", ".join(f"{r.cycle} {interval(r)}" for r in g.itertuples())
        for lab, g in table.groupby("label", sort=False)
    ]
    alt = (
        f"Dot chart of each key line of enquiry's share met or exceeded per cycle "
        f"({', '.join(cycles)}) with 95% intervals by case (c: suppressed, too few "
        "cases). " + "; ".join(parts) + "."
    )
    subtitle = "Share of ratings met or exceeded, all agencies, per cycle, with 95% intervals"
    if summary.kloe_note:
        subtitle += ". " + summary.kloe_note
    report.chart(
        plots.trend_dots(long, "label", cycles),
        "exec-kloe-trend",
        title=title,
        subtitle=subtitle,
        alt=alt,
        table=table.reset_index(drop=True),
    )


def show_standards(session: Session, summary: ExecutiveSummary, count: int = 6) -> None:
    data, report = session.data, session.report
    standards = summary.standards
    # a standard resting on fewer cases than the threshold is not shown at all
    small = standards["cases"].between(1, session.min_cell_count - 1)
    rated = standards[(standards["n"] > 0) & ~small].sort_values(["share", "standard"])
    weakest = rated.head(count).assign(label=lambda t: t.apply(findings.standard_label, axis=1))
    below = 0
    if summary.compared is not None:
        verdicts = dict(
            zip(summary.compared["standard_key"], summary.compared["verdict"], strict=True)
        )
        below = sum(verdicts.get(k) == "below" for k in weakest["standard_key"])
    clear = (
        f"{below} of them clearly below the overall share"
        if below
        else "none of them clearly below the overall share once chance is allowed for"
    )
    title = (
        f"The {len(weakest)} standards rated lowest, from {pct(weakest['share'].min())} to "
        f"{pct(weakest['share'].max())} met or exceeded: {clear}"
    )
    alt = (
        "Dot chart of the standards with the lowest share met or exceeded, "
        f"{data.cycle}, with 95% intervals by case: "
        + "; ".join(f"{r['label']} {interval(r)}" for _, r in weakest.iterrows())
        + "."
    )
    report.chart(
        plots.share_dots(weakest, "label"),
        "exec-weakest-standards",
        title=title,
        subtitle=(
            f"Share of ratings met or exceeded, all agencies, {data.cycle}, with 95% "
            "intervals by case"
            + (
                f"; {int(small.sum())} standards rated on fewer than "
                f"{session.min_cell_count} cases are not shown"
                if small.any()
                else ""
            )
        ),
        alt=alt,
        table=findings.summary_table(weakest),
    )


def show_priority(session: Session, summary: ExecutiveSummary) -> None:
    data, report = session.data, session.report
    themed, by_theme = summary.themed, summary.by_theme
    title, alt = findings.breakdown_text(by_theme, "priority", data.cycle, themed)
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


def show_development(session: Session, summary: ExecutiveSummary) -> None:
    """The partnership's earlier areas for development: status and measured change."""
    from audit_analysis.sections.findings import progress_sentence, progress_summary

    data, report = session.data, session.report
    areas = trends.area_progress(data, session.earlier)
    table = progress_summary(areas)
    if table.empty:
        report.say("No areas for development from earlier cycles are recorded.")
        return
    report.say(progress_sentence(areas, data.cycle))
    report.table(
        table,
        "exec-development-progress",
        "Progress on earlier areas for development: status as the QA group recorded it; "
        "measured change of each area's standards since the cycle that raised it (95% "
        "intervals by case, allowing for the number of areas measured)",
    )
