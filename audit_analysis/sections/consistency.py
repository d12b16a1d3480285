"""Section 4, agency consistency: how often pairs of agencies rating the same case and
standard agree, agreement beyond chance (Krippendorff's alpha, Gwet's AC1) per standard,
per KLOE and overall, and the register of case-standards where agencies disagree.

:class:`Consistency` computes the agreement tables once (the executive summary takes the
pooled and per-standard agreement from here); the sentences that describe them are
beside them."""

from __future__ import annotations

from functools import cached_property, partial

import pandas as pd

from audit_analysis.analysis import agreement
from audit_analysis.analysis.agreement import AGREEMENT_COLUMNS
from audit_analysis.render import labels, plots
from audit_analysis.render.labels import good_short, shown_scale, worst
from audit_analysis.render.section import Block, Figure, Section, Table, Text
from audit_analysis.sections.base import SectionBuilder, Session
from audit_analysis.sections.small import small_note
from audit_analysis.sections.words import pct, standard_label


def _good_is() -> str:
    """The good side in "agree on whether a standard is ...": "met" on the built-in
    scale (its ``words: good_short:``), else "rated Yes"."""
    scale = shown_scale()
    return scale.good_short if "good_short" in scale.words else scale.good_as


__all__ = [
    "Consistency",
    "agreement_alt",
    "agreement_display",
    "agreement_sentence",
    "agreement_title",
    "build",
    "heatmap_alt",
    "heatmap_title",
]

N_BOOT, SEED = 1000, 0  # case-resampling draws behind every agreement interval


class Consistency(SectionBuilder):
    name = "agency-consistency"
    title = "Agency consistency"

    @cached_property
    def pairwise(self) -> pd.DataFrame:
        return agreement.pairwise_agreement(self.data.ratings, min_shared=self.min_cell_count)

    @cached_property
    def by_standard(self) -> pd.DataFrame:
        return agreement.agreement_by_standard(
            self.data.ratings, self.data.framework, n_boot=N_BOOT, seed=SEED
        )

    @cached_property
    def by_kloe(self) -> pd.DataFrame:
        return agreement.agreement_by_kloe(
            self.data.ratings, self.data.framework, n_boot=N_BOOT, seed=SEED
        )

    @cached_property
    def pooled(self) -> pd.DataFrame:
        return agreement.agreement_overall(
            self.data.ratings, self.data.framework, n_boot=N_BOOT, seed=SEED
        )

    @cached_property
    def sentence(self) -> str:
        return agreement_sentence(self.pooled, self.by_standard, self.min_cell_count)

    def parts(self) -> dict[str, list[Block]]:
        cycle, pairwise, least = self.data.cycle, self.pairwise, self.min_cell_count
        levels: list[Block] = []
        for level, table in (("standard", self.by_standard), ("kloe", self.by_kloe)):
            shown = agreement_display(table, level)
            levels.append(
                Figure(
                    f"agreement-by-{level}",
                    title=agreement_title(table, level),
                    subtitle=f"Agencies rating the same cases, {cycle}",
                    alt=agreement_alt(table, level, cycle),
                    data=shown,
                    draw=partial(
                        plots.interval_plot,
                        shown,
                        "label",
                        [
                            ("alpha", "alpha", "alpha_low", "alpha_high"),
                            ("AC1", "ac1", "ac1_low", "ac1_high"),
                        ],
                        xlabel="Agreement beyond chance (0 = chance, 1 = perfect)",
                    ),
                )
            )
        register = agreement.disagreement_register(self.data.ratings)
        return {
            "summary": [*small_note(self.session), Text(self.sentence)],
            "pairs": [
                Figure(
                    "agency-agreement",
                    title=heatmap_title(pairwise),
                    subtitle=f"Pairs of agencies rating the same case and standard, {cycle}",
                    alt=heatmap_alt(pairwise, least, cycle),
                    data=pairwise,
                    draw=partial(
                        plots.agreement_heatmap,
                        agreement.pairwise_matrix(pairwise, "pct_agree_met"),
                        agreement.pairwise_matrix(pairwise, "shared"),
                        least,
                        what="agree on met or not",
                    ),
                    key=labels.agency_key(sorted(set(pairwise["a"]) | set(pairwise["b"]))),
                )
            ],
            "levels": levels,
            "register": [
                Text(
                    f"{len(register)} case-standards where agencies disagree on {good_short()} "
                    f"against {worst()}."
                ),
                Table(register, f"Disagreement register, {cycle}", "disagreement-register"),
            ],
        }


def build(session: Session) -> Section:
    """The agency-consistency section of ``session``'s cycle."""
    return Consistency(session).build()


def agreement_sentence(pooled: pd.DataFrame, by_standard: pd.DataFrame, min_cases: int = 5) -> str:
    """Agreement between agencies, chance-corrected: the pooled alpha and AC1 with their
    case-resampling intervals (``agreement_overall``), and the standards with the lowest
    and highest alpha, each with its interval and cases, among standards resting on at
    least ``min_cases`` cases rated by two or more agencies, and whether those two differ
    once picking them out of many is allowed for (:func:`_extremes_differ`)."""
    row = pooled.iloc[0]
    if not bool(row["estimable"]):
        return (
            "Agreement between agencies cannot be measured this year: too few cases and "
            "standards were rated by more than one agency."
        )
    text = (
        f"Where two or more agencies rated the same case and standard ({int(row['units'])} "
        f"case-standards), they gave the same rating in {pct(row['pct_agree'])} of pairs; "
        f"their agreement beyond chance is {_coefficient(row, 'alpha')} on "
        f"Krippendorff's alpha and {_coefficient(row, 'ac1')} on Gwet's AC1 (1 is perfect "
        "agreement, 0 no better than chance; 95% intervals resampling cases)"
    )
    usable = by_standard[by_standard["estimable"] & (by_standard["units"] >= min_cases)]
    usable = usable[usable["alpha_low"].notna()]
    if len(usable) >= 2:
        weakest = usable.loc[usable["alpha"].idxmin()]
        strongest = usable.loc[usable["alpha"].idxmax()]
        text += (
            f". By standard, alpha is lowest for standard {int(weakest['standard'])} "
            f"({_coefficient(weakest, 'alpha', ', interval ')}, on {int(weakest['units'])} "
            f"cases) and highest for standard {int(strongest['standard'])} "
            f"({_coefficient(strongest, 'alpha', ', interval ')}, on "
            f"{int(strongest['units'])} cases)"
        )
        text += _extremes_differ(weakest, strongest, len(usable))
    return text + "."


def _extremes_differ(weakest: pd.Series, strongest: pd.Series, k: int) -> str:
    """Whether the lowest and highest alpha of ``k`` standards, picked after looking,
    differ: each one's interval is widened, from its estimate outwards, by the ratio of
    the normal quantiles at the Bonferroni level for the ``k (k - 1) / 2`` pairs that
    could have been picked and at 95%; they differ where even these do not overlap
    (non-overlap is conservative for a difference, the more so as both rest on the same
    cases)."""
    from scipy import special  # norm.isf is -ndtri: scipy.stats' import spared

    pairs = k * (k - 1) // 2
    widen = float(special.ndtri(0.025 / max(pairs, 1)) / special.ndtri(0.025))
    high = weakest["alpha"] + (weakest["alpha_high"] - weakest["alpha"]) * widen
    low = strongest["alpha"] - (strongest["alpha"] - strongest["alpha_low"]) * widen
    if high < low:
        return f"; they differ even allowing for picking the lowest and highest of {k} standards"
    return (
        f"; picked as the lowest and highest of {k} standards, they may not truly differ "
        f"(their intervals, widened for the {pairs} pairs that could have been picked, "
        "overlap)"
    )


def _coefficient(row: pd.Series, name: str, between: str = "") -> str:
    """``0.22 (0.12 to 0.30)``, or with ``between`` ``0.22, interval 0.12 to 0.30``."""
    value, low, high = row[name], row.get(f"{name}_low"), row.get(f"{name}_high")
    if pd.isna(low) or pd.isna(high):
        return f"{value:.2f}"
    if between:
        return f"{value:.2f}{between}{low:.2f} to {high:.2f}"
    return f"{value:.2f} ({low:.2f} to {high:.2f})"


def heatmap_title(pairwise: pd.DataFrame) -> str:
    shared = pairwise[(pairwise["a"] < pairwise["b"]) & ~pairwise["small"]]
    if shared.empty:
        return "Too few shared ratings to compare agencies pair by pair"
    low = shared.loc[shared["pct_agree_met"].idxmin()]
    high = shared.loc[shared["pct_agree_met"].idxmax()]
    return (
        f"Pairs of agencies agree on whether a standard is {_good_is()} in "
        f"{pct(low['pct_agree_met'])}"
        f" ({low['a']} and {low['b']}) to {pct(high['pct_agree_met'])} "
        f"({high['a']} and {high['b']}) of the ratings they share"
    )


def heatmap_alt(pairwise: pd.DataFrame, min_shared: int, cycle: str) -> str:
    pairs = pairwise[pairwise["a"] < pairwise["b"]]
    readable = pairs[~pairs["small"]]
    parts = [
        f"{r.a} and {r.b} {pct(r.pct_agree_met)} of {int(r.shared)}" for r in readable.itertuples()
    ]
    return (
        f"Heatmap of agreement between each pair of agencies on the case-standards both "
        f"rated, {cycle}. {len(readable)} pairs share at least {min_shared} ratings: "
        + "; ".join(parts)
        + f". {len(pairs) - len(readable)} pairs share fewer and are "
        "greyed out."
    )


def agreement_display(table: pd.DataFrame, level: str) -> pd.DataFrame:
    out = table.copy()
    if level == "standard":
        out["label"] = out.apply(lambda r: standard_label(r, 40), axis=1)
    else:
        out["label"] = out.apply(lambda r: f"KLOE {int(r['kloe'])} {r['kloe_title']}", axis=1)
    keep = ["label", *(c for c in AGREEMENT_COLUMNS if c not in ("rated", "estimable"))]
    return out[[c for c in keep if c in out.columns]].reset_index(drop=True)


def agreement_title(table: pd.DataFrame, level: str) -> str:
    ok = table[table["estimable"]]
    if ok.empty:
        return f"Agreement per {level} is not estimable"
    weak = (ok["alpha_high"] < 0.667).sum()
    return (
        f"Agreement beyond chance is low: for {weak} of {len(ok)} {level}s even the upper "
        "end of alpha's interval is below 0.667, the usual floor for tentative conclusions"
        if weak
        else f"Agencies agree beyond chance on every {level} (alpha above 0.667)"
    )


def agreement_alt(table: pd.DataFrame, level: str, cycle: str) -> str:
    parts = []
    for _, r in agreement_display(table, level).iterrows():
        if pd.isna(r["alpha"]):
            parts.append(f"{r['label']}: not estimable")
        else:
            parts.append(
                f"{r['label']}: alpha {r['alpha']:.2f} ({r['alpha_low']:.2f} to "
                f"{r['alpha_high']:.2f}), AC1 {r['ac1']:.2f}"
            )
    return (
        f"Interval chart of Krippendorff's alpha and Gwet's AC1 per {level}, {cycle}, "
        "with 95% bootstrap intervals: " + "; ".join(parts) + "."
    )
