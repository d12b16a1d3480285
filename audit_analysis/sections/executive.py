"""Section 5, the Executive Group's summary: headlines in plain words and a few charts.
Aggregate only: no case reference, no evidence text, and any breakdown by case
characteristics resting on fewer than ``min_cell_count`` cases suppressed (``c``).

The summary states what the other sections found: :class:`Executive` takes their
builders (:func:`audit_analysis.sections.build_all` passes the ones it built) and reads
their results (the standards, the trend table, the areas' progress, agreement, the
data-quality findings, the priority breakdown) instead of computing them again; what is
its own is the like-for-like comparison with last year, the standards that stand out,
the KLOE trend and "About these figures".
"""

from __future__ import annotations

from functools import cached_property, partial

import numpy as np
import pandas as pd

from audit_analysis.analysis import disclosure, summaries
from audit_analysis.analysis import trends as trend_stats
from audit_analysis.render import plots
from audit_analysis.render.section import Block, Bullets, Figure, Section, Table, Text
from audit_analysis.sections.base import SectionBuilder, Session
from audit_analysis.sections.by_kloe import KloeFindings, breakdown_text
from audit_analysis.sections.consistency import Consistency
from audit_analysis.sections.data_quality import DataQuality, records_sentences
from audit_analysis.sections.trends import (
    Trends,
    change_sentence,
    progress_sentence,
    progress_summary,
    trend_counts,
    trend_sentence,
)
from audit_analysis.sections.words import (
    extremes_text,
    interval,
    pct,
    standard_label,
    summary_table,
)

__all__ = ["Executive", "about_these_figures", "build", "standout_sentences"]


class Executive(SectionBuilder):
    """The page's words, tables and charts. Every statement of a difference, a change,
    a best or a worst rests on a 95% interval that treats the case as the unit
    (:mod:`audit_analysis.analysis.inference`); where the interval cannot tell, the
    words say so."""

    name = "executive-summary"
    title = "Executive summary"

    def __init__(
        self,
        session: Session,
        *,
        quality: DataQuality | None = None,
        kloes: KloeFindings | None = None,
        trends: Trends | None = None,
        consistency: Consistency | None = None,
    ) -> None:
        super().__init__(session)
        self.quality = quality or DataQuality(session)
        self.kloes = kloes or KloeFindings(session)
        self.trends = trends or Trends(session)
        self.consistency = consistency or Consistency(session)

    @property
    def standards(self) -> pd.DataFrame:
        return self.kloes.standards

    @property
    def by_theme(self) -> pd.DataFrame:
        return self.kloes.by_priority

    @cached_property
    def exposed_kloes(self) -> set:
        """KLOEs whose total would give a suppressed priority theme away (its only rated
        theme is suppressed, or the total pins each hidden cell): hidden too."""
        return disclosure.totals_to_suppress(
            self.kloes.by_priority_unsuppressed, "priority", self.min_cell_count, within="kloe_key"
        )

    @cached_property
    def common_keys(self) -> set:
        """The standards in every compared cycle's framework (empty with none compared)."""
        if not self.session.earlier:
            return set()
        return trend_stats.common_standard_keys(
            [d.framework for d in [*self.session.earlier, self.data]]
        )

    @cached_property
    def kloe_note(self) -> str:
        return _added_standards(self.data, self.common_keys) if self.session.earlier else ""

    @cached_property
    def compared(self) -> pd.DataFrame:
        """Each standard against the year's overall share (BH at 5% over the standards)."""
        return summaries.compare_to_overall(self.data.ratings, self.data.framework)

    @cached_property
    def lead(self) -> str:
        data, earlier = self.data, self.session.earlier
        row = self.kloes.overall
        # the total less the KLOEs shown would give a hidden KLOE's count away
        ratings = "ratings" if self.hidden_kloes else f"{int(row['n'])} ratings"
        lead = (
            f"In {data.cycle}, {int(row['agencies'])} agencies audited {len(data.cases)} "
            f"children's cases against {len(data.framework.standards)} standards. "
            f"{pct(row['share'])} of their {ratings} met or exceeded the standard"
        )
        if pd.notna(row["low"]):
            lead += f" (95% interval by case: {pct(row['low'])} to {pct(row['high'])})"
        if earlier:
            previous = earlier[-1]
            like = trend_stats.overall_trend(data, [previous], common_standards_only=True).iloc[0]
            common = int(like[f"standards_{data.cycle}"])
            same = common == len(data.framework.standards) == len(previous.framework.standards)
            scope = "" if same else f" on the {common} standards in both years' frameworks"
            lead += f". Compared like with like{scope}: " + change_sentence(
                like, data.cycle, previous.cycle
            )
        return lead + "."

    @cached_property
    def headlines(self) -> list[str]:
        data, earlier = self.data, self.session.earlier
        headlines = []
        if earlier:
            trend = self.trends.table
            headlines.append(trend_sentence(trend, data.cycle, earlier[-1].cycle))
            if len(earlier) > 1:
                first = earlier[0].cycle
                c = trend_counts(trend, first)
                headlines.append(
                    f"Over the longer run, against {first}: {c['improved']} standards improved "
                    f"and {c['declined']} declined (counted the same way)."
                )
        few = self.standards.loc[
            self.standards["cases"].between(1, self.min_cell_count - 1), "standard_key"
        ]
        shown = self.compared[~self.compared["standard_key"].isin(set(few))]
        headlines += standout_sentences(shown, self.standards)
        headlines.append(self.consistency.sentence)
        headlines += self.quality.sentences[1:4]
        headlines += records_sentences(data, self.min_cell_count)
        return headlines

    def parts(self) -> dict[str, list[Block]]:
        return {
            "lead": [Text(self.lead)],
            "headlines": [Bullets(tuple(self.headlines), "headlines")],
            "development": self._development(),
            "kloe-trend": [self._kloe_trend()],
            "standards": [self._weakest()],
            "priority": [self._priority()],
            "about": [Text(p) for p in about_these_figures(self.session)],
        }

    @cached_property
    def _kloe_long(self) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
        """Each KLOE's share per cycle (like with like), the same with small numbers
        marked ``c``, and which rows are hidden."""
        data = self.data
        if self.session.earlier:
            long = trend_stats.kloe_trend_long(
                data, self.session.earlier, common_standards_only=True
            )
        else:
            long = trend_stats.kloe_trend_long(data, [])
        long = long.assign(
            label=[
                f"KLOE {int(k)} {t}" if pd.notna(k) else t
                for k, t in zip(long["kloe"], long["kloe_title"], strict=True)
            ]
        ).reset_index(drop=True)
        # small numbers: a KLOE resting on too few cases, or whose total would reveal a
        # suppressed priority theme (self.exposed_kloes), shows c, is not drawn and is
        # named in no sentence
        marked = disclosure.suppress_breakdown(long, None, self.min_cell_count)
        marked = disclosure.suppress_totals(marked, self.exposed_kloes, "kloe_key", where="current")
        hide = (marked["share"].astype("object") == disclosure.MARKER).to_numpy()
        return long, marked, hide

    @cached_property
    def hidden_kloes(self) -> set:
        """This year's KLOEs whose figures the page hides (shown ``c``)."""
        long, _, hide = self._kloe_long
        return set(long.loc[hide & long["current"].to_numpy(), "kloe_key"])

    def _kloe_trend(self) -> Figure:
        data = self.data
        long, marked, hide = self._kloe_long
        long = long.copy()  # relabelled and blanked for drawing below
        current = long[long["current"]]
        order = dict(zip(current["kloe_key"], current["label"], strict=True))
        long["label"] = long["kloe_key"].map(order).fillna(long["label"])
        cycles = list(dict.fromkeys(long["cycle"]))
        hidden_now = self.hidden_kloes
        counted = {
            key
            for key, n in zip(current["kloe_key"], current["standards"], strict=True)
            if n and key not in hidden_now
        }
        kloe_of = {s.key: s.kloe_key for s in data.framework.standards}
        if self.kloe_note:
            kloe_of = {k: v for k, v in kloe_of.items() if k in self.common_keys}
        keyed = data.ratings.assign(kloe_key=data.ratings["standard_key"].map(kloe_of))
        found = summaries.extremes(keyed, "kloe_key", [k for k in order if k in counted])
        titles = dict(zip(current["kloe_key"], current["kloe_title"], strict=True))
        title = f"In {data.cycle}: " + extremes_text(
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
        if self.kloe_note:
            subtitle += ". " + self.kloe_note
        return Figure(
            "exec-kloe-trend",
            title=title,
            subtitle=subtitle,
            alt=alt,
            data=table.reset_index(drop=True),
            draw=partial(plots.trend_dots, long, "label", cycles),
        )

    def _weakest(self, count: int = 6) -> Figure:
        data, standards = self.data, self.standards
        # a standard resting on fewer cases than the threshold is not shown at all
        small = standards["cases"].between(1, self.min_cell_count - 1)
        rated = standards[(standards["n"] > 0) & ~small].sort_values(["share", "standard"])
        weakest = rated.head(count).assign(label=lambda t: t.apply(standard_label, axis=1))
        verdicts = dict(zip(self.compared["standard_key"], self.compared["verdict"], strict=True))
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
        return Figure(
            "exec-weakest-standards",
            title=title,
            subtitle=(
                f"Share of ratings met or exceeded, all agencies, {data.cycle}, with 95% "
                "intervals by case"
                + (
                    f"; {int(small.sum())} standards rated on fewer than "
                    f"{self.min_cell_count} cases are not shown"
                    if small.any()
                    else ""
                )
            ),
            alt=alt,
            data=summary_table(weakest, rating_counts=False),  # issue 20: no small counts
            draw=partial(plots.share_dots, weakest, "label"),
        )

    def _priority(self) -> Figure:
        cycle, by_theme = self.data.cycle, self.by_theme
        title, alt = breakdown_text(by_theme, "priority", cycle, self.kloes.themed)
        return Figure(
            "exec-by-priority",
            title=title,
            subtitle=(
                f"Share met or exceeded per KLOE and priority theme, {cycle}; "
                f"c: fewer than {self.min_cell_count} cases"
            ),
            alt=alt,
            data=summary_table(by_theme, "priority", rating_counts=False),  # issue 20
            draw=partial(plots.share_dots, by_theme, "kloe_title", group="priority"),
        )

    def _development(self) -> list[Block]:
        """The partnership's earlier areas for development: status and measured change."""
        areas = self.trends.areas
        table = progress_summary(areas)
        if table.empty:
            return [Text("No areas for development from earlier cycles are recorded.")]
        return [
            Text(progress_sentence(areas, self.data.cycle)),
            Table(
                table,
                "Progress on earlier areas for development: status as the QA group recorded "
                "it; measured change of each area's standards since the cycle that raised it "
                "(95% intervals by case, allowing for the number of areas measured)",
                "exec-development-progress",
            ),
        ]


def build(session: Session, **builders) -> Section:
    """The executive summary of ``session``'s cycle; ``builders`` (``quality``,
    ``kloes``, ``trends``, ``consistency``) are other sections' builders to take results
    from (:func:`audit_analysis.sections.build_all`)."""
    return Executive(session, **builders).build()


def standout_sentences(compared: pd.DataFrame, standards: pd.DataFrame) -> list[str]:
    """Standards clearly below and clearly above the cycle's overall share
    (:func:`~audit_analysis.analysis.summaries.compare_to_overall`), in words; a plain statement
    when none stands out."""
    merged = compared.merge(standards[["standard_key", "text"]], on="standard_key", how="left")
    sentences = []
    for verdict in ("below", "above"):
        rows = merged[merged["verdict"] == verdict].sort_values(
            "share", ascending=verdict == "below"
        )
        if rows.empty:
            continue
        shown = "; ".join(
            f"{standard_label(r, 60)} ({pct(r['share'])})" for _, r in rows.head(4).iterrows()
        )
        more = f"; and {len(rows) - 4} more" if len(rows) > 4 else ""
        sentences.append(
            f"Clearly {verdict} this year's overall share of {pct(rows['overall'].iloc[0])}: "
            f"{shown}{more}."
        )
    if not sentences:
        return [
            "No standard stands clearly above or below the overall share once chance "
            "variation between cases is allowed for."
        ]
    note = (
        "A standard is named here only where its gap from the overall share stands out "
        f"once chance variation between cases, and the {len(compared)} standards compared "
        "at once, are allowed for."
    )
    return [*sentences, note]


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
    # issue 20: not every agency rates every case; say how many do
    raters = data.ratings.groupby("case_ref", observed=True)["agency"].nunique()
    fewest, most = (int(raters.min()), int(raters.max())) if len(raters) else (0, 0)
    rated_by = f"{fewest}" if fewest == most else f"{fewest} to {most}"
    paragraphs = [
        "Each agency audited the cases it works with against the partnership's "
        f"standards, rating each {', '.join(scale[:-1])} or {scale[-1]}. Shares are of "
        f"ratings on that scale ({outside} are left out).",
        f"Each of the {cases} cases is rated by the {rated_by} agencies involved with it, "
        "and their ratings of one case go together, so the case, not the rating, is the "
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
            "false discovery rate (Benjamini-Hochberg), and so does a key line of enquiry "
            "among the KLOEs."
        )
    # issue 20: what size of change this audit could have detected
    from audit_analysis.analysis.planning import minimum_detectable_change
    from audit_analysis.sections.trends import detectable_sentence

    paragraphs.append(detectable_sentence(minimum_detectable_change(data)))
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
        "give the first away. This page gives shares, not counts of each rating."
    )
    cycles = [d.cycle for d in session.earlier]
    compared = (
        f"compared with {_and(cycles)}. Standards are matched across years by a stable "
        "key; a change is also estimated with both years standardised to the same mix "
        "of priority themes, and none is called where the two estimates disagree"
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
