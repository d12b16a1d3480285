"""Section 2, findings by KLOE: every standard's ratings, KLOE by KLOE, with the
learning event's feedback; shares by priority theme, by age band and by agency.

:class:`KloeFindings` computes the tables once (the executive summary takes
``standards``, ``themed`` and the priority breakdown from here); the sentences that
describe them are beside them."""

from __future__ import annotations

from functools import cached_property, partial

import pandas as pd

from audit_analysis.analysis import disclosure, phrases, summaries
from audit_analysis.io.dataset import case_identifiers
from audit_analysis.render import plots
from audit_analysis.render.labels import cap, good, good_adj, good_did, not_good
from audit_analysis.render.section import Block, Figure, Learning, Section, Table, Text
from audit_analysis.sections import commentary as commentary_words
from audit_analysis.sections import small
from audit_analysis.sections.base import SectionBuilder, Session
from audit_analysis.sections.words import (
    extremes_text,
    interval,
    pct,
    standard_label,
    summary_table,
)

__all__ = [
    "KloeFindings",
    "agency_kloe_table",
    "breakdown_text",
    "build",
    "kloe_chart_text",
    "phrase_table",
]


_WHAT = {"priority": "priority theme", "age": "age band"}
#: Distinctive phrases shown each way for a whole KLOE and for each of its standards.
PHRASES_PER_KLOE = 5
PHRASES_PER_STANDARD = 3


class KloeFindings(SectionBuilder):
    name = "findings-by-kloe"
    title = "Findings by key line of enquiry"

    @cached_property
    def standards(self) -> pd.DataFrame:
        """Every standard's ratings and share rated good (95% interval by case)."""
        return summaries.standard_summary(self.data.ratings, self.data.framework)

    @cached_property
    def overall(self) -> pd.Series:
        """Every rating of the year: share rated good, cases, agencies."""
        return summaries.overall_summary(self.data.ratings).iloc[0]

    @cached_property
    def themed(self) -> pd.DataFrame:
        """The ratings with each case's priority theme and age band."""
        return summaries.with_case_characteristics(self.data.ratings, self.data.cases)

    @cached_property
    def by_priority_unsuppressed(self) -> pd.DataFrame:
        """Share per KLOE and priority theme, before small numbers are suppressed: for
        working out which totals would give a suppressed cell away, never for display."""
        return summaries.kloe_summary(self.themed, self.data.framework, by="priority")

    @cached_property
    def by_priority(self) -> pd.DataFrame:
        return disclosure.suppress_breakdown(
            self.by_priority_unsuppressed, "priority", self.min_cell_count
        )

    @cached_property
    def phrases(self) -> dict[int, pd.DataFrame]:
        """Per KLOE number, the phrases that most distinguish its not or partly met
        evidence from its evidence rated good (:mod:`~audit_analysis.analysis.phrases`;
        :data:`PHRASES_PER_KLOE` each way), for the whole KLOE and for each of its
        standards (:data:`PHRASES_PER_STANDARD` each way), as :func:`phrase_table` shows
        them. For the QA group: the quotes are evidence text (identifiers as ``[id]``)."""
        data = self.data
        ids = case_identifiers(data.folder)
        out = {}
        for kloe in data.framework.kloes:
            rows = data.ratings[data.ratings["kloe"] == kloe.number]
            found = [
                (
                    f"KLOE {kloe.number}",
                    phrases.distinctive_phrases(rows, identifiers=ids, top=PHRASES_PER_KLOE),
                )
            ]
            for standard in kloe.standards:
                found.append(
                    (
                        f"Standard {standard.number}",
                        phrases.distinctive_phrases(
                            rows[rows["standard"] == standard.number],
                            identifiers=ids,
                            top=PHRASES_PER_STANDARD,
                        ),
                    )
                )
            out[kloe.number] = phrase_table(found)
        return out

    def _phrase_blocks(self) -> list[Block]:
        blocks: list[Block] = [
            Text(
                "The words and two-word phrases that most distinguish the auditors' "
                f"evidence where standards were {not_good()} from where they were {good()}, "
                "for each KLOE and each of its standards: ranked by the "
                "weighted log-odds ratio with an informative Dirichlet prior (Monroe, "
                "Colaresi and Quinn 2008), listed when z is beyond 1.96 either way and the "
                "phrase is in the evidence of 3 or more cases. A reading aid for the QA "
                "group, not a finding: among hundreds of phrases some stand out by chance, "
                "so read the quotes before using one. Quotes are evidence text, with case "
                "identifiers shown as [id]; audit-analysis draft-commentary puts the same "
                "phrases in the commentary skeleton."
            )
        ]
        for kloe in self.data.framework.kloes:
            table = self.phrases[kloe.number]
            name = f"KLOE {kloe.number} ({kloe.title})"
            if table.empty:
                blocks.append(Text(f"{name}: no phrase stands out in the evidence."))
                continue
            blocks.append(
                Table(table, f"{name}: phrases that distinguish the evidence, {self.data.cycle}")
            )
        return blocks

    def _breakdown(self, table: pd.DataFrame, by: str, what: str) -> Figure:
        cycle = self.data.cycle
        title, alt = breakdown_text(table, by, cycle, self.themed)
        return Figure(
            f"kloe-by-{what}",
            title=title,
            subtitle=f"Share {good()} per KLOE and {_WHAT[what]}, {cycle}",
            alt=alt,
            data=summary_table(table, by),
            draw=partial(plots.share_dots, table, "kloe_title", group=by),
        )

    @cached_property
    def case_counts(self) -> pd.DataFrame:
        """Per standard, the cases rated good by every agency, by some and by none."""
        return small.case_counts(self.data.ratings, self.data.framework)

    @cached_property
    def commentary(self):
        """The QA group's commentary (None: none supplied)."""
        return commentary_words.load(self.session)

    @cached_property
    def figures(self) -> commentary_words.CommentaryFigures:
        return commentary_words.CommentaryFigures(self.session, self.standards, None)

    def qa_words(self, kloe) -> list[Block]:
        """What the QA group wrote under ``## KLOE <key>``, figures filled in, under a
        line saying whose words they are ([] when it wrote nothing there)."""
        text = self.commentary.text(f"kloe:{kloe.key}") if self.commentary else ""
        if not text:
            return []
        return [
            Text(f"KLOE {kloe.number}, {kloe.title}: the QA group's commentary", "note"),
            *commentary_words.markdown_blocks(text, self.figures.substitute),
        ]

    def parts(self) -> dict[str, list[Block]]:
        data, cycle = self.data, self.data.cycle
        overall = self.overall
        standards = self.standards
        kloes: list[Block] = []
        for kloe in data.framework.kloes:
            rows = standards[standards["kloe"] == kloe.number].assign(
                label=lambda t: t.apply(standard_label, axis=1)
            )
            title, subtitle, alt = kloe_chart_text(rows, cycle)
            kloes += self.qa_words(kloe)
            if self.session.small:  # counts of cases and the evidence lead
                counts = self.case_counts[self.case_counts["kloe"] == kloe.number]
                kloes.append(
                    Table(
                        small.counts_display(counts),
                        f"KLOE {kloe.number} ({kloe.title}): cases rated "
                        f"{good_adj()}, per standard",
                        f"kloe-{kloe.number}-cases",
                    )
                )
                kloes.append(
                    Table(
                        small.evidence_display(data.ratings, kloe.number),
                        f"KLOE {kloe.number} ({kloe.title}): every rating and its evidence",
                        f"kloe-{kloe.number}-evidence",
                    )
                )
            kloes.append(
                Figure(
                    f"kloe-{kloe.number}",
                    title=title,
                    subtitle=subtitle,
                    alt=alt,
                    data=summary_table(rows),
                    draw=partial(plots.rating_bars, rows),
                )
            )
            kloes.append(Learning(data.learning_event, kloe.number))
        by_age = disclosure.suppress_breakdown(
            summaries.kloe_summary(self.themed, data.framework, by="age_band"),
            "age_band",
            self.min_cell_count,
        )
        by_agency = summaries.kloe_summary(data.ratings, data.framework, by="agency")
        lead: list[Block] = []
        if self.session.small:
            lead.append(Text(small.small_sentence(cycle, self.session.cases, self.min_cell_count)))
            summary = self.commentary.text("summary") if self.commentary else ""
            if summary:
                lead.append(Text("The QA group's summary", "note"))
                lead += commentary_words.markdown_blocks(summary, self.figures.substitute)
            lead.append(
                Table(
                    small.counts_display(self.case_counts),
                    f"Cases rated {good_adj()} per standard, {cycle}",
                    "standard-cases",
                )
            )
        return {
            "overall": [
                *lead,
                Text(
                    f"Across all standards and agencies, {interval(overall)} of "
                    f"{int(overall['n'])} ratings {good_did()}, in "
                    f"{int(overall['cases'])} cases audited by {int(overall['agencies'])} "
                    "agencies."
                ),
                Table(standards, "", "standards", show=False),
            ],
            "kloes": kloes,
            "priority": [self._breakdown(self.by_priority, "priority", "priority")],
            "age": [self._breakdown(by_age, "age_band", "age")],
            "agency": [
                Table(
                    agency_kloe_table(by_agency),
                    f"Share {good()} per agency and KLOE, {cycle}",
                    "kloe-by-agency",
                )
            ],
            "phrases": self._phrase_blocks(),
        }


def build(session: Session) -> Section:
    """The findings-by-KLOE section of ``session``'s cycle."""
    return KloeFindings(session).build()


def kloe_chart_text(rows: pd.DataFrame, cycle: str) -> tuple[str, str, str]:
    """Title, subtitle and alt text for one KLOE's standards chart."""
    first = rows.iloc[0]
    rated = rows[rows["n"] > 0]
    name = f"KLOE {int(first['kloe'])} ({first['kloe_title']})"
    if rated.empty:
        return (
            f"{name}: no ratings in {cycle}",
            "No standard of this KLOE was rated.",
            f"Chart of {name}: no ratings were recorded for any of its standards.",
        )
    best = rated.loc[rated["share"].idxmax()]
    worst = rated.loc[rated["share"].idxmin()]
    if len(rated) == 1 or best["standard"] == worst["standard"]:
        title = f"{name}: {pct(best['share'])} of ratings {good_did()}"
    else:
        title = (
            f"{name}: from {pct(worst['share'])} {good()} (standard "
            f"{int(worst['standard'])}) to {pct(best['share'])} (standard "
            f"{int(best['standard'])})"
        )
    subtitle = (
        f"Ratings of each standard by every agency, {cycle}; {int(rated['n'].sum())} "
        f"ratings on the scale across {int(rows['cases'].max())} cases"
    )
    parts = [
        f"standard {int(r.standard)} {interval(r)} of {int(r.n)} ratings"
        for r in rows.itertuples()
        if r.n > 0
    ]
    alt = (
        f"Stacked bar chart of the ratings of each standard in {name}, {cycle}. "
        f"Share {good()} with 95% interval: " + "; ".join(parts) + "."
    )
    return title, subtitle, alt


def breakdown_text(
    table: pd.DataFrame, by: str, cycle: str, ratings: pd.DataFrame | None = None
) -> tuple[str, str]:
    """Title and alt text for a share-by-category chart (suppressed cells say ``c``).

    With ``ratings`` (holding the ``by`` column), the title names the best and worst
    category only where their gap is clear with the case as the unit
    (:func:`~audit_analysis.analysis.summaries.extremes`, over the categories shown);
    otherwise it says there is no clear difference. Without them it names none.
    """
    from audit_analysis.analysis.summaries import extremes

    shown = table[table["share"].map(lambda v: not isinstance(v, str) and pd.notna(v))]
    words = by.replace("_", " ")
    if shown.empty:
        return (
            f"Shares by {words} are suppressed or empty in {cycle}",
            f"Chart of shares by {words}: every figure is suppressed or empty.",
        )
    if ratings is not None:
        levels = [v for v in dict.fromkeys(shown[by]) if pd.notna(v)]
        found = extremes(ratings, by, levels)
        plural = {"priority": "priority themes", "age_band": "age bands"}.get(by, f"{words}s")
        title = extremes_text(found, plural)
        if found is not None and found["clear"]:
            title = f"By {words}, {title[:1].lower()}{title[1:]}"
    else:
        title = f"Share {good()} by {words}, {cycle}"
    parts = [f"{r.kloe_title}, {getattr(r, by)}: {interval(r)}" for r in table.itertuples()]
    alt = (
        f"Dot chart of the share {good()} per KLOE and {words}, {cycle}, with 95% "
        "intervals by case (c: suppressed, too few cases): " + "; ".join(parts) + "."
    )
    return title, alt


def agency_kloe_table(by_agency: pd.DataFrame) -> pd.DataFrame:
    """Agency by KLOE: share rated good and n, one column per KLOE."""
    cells = by_agency.assign(
        cell=by_agency.apply(
            lambda r: "" if r["n"] == 0 else f"{pct(r['share'])} ({int(r['n'])})", axis=1
        ),
        column=by_agency["kloe"].map(lambda k: f"KLOE {int(k)}"),
    )
    wide = cells.pivot(index="agency", columns="column", values="cell").reset_index()
    wide.columns.name = None
    return wide


def _direction_words(direction: str) -> str:
    """A phrase table's direction (a code) in the shown scale's words."""
    return not_good() if direction == phrases.NOT_MET else good_adj()


def phrase_table(found: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """Distinctive phrases (:func:`~audit_analysis.analysis.phrases.distinctive_phrases`
    tables, each with what it covers) as one reader's table: where, which way, the
    phrase, its count each way, z to one decimal and its quotes."""
    rows = []
    for where, table in found:
        for r in table.itertuples():
            rows.append(
                {
                    "Evidence of": where,
                    "More often where": _direction_words(r.direction),
                    "Phrase": r.phrase,
                    cap(not_good()): int(r.not_met),
                    f"{cap(good())}": int(r.met),
                    "z": round(float(r.z), 1),
                    "Quotes": " ".join(f"“{q}”" for q in r.quotes),
                }
            )
    columns = [
        "Evidence of",
        "More often where",
        "Phrase",
        cap(not_good()),
        f"{cap(good())}",
        "z",
        "Quotes",
    ]
    return pd.DataFrame(rows, columns=columns)
