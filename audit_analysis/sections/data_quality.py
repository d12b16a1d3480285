"""Section 1, data quality: who returned what on which template, evidence, coverage,
compliance with the case list, the deep dive and family feedback, and every rejection.

:class:`DataQuality` computes the section's tables once; the sentences that describe
them are here, beside them."""

from __future__ import annotations

from functools import cached_property, partial

import pandas as pd

from audit_analysis.analysis import quality
from audit_analysis.render import labels, plots
from audit_analysis.render.labels import agency_name, cap, good_adj
from audit_analysis.render.section import Block, Figure, Section, Table, Text
from audit_analysis.sections.base import SectionBuilder, Session
from audit_analysis.sections.small import small_note
from audit_analysis.sections.words import interval, pct

__all__ = [
    "DataQuality",
    "build",
    "evidence_alt",
    "evidence_title",
    "quality_sentences",
    "records_detail",
    "records_sentences",
]


class DataQuality(SectionBuilder):
    name = "data-quality"
    title = "Data quality"

    @cached_property
    def returns(self) -> pd.DataFrame:
        return quality.returns_by_agency(self.data)

    @cached_property
    def evidence(self) -> pd.DataFrame:
        return quality.evidence_rate(self.data)

    @cached_property
    def rejections(self) -> pd.DataFrame:
        return quality.rejections_summary(self.data)

    @cached_property
    def sentences(self) -> list[str]:
        return quality_sentences(self.returns, self.evidence, self.rejections, self.data.cycle)

    def parts(self) -> dict[str, list[Block]]:
        data, cycle = self.data, self.data.cycle
        shares = quality.evidence_shares(data, self.evidence)
        compliance = quality.compliance(data)  # the grid and its CSV from one table
        records: list[Block] = [Text(s) for s in records_detail(data)]
        if data.deep_dive is not None and len(data.deep_dive):
            records.append(Table(data.deep_dive, f"Deep-dive record, {cycle}", "deep-dive"))
        return {
            "summary": [*small_note(self.session), *(Text(s) for s in self.sentences)],
            "returns": [Table(self.returns, f"Returns per agency, {cycle}", "returns-by-agency")],
            "completeness": [
                Table(
                    quality.completeness(data),
                    f"Ratings recorded against ratings owed, per agency, {cycle}",
                    "completeness",
                )
            ],
            "evidence": [
                Figure(
                    "evidence-by-agency",
                    title=evidence_title(shares),
                    subtitle=f"{cap(good_adj())} ratings per agency, {cycle}",
                    alt=evidence_alt(shares, cycle),
                    data=shares,
                    draw=partial(
                        plots.share_dots,
                        shares,
                        "agency",
                        xlabel=f"Share of {good_adj()} ratings with evidence",
                    ),
                    key=labels.agency_key(shares["agency"]),
                )
            ],
            "coverage": [
                Table(quality.coverage(data), f"Ratings per case and agency, {cycle}", "coverage")
            ],
            "compliance": [
                Table(
                    quality.compliance_grid(data, table=compliance),
                    f"Returns by case and agency, {cycle}: {quality.COMPLIANCE_LEGEND}",
                    "compliance",
                ),
                Table(compliance, "", "compliance-detail", show=False),
            ],
            "records": records,
            "rejections": [
                Table(self.rejections, "Rejections by agency and kind", "rejections-summary"),
                Table(
                    quality.classified_rejections(data), f"Every rejection, {cycle}", "rejections"
                ),
            ],
        }


def build(session: Session) -> Section:
    """The data-quality section of ``session``'s cycle."""
    return DataQuality(session).build()


def quality_sentences(
    returns: pd.DataFrame, evidence: pd.DataFrame, rejections: pd.DataFrame, cycle: str
) -> list[str]:
    """The report's section 2.3 findings, measured: templates, evidence, rejections."""
    known = returns[returns["agency"] != quality.UNATTRIBUTED]
    sentences = [
        f"{len(known)} agencies sent {int(known['returns'].sum())} returns holding "
        f"{int(known['ratings'].sum())} ratings."
    ]
    old = known[known["on_old_template"] > 0]
    if len(old):
        names = ", ".join(
            f"{agency_name(r.agency)} ({int(r.on_old_template)} of {int(r.returns)})"
            for r in old.itertuples()
        )
        who = "1 agency" if len(old) == 1 else f"{len(old)} agencies"
        sentences.append(
            f"{who} used an earlier year's template for some returns: {names}; "
            "standards added since are missing from those returns."
        )
    else:
        sentences.append(f"Every agency used the {cycle} template.")
    bulk = known[(known["bulk"] > 0) & (known["toolkit"] == 0)]
    if len(bulk):
        sentences.append(
            "Not using the toolkit (a bulk table instead): "
            + ", ".join(agency_name(a) for a in bulk["agency"])
            + "."
        )
    ev = evidence[evidence["agency"] != quality.UNATTRIBUTED]
    total = int(ev["met_or_better"].sum())
    if total:
        share = ev["met_or_better_evidenced"].sum() / total
        bare = ev[(ev["met_or_better"] > 0) & (ev["met_or_better_evidenced"] == 0)]
        text = f"{pct(share)} of {good_adj()} ratings give evidence"
        if len(bare):
            text += "; " + ", ".join(agency_name(a) for a in bare["agency"]) + " gave none at all"
        sentences.append(text + ".")
    whole = int(rejections["whole_files"].sum())
    rows = int(rejections["rows"].sum())
    sentences.append(
        f"{rows} rows and {whole} whole files were rejected and need chasing "
        "(see the rejection log)."
    )
    return sentences


def evidence_title(shares: pd.DataFrame) -> str:
    if shares.empty:
        return f"No {good_adj()} ratings to check for evidence"
    low = shares.loc[shares["share"].idxmin()]
    return (
        f"Evidence behind {good_adj()} ratings ranges from {pct(low['share'])} "
        f"({low['agency']}) to {pct(shares['share'].max())} across agencies"
    )


def evidence_alt(shares: pd.DataFrame, cycle: str) -> str:
    parts = [f"{r.agency} {interval(r)} of {int(r.n)}" for r in shares.itertuples()]
    return (
        f"Dot chart of the share of {good_adj()} ratings that give evidence, per "
        f"agency, {cycle}, with 95% intervals: " + "; ".join(parts) + "."
    )


def records_sentences(data, min_count: int = 5) -> list[str]:
    """The deep dive and family feedback in counts only: no case, no free text. Counts
    of children pass the small-number rule, complements included (``7 of the 8``
    reveals 1): :func:`~audit_analysis.analysis.disclosure.suppress_counts`."""
    from audit_analysis.analysis.disclosure import MARKER, suppress_counts
    from audit_analysis.analysis.quality import deep_dive_summary, feedback_summary

    sentences = []
    if data.deep_dive is not None and len(data.deep_dive):
        d = deep_dive_summary(data.deep_dive)
        talk = suppress_counts(
            {"discussed": d["discussed"], "not": d["not_discussed"]}, d["flagged"], min_count
        )
        act = suppress_counts(
            {"action": d["action_required"], "none": d["flagged"] - d["action_required"]},
            d["flagged"],
            min_count,
        )
        if talk["total"] == MARKER:
            sentences.append(
                f"Fewer than {min_count} cases were flagged for the deep dive, too few to "
                "report here."
            )
        else:
            text = f"{talk['total']} cases were flagged for the deep dive"
            text += (
                f"; {talk['discussed']} were discussed at the round table"
                if talk["discussed"] != MARKER
                else "; how many were discussed at the round table is not shown: with the "
                f"number not discussed it would reveal a number under {min_count}"
            )
            text += (
                f", and {act['action']} needed immediate action"
                if act["action"] != MARKER
                else "; how many needed immediate action is not shown: it would reveal a "
                f"number under {min_count}"
            )
            sentences.append(text + ".")
    if data.family_feedback is not None and len(data.family_feedback):
        f = feedback_summary(data.family_feedback)
        if f["invited"]:
            shown = suppress_counts(
                {"responded": f["responded"], "not": f["invited"] - f["responded"]},
                f["invited"],
                min_count,
            )
            if shown["total"] == MARKER:
                sentences.append(
                    f"Fewer than {min_count} families were invited to give feedback, too "
                    "few to report here."
                )
            elif shown["responded"] == MARKER:
                sentences.append(
                    f"{shown['total']} families were invited to give feedback; how many "
                    "responded is not shown: it would reveal a number under "
                    f"{min_count}."
                )
            else:
                sentences.append(
                    f"{shown['responded']} of {shown['total']} families invited responded "
                    f"to the request for feedback ({pct(f['rate'])})."
                )
    return sentences


def records_detail(data) -> list[str]:
    """For the QA group: the deep dive with the reasons cases were not discussed, and
    the family feedback response rate with its interval."""
    from audit_analysis.analysis.quality import deep_dive_summary, feedback_summary

    sentences = []
    if data.deep_dive is None or data.deep_dive.empty:
        sentences.append("No deep_dive.csv: no deep-dive record for this cycle.")
    else:
        d = deep_dive_summary(data.deep_dive)
        text = (
            f"{d['discussed']} of the {d['flagged']} cases flagged for the deep dive were discussed"
        )
        if d["reasons"]:
            text += "; not discussed: " + "; ".join(
                f"{reason} ({n})" for reason, n in d["reasons"].items()
            )
        sentences.append(text + f". {d['action_required']} needed immediate action.")
    if data.family_feedback is None or data.family_feedback.empty:
        sentences.append("No family_feedback.csv: no family feedback recorded for this cycle.")
    else:
        f = feedback_summary(data.family_feedback)
        if f["invited"]:
            sentences.append(
                f"Family feedback: {f['responded']} of {f['invited']} families invited responded "
                f"({interval({'share': f['rate'], 'low': f['low'], 'high': f['high']})})."
            )
        else:
            sentences.append("Family feedback: no family was invited.")
    return sentences
