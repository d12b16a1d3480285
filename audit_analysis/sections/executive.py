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

from audit_analysis import __version__
from audit_analysis.analysis import disclosure, summaries
from audit_analysis.analysis import trends as trend_stats
from audit_analysis.render import plots
from audit_analysis.render.labels import good, good_did
from audit_analysis.render.section import Block, Bullets, Figure, Heading, Section, Table, Text
from audit_analysis.sections import commentary as commentary_words
from audit_analysis.sections.base import SectionBuilder, Session
from audit_analysis.sections.by_kloe import KloeFindings, breakdown_text
from audit_analysis.sections.consistency import Consistency
from audit_analysis.sections.data_quality import DataQuality, records_sentences
from audit_analysis.sections.selection import selection_sentences
from audit_analysis.sections.small import no_verdict_sentence
from audit_analysis.sections.trends import (
    Trends,
    detectable_sentence,
    progress_sentence,
    progress_summary,
    recommendations_display,
    trend_counts,
)
from audit_analysis.sections.words import (
    and_list,
    extremes_text,
    interval,
    pct,
    plural,
    points,
    verdict_words,
)

__all__ = [
    "Executive",
    "about_these_figures",
    "build",
    "due_words",
    "plain_change",
    "page_table",
    "plural",
    "standout_sentences",
    "standout_words",
]


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
        data = self.data
        row = self.kloes.overall
        # the total less the KLOEs shown would give a hidden KLOE's count away
        ratings = "ratings" if self.hidden_kloes else f"{int(row['n']):,} ratings"
        agencies, cases = int(row["agencies"]), len(data.cases)
        standards = len(data.framework.standards)
        lead = (
            f"In {data.cycle}, {agencies} {plural(agencies, 'agency', 'agencies')} audited "
            f"{cases} children's {plural(cases, 'case')} against {standards} "
            f"{plural(standards, 'standard')}. {pct(row['share'])} of their {ratings} "
            f"{good_did()}"
        )
        if pd.notna(row["low"]):
            lead += f" (95% interval by case: {pct(row['low'])} to {pct(row['high'])})"
        return lead + "."

    @cached_property
    def names(self) -> dict[str, str]:
        """Each standard as the page names it: its number and short name (or wording)."""
        return {s.key: f"{s.number}. {s.name}" for s in self.data.framework.standards}

    @cached_property
    def commentary(self):
        """The QA group's commentary for the cycle (None: none supplied), read once by
        the findings-by-KLOE builder, which shows its KLOE words too."""
        return self.kloes.commentary

    @cached_property
    def figures(self) -> commentary_words.CommentaryFigures:
        """Resolves the commentary's figure references with this page's numbers."""
        return commentary_words.CommentaryFigures(
            self.session, self.standards, self.trends.table, self.hidden_kloes, self.kloes.overall
        )

    @property
    def standing(self) -> str:
        """Whether these findings are ratified, in one sentence."""
        found = self.commentary
        if found is not None and found.ratified:
            on = due_words(found.ratified_on)
            return f"These findings were ratified by {found.ratified_by} on {on}."
        return "These are draft findings: they have not yet been ratified by the agencies."

    def qa_words(self, pid: str) -> list[Block]:
        """The commentary under one heading as blocks ([] when it says nothing there)."""
        if self.commentary is None:
            return []
        return commentary_words.markdown_blocks(self.commentary.text(pid), self.figures.substitute)

    @cached_property
    def standouts(self) -> dict[str, str]:
        """The standards clearly below and clearly above the overall share, a sentence
        each ("" when none), in plain words."""
        shown = self.compared[~self.compared["standard_key"].isin(self.few)]
        # the count said is of every standard compared, as the adjustment was
        return standout_words(shown, self.standards, self.names, total=len(self.compared))

    @cached_property
    def few(self) -> set[str]:
        """The standards rated on fewer cases than the threshold: never named or drawn."""
        small = self.standards["cases"].between(1, self.min_cell_count - 1)
        return set(self.standards.loc[small, "standard_key"])

    @cached_property
    def selection(self) -> list[str]:
        """How the cases were chosen and what the shares describe (issue 26): the first
        sentence heads the summary, both stand in About these figures."""
        return selection_sentences(self.session)

    @cached_property
    def change_words(self) -> list[str]:
        """The changes since earlier years in plain words: the overall change against
        each earlier cycle, how many standards changed clearly, and why a change overall
        and a count of standards can read differently."""
        data, earlier = self.data, self.session.earlier
        # what size of change this audit could have detected, whether or not it has
        # earlier years to compare with (the trends page's plan, computed once)
        detectable = detectable_sentence(self.trends.plan)
        if not earlier:
            return [f"There is no earlier cycle to compare {data.cycle} with.", detectable]
        if self.session.small:  # no verdict of change on a small audit
            names = [e.cycle for e in earlier]
            return [no_verdict_sentence(data.cycle, self.session.cases, names), detectable]
        trend = self.trends.table
        overall = self.figures.overall_trend  # the one the commentary's references read
        out = []
        for previous in reversed(earlier):
            c = trend_counts(trend, previous.cycle)
            compared = c["improved"] + c["declined"] + c["no clear change"]
            change = plain_change(overall, data.cycle, previous.cycle)
            mix = c[trend_stats.CASE_MIX]
            compared += mix
            counted = (
                f"Of the {compared} {plural(compared, 'standard')} that can be compared, "
                f"{c['improved']} improved clearly and {c['declined']} declined clearly; "
                f"{c['no clear change']} moved no more than chance could explain"
                + (
                    f", and {mix} {plural(mix, 'gets', 'get')} no verdict because the "
                    "change reads differently once the mix of priority themes among the "
                    "cases is held the same in both years."
                    if mix
                    else "."
                )
            )
            out.append(f"Against {previous.cycle}: {change} {counted}")
        if len(earlier) > 1:
            last, first = earlier[-1].cycle, earlier[0].cycle
            near, far = trend_counts(trend, last), trend_counts(trend, first)
            if near["improved"] < far["improved"]:
                out.append(
                    f"Both hold: from one year to the next ({last} to {data.cycle}) most "
                    "changes are smaller than chance alone could produce with "
                    f"{len(data.cases)} cases, so few are counted; over two years or more "
                    f"({first} to {data.cycle}) the same steady gains add up to changes "
                    "large enough to count."
                )
        scales = trend_stats.scale_note(data, earlier)  # issue 24: a change of scale
        return [*out, *([scales] if scales else []), detectable]

    @cached_property
    def headlines(self) -> list[str]:
        """The page's key messages in plain words, for its summary."""
        data, earlier = self.data, self.session.earlier
        headlines = []
        if earlier:
            headlines.append(self.change_words[0])
        headlines += [s for s in (self.standouts["below"], self.standouts["above"]) if s]
        headlines.append(self.agreement_words)
        headlines += self.quality.sentences[1:4]
        headlines += records_sentences(data, self.min_cell_count)
        return headlines

    @cached_property
    def agreement_words(self) -> str:
        """Agreement between agencies as one plain sentence (the coefficients are on the
        QA group's consistency page)."""
        pooled = self.consistency.pooled
        row = pooled.iloc[0] if len(pooled) else None
        if (
            row is None
            or not bool(row.get("estimable", True))
            or pd.isna(row.get("pct_agree", float("nan")))
        ):
            return "Too few cases were rated by more than one agency to say how far agencies agree."
        units = int(row["units"]) if "units" in row.index and pd.notna(row["units"]) else None
        where = f" ({units:,} case-standards)" if units else ""
        return (
            "Where two agencies rated the same child's case against the same standard"
            f"{where}, they gave the same rating in {pct(row['pct_agree'])} of pairs; how "
            "far that is beyond what chance would give is in About these figures."
        )

    def parts(self) -> dict[str, list[Block]]:
        data = self.data
        has_words = self.commentary is not None
        summary: list[Block] = [
            Heading("Summary", 2),
            # how the cases were chosen; what that means for the shares: About these figures
            Text(self.lead + " " + self.selection[0]),
        ]
        if has_words:
            summary.append(Text(self.standing, "note"))
            summary += self.qa_words("summary")
        else:
            summary.append(
                Text(
                    commentary_words.NO_COMMENTARY.format(file=commentary_words.COMMENTARY_FILE),
                    "note",
                )
            )
        summary.append(Bullets(tuple(self.headlines), "headlines"))
        parts: dict[str, list[Block]] = {"summary": summary}
        if action := self.qa_words("action-taken"):
            parts["action-taken"] = [Heading("Action taken", 2), *action]
        if has_words:
            parts["worked-well"] = [Heading("What worked well", 2), *self.qa_words("worked-well")]
        improve: list[Block] = [Heading("What needs to improve", 2), *self.qa_words("improve")]
        improve.append(self._weakest())
        parts["improve"] = improve
        changes: list[Block] = [Heading("Changes since earlier audits", 2)]
        changes += [Text(t) for t in self.change_words]
        kloes: list[Block] = [Heading("Each line of enquiry", 2)]
        # every KLOE side by side: with earlier years to compare, how each changed
        (changes if self.session.earlier else kloes).append(self._kloe_trend())
        parts["changes"] = changes
        for kloe in data.framework.kloes:
            kloes.append(Heading(f"KLOE {kloe.number}: {kloe.title}", 3))
            kloes += self.qa_words(f"kloe:{kloe.key}")
            kloes.append(self._kloe_chart(kloe))
        kloes += [Heading("By priority theme", 3), self._priority()]
        parts["kloes"] = kloes
        deep: list[Block] = []
        for pid in ("deep-dive", "family-feedback", "learning-event"):
            words = self.qa_words(pid)
            if words:
                deep += [Heading(commentary_words.part_title(pid), 3), *words]
        counts = records_sentences(data, self.min_cell_count)
        if deep or counts:
            parts["deep-dive"] = [
                Heading("Deep dive and families", 2),
                *([Bullets(tuple(counts))] if counts else []),
                *deep,
            ]
        if conclusions := self.qa_words("conclusions"):
            parts["conclusions"] = [Heading("Conclusions", 2), *conclusions]
        parts["next"] = [Heading("What happens next", 2), *self._next()]
        parts["about"] = [
            Heading("About these figures", 2),
            *(Text(p) for p in about_these_figures(self.session, selection=self.selection)),
            Text(self.consistency.sentence),
        ]
        return parts

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
            f"Dot chart of each key line of enquiry's share {good()} per cycle "
            f"({', '.join(cycles)}) with 95% intervals by case (c: suppressed, too few "
            "cases). " + "; ".join(parts) + "."
        )
        subtitle = f"Share of ratings {good()}, all agencies, per cycle, with 95% intervals"
        if self.kloe_note:
            subtitle += ". " + self.kloe_note
        return Figure(
            "exec-kloe-trend",
            title=title,
            subtitle=subtitle,
            alt=alt,
            data=table.reset_index(drop=True),
            draw=partial(plots.trend_dots, long, "label", cycles),
            narrow=partial(plots.trend_dots, long, "label", cycles, narrow=True),
        )

    def _weakest(self, count: int = 6) -> Figure | Text:
        data, standards = self.data, self.standards
        # a standard resting on fewer cases than the threshold is not shown at all
        small = standards["cases"].between(1, self.min_cell_count - 1)
        rated = standards[(standards["n"] > 0) & ~small].sort_values(["share", "standard"])
        if rated.empty:  # issue 22: a small cohort or a high threshold leaves none to show
            return Text(no_standard_shown(int(small.sum()), self.min_cell_count))
        weakest = rated.head(count).assign(label=lambda t: t["standard_key"].map(self.names))
        verdicts = dict(zip(self.compared["standard_key"], self.compared["verdict"], strict=True))
        below = sum(verdicts.get(k) == "below" for k in weakest["standard_key"])
        clear = (
            f"{below} of them clearly below the overall share"
            if below
            else "none of them clearly below the overall share once chance is allowed for"
        )
        title = (
            f"The {len(weakest)} standards rated lowest, from {pct(weakest['share'].min())} to "
            f"{pct(weakest['share'].max())} {good()}: {clear}"
        )
        alt = (
            f"Dot chart of the standards with the lowest share {good()}, "
            f"{data.cycle}, with 95% intervals by case: "
            + "; ".join(f"{r['label']} {interval(r)}" for _, r in weakest.iterrows())
            + "."
        )
        return Figure(
            "exec-weakest-standards",
            title=title,
            subtitle=(
                f"Share of ratings {good()}, all agencies, {data.cycle}, with 95% "
                "intervals by case"
                + (
                    f"; {int(small.sum())} standards rated on fewer than "
                    f"{self.min_cell_count} cases are not shown"
                    if small.any()
                    else ""
                )
            ),
            alt=alt,
            data=page_table(weakest, "label"),
            draw=partial(plots.share_dots, weakest, "label"),
            narrow=partial(plots.share_dots, weakest, "label", narrow=True),
        )

    def _priority(self) -> Figure:
        cycle, by_theme = self.data.cycle, self.by_theme
        title, alt = breakdown_text(by_theme, "priority", cycle, self.kloes.themed)
        return Figure(
            "exec-by-priority",
            title=title,
            subtitle=(
                f"Share {good()} per KLOE and priority theme, {cycle}; "
                f"c: fewer than {self.min_cell_count} cases"
            ),
            alt=alt,
            data=page_table(by_theme, "kloe_title", "priority"),
            draw=partial(plots.share_dots, by_theme, "kloe_title", group="priority"),
            narrow=partial(plots.share_dots, by_theme, "kloe_title", group="priority", narrow=True),
        )

    def _kloe_chart(self, kloe) -> Block:
        """One KLOE's standards on the executive page: each standard's share met or
        exceeded per cycle (this year only, with nothing to compare), 95% intervals by
        case, standards named by their short names."""
        data, earlier = self.data, self.session.earlier
        if kloe.key in self.hidden_kloes:
            return Text(
                f"KLOE {kloe.number}'s figures are "
                + commentary_words.suppressed_words("reveal", self.min_cell_count)
                + ".",
                "note",
            )
        names = {s.key: self.names[s.key] for s in kloe.standards}
        few = self.few
        cycles = [*(e.cycle for e in earlier), data.cycle]
        if earlier:
            long = self._trend_long
            part = long[long["standard_key"].isin(list(names))].copy()
        else:
            part = self.standards[self.standards["kloe_key"] == kloe.key].assign(cycle=data.cycle)
        part = part[part["standard_key"].isin(list(names))].copy()
        part["label"] = part["standard_key"].map(names)
        part.loc[part["standard_key"].isin(few), ["share", "low", "high"]] = float("nan")
        now = self.standards[
            (self.standards["kloe_key"] == kloe.key) & ~self.standards["standard_key"].isin(few)
        ]
        now = now[now["n"] > 0]
        if now.empty:
            title = f"KLOE {kloe.number}: no standard rated on enough cases to show"
        else:
            title = (
                f"KLOE {kloe.number}, {data.cycle}: from {pct(now['share'].min())} to "
                f"{pct(now['share'].max())} of ratings {good()} across its "
                f"{len(now)} {plural(len(now), 'standard')}"
            )
            if earlier and self.trends.table is not None and not self.session.small:
                previous = earlier[-1].cycle
                trend = self.trends.table[self.trends.table["kloe_key"] == kloe.key]
                c = trend_counts(trend, previous)
                if c["improved"] or c["declined"]:
                    title += (
                        f"; since {previous}, {c['improved']} improved and "
                        f"{c['declined']} declined clearly"
                    )
                else:
                    title += f"; none changed clearly since {previous}"
        table = part[["label", "cycle", "share", "low", "high"]].astype(object)
        for column in ("share", "low", "high"):
            table[column] = (
                table[column]
                .map(lambda v: None if pd.isna(v) else round(float(v), 4))
                .astype(object)
            )
        if few & set(names):
            table.loc[part["standard_key"].isin(few).to_numpy(), "share"] = disclosure.MARKER
        alt = (
            f"Dot chart of KLOE {kloe.number}'s standards, share {good()} per cycle "
            f"({', '.join(cycles)}) with 95% intervals by case: "
            + "; ".join(
                f"{lab}: " + ", ".join(f"{r.cycle} {interval(r)}" for r in g.itertuples())
                for lab, g in part.groupby("label", sort=False)
            )
            + "."
        )
        draw = (
            partial(plots.trend_dots, part, "label", cycles)
            if earlier
            else partial(plots.share_dots, part, "label")
        )
        narrow = (
            partial(plots.trend_dots, part, "label", cycles, narrow=True)
            if earlier
            else partial(plots.share_dots, part, "label", narrow=True)
        )
        return Figure(
            f"exec-kloe-{kloe.number}",
            title=title,
            subtitle=(
                f"Share of ratings {good()}, all agencies, per cycle, with 95% "
                "intervals by case"
                + (
                    f"; standards rated on fewer than {self.min_cell_count} cases not shown"
                    if few & set(names)
                    else ""
                )
            ),
            alt=alt,
            data=table.reset_index(drop=True),
            draw=draw,
            narrow=narrow,
        )

    @cached_property
    def _trend_long(self) -> pd.DataFrame:
        return trend_stats.trend_long(self.data, self.session.earlier, table=self.trends.table)

    def _next(self) -> list[Block]:
        """What happens next: this cycle's areas for development and recommendations with
        their owners and due dates, then the earlier ones with the QA group's words on
        their progress, their status and, for areas, the measured change."""
        data, cycle = self.data, self.data.cycle
        areas = self.trends.areas
        blocks: list[Block] = []
        new = areas[areas["raised_in"] == cycle] if len(areas) else areas
        if len(new):
            blocks.append(
                Table(
                    pd.DataFrame(
                        {
                            "area for development": new["area"].to_numpy(),
                            "line of enquiry": new["kloe_title"].fillna("").to_numpy(),
                            "owner": new["owner"].fillna("").to_numpy(),
                            "due": [due_words(d) for d in new["due"]],
                        }
                    ),
                    f"Areas for development raised in {cycle}, with who owns each and when "
                    "it is due",
                    "exec-next-areas",
                )
            )
        recommendations = recommendations_display(data, self.session.earlier)
        raised = recommendations[recommendations["raised in"] == cycle]
        if len(raised):
            blocks.append(
                Table(
                    pd.DataFrame(
                        {
                            "recommendation": raised["recommendation"].to_numpy(),
                            "owner": raised["owner"].to_numpy(),
                            "due": [due_words(d) for d in raised["due"]],
                        }
                    ),
                    f"Recommendations of {cycle}, with who owns each and when it is due",
                    "exec-next-recommendations",
                )
            )
        if not blocks:
            blocks.append(
                Text(
                    f"No areas for development or recommendations are recorded for {cycle} "
                    "(development_areas.csv and recommendations.csv in the cycle's folder).",
                    "note",
                )
            )
        blocks += self._development()
        older = recommendations[recommendations["raised in"] != cycle]
        if len(older):
            blocks.append(
                Table(
                    pd.DataFrame(
                        {
                            "recommendation": older["recommendation"].to_numpy(),
                            "raised in": older["raised in"].to_numpy(),
                            "status": older["status"].to_numpy(),
                            "progress noted this year": older[
                                "progress noted this year"
                            ].to_numpy(),
                        }
                    ),
                    "Earlier recommendations: their latest status and the progress the QA "
                    "group noted this year",
                    "exec-earlier-recommendations",
                )
            )
        return blocks

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


def page_table(rows: pd.DataFrame, label: str, by: str | None = None) -> pd.DataFrame:
    """The table behind one of the page's charts: what each row is, how many ratings and
    cases it rests on, the share rated good and its interval. No count of ratings by
    level is published on the Executive Group's page: under a theme or a standard those
    can be counts of one or two children's ratings."""
    columns = [label, *([by] if by else []), "n", "cases", "share", "low", "high"]
    out = rows[columns].astype(object).copy()
    for column in ("share", "low", "high"):
        out[column] = out[column].map(
            lambda v: v if isinstance(v, str) else (None if pd.isna(v) else round(float(v), 4))
        )
    return out.reset_index(drop=True)


def due_words(due: object) -> str:
    """A due date as the page says it: ``2020-03`` -> ``March 2020``; anything else as
    written."""
    import datetime as dt

    text = "" if due is None or (isinstance(due, float) and pd.isna(due)) else str(due).strip()
    for fmt in ("%Y-%m", "%Y-%m-%d"):
        try:
            when = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return f"{when:%B %Y}" if fmt == "%Y-%m" else f"{when.day} {when:%B %Y}"
    return text


def plain_change(overall: pd.Series, current: str, earlier: str) -> str:
    """The overall change against ``earlier`` in plain words, from an
    :func:`~audit_analysis.analysis.trends.overall_trend` row: the two shares, the
    change in points with its 95% interval by case, and what that means."""
    now, before = overall[f"share_{current}"], overall[f"share_{earlier}"]
    if pd.isna(now) or pd.isna(before):
        return f"no comparison with {earlier} is possible (no ratings in one of the years)."
    diff = overall[f"diff_vs_{earlier}"]
    low, high = overall[f"diff_low_vs_{earlier}"], overall[f"diff_high_vs_{earlier}"]
    verdict = overall[f"verdict_vs_{earlier}"]
    size = abs(round(float(diff) * 100))
    way = "up" if diff > 0 else "down"
    moved = f"{way} {size} {plural(size, 'point')}" if size else "unchanged"
    text = f"{pct(now)} of ratings {good_did()}, against {pct(before)}: {moved}"
    if pd.notna(low):
        text += f" (95% interval by case: {points(low)} to {points(high)} points)"
    meaning = {
        "improved": "a clear improvement.",
        "declined": "a clear decline.",
        "no clear change": "a difference that chance alone could give with these cases, so "
        "not counted as a change.",
    }.get(verdict, verdict_words(verdict) + ".")
    return f"{text}, {meaning}"


def standout_words(
    compared: pd.DataFrame,
    standards: pd.DataFrame,
    names: dict[str, str] | None = None,
    total: int | None = None,
) -> dict[str, str]:
    """The standards clearly below and clearly above the cycle's overall share
    (:func:`~audit_analysis.analysis.summaries.compare_to_overall`), one sentence each
    (``below``, ``above``; "" when none), naming each standard by its number and short
    name (``names``: standard key to name; else its full wording), never cut."""
    columns = [c for c in ("standard_key", "text", "short") if c in standards.columns]
    merged = compared.merge(standards[columns], on="standard_key", how="left")
    out = {"below": "", "above": ""}
    for verdict in ("below", "above"):
        rows = merged[merged["verdict"] == verdict].sort_values(
            "share", ascending=verdict == "below"
        )
        if rows.empty:
            continue

        def name(r) -> str:
            if names and r["standard_key"] in names:
                return names[r["standard_key"]]
            words = r.get("short") if isinstance(r.get("short"), str) else r["text"]
            return f"{int(r['standard'])}. {str(words).rstrip('.')}"

        shown = "; ".join(f"{name(r)} ({pct(r['share'])})" for _, r in rows.head(4).iterrows())
        more = f"; and {len(rows) - 4} more" if len(rows) > 4 else ""
        word = plural(len(rows), "standard")
        out[verdict] = (
            f"{len(rows)} {word} clearly {verdict} this year's overall share of "
            f"{pct(rows['overall'].iloc[0])}, allowing for chance and for the "
            f"{total or len(compared)} standards compared at once: {shown}{more}."
        )
    return out


def standout_sentences(
    compared: pd.DataFrame, standards: pd.DataFrame, names: dict[str, str] | None = None
) -> list[str]:
    """:func:`standout_words` as a list of sentences, or one plain statement when no
    standard stands out."""
    words = standout_words(compared, standards, names)
    found = [words[v] for v in ("below", "above") if words[v]]
    return found or [
        "No standard stands clearly above or below the overall share once chance "
        "variation between cases is allowed for."
    ]


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


def about_these_figures(
    session: Session, today=None, selection: list[str] | None = None
) -> list[str]:
    """ "About these figures", built from what this run did: the scale and what is left
    out, the interval methods actually used (a change between years only when an earlier
    cycle was compared), the suppression threshold, the cycles compared and where each
    one's framework came from, the run date and the package version. One paragraph per
    item; plain text (the caller escapes it).

    A framework is called "reconstructed" only when it is one of the suite's built-in
    reconstructions; a partnership's own framework is named by its file. ``today`` (a
    ``datetime.date``) defaults to the date of the run."""
    from datetime import date

    from audit_analysis.io.ratings import NOT_APPLICABLE, NOT_RECORDED
    from audit_analysis.render.labels import rating_label

    data = session.data
    scale = [rating_label(c).lower() for c in data.scale.best_first]
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
    # issue 26: how the cases were chosen, and what the shares therefore describe
    paragraphs.append(" ".join(selection or selection_sentences(session)))
    if session.earlier:
        paragraphs.append(
            "A change between years has the MOVER interval (Zou and Donner) built from "
            "the two years' intervals, and is stated only where that interval excludes "
            f"no change. Among the up to {standards} standards compared at once, a "
            "standard counts as improved or declined only where it stands out at a 5% "
            "false discovery rate (Benjamini-Hochberg), and so does a key line of enquiry "
            "among the KLOEs."
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
        "give the first away. This page gives shares, not counts of each rating."
    )
    cycles = [d.cycle for d in session.earlier]
    compared = (
        f"compared with {and_list(cycles)}. Standards are matched across years by a stable "
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
        f"Produced on {today.day} {today:%B %Y} by audit-analysis {__version__} from the "
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


def no_standard_shown(small: int, min_cell_count: int) -> str:
    """What the page says in place of the weakest standards when none can be shown
    (issue 22: a valid input never aborts the year)."""
    if small:
        return (
            f"No standard is shown here: each of the {small} standards rated was rated on "
            f"fewer than {min_cell_count} cases, too few to publish (the threshold for "
            "small numbers)."
        )
    return "No standard is shown here: no standard was rated on the scale this cycle."
