"""A small audit's pages: counts of cases, not shares and verdicts of change.

A thematic audit of five cases gives shares whose 95% intervals span most of the scale,
and any part of it (one agency's cases, a standard with one case not applicable) falls
under the threshold below which a figure is suppressed. Such an audit is *small*
(:func:`is_small`): its QA group's pages say so and lead with counts of cases ("4 of 5
cases rated met or exceeded by every agency"), the evidence and the QA group's own words;
no change since an earlier audit is judged. Its executive page suppresses as any other.
"""

from __future__ import annotations

import pandas as pd

from audit_analysis.io.ratings import scale_of
from audit_analysis.render.labels import good_adj
from audit_analysis.render.section import Text
from audit_analysis.sections.words import and_list, plural

__all__ = [
    "case_counts",
    "counts_display",
    "evidence_display",
    "is_small",
    "NOT_JUDGED",
    "no_verdict_sentence",
    "small_note",
    "small_sentence",
]

#: What a small audit says where a change would have had its verdict.
NOT_JUDGED = "no change judged (a small audit)"


def is_small(cases: int, min_cell_count: int) -> bool:
    """Whether an audit of ``cases`` cases (with a rating on the scale) is small: no more
    cases than the suppression threshold, so that a share on any part of it would be
    suppressed (the demo's 24 cases and a 9-case audit are not small; a 5-case one is,
    at the default threshold of 5)."""
    return 0 < int(cases) <= int(min_cell_count)


def rated_cases(ratings: pd.DataFrame) -> int:
    """The cases with a rating on the scale."""
    levels = scale_of(ratings).levels
    return int(ratings.loc[ratings["rating"].isin(levels), "case_ref"].nunique())


def case_counts(ratings: pd.DataFrame, framework) -> pd.DataFrame:
    """Per standard of ``framework``: the cases rated on the scale, and of them those
    rated good (the ``good`` levels of the scale the ratings were loaded on) by every
    agency that rated them, by some of those agencies, and by none."""
    scale = scale_of(ratings)
    rated = ratings[ratings["rating"].isin(scale.levels)]
    good = rated.assign(good=rated["rating"].isin(scale.good))
    per_case = good.groupby(["standard_key", "case_ref"], observed=True)["good"].agg(["all", "any"])
    rows = []
    for s in framework.standards:
        part = per_case.loc[s.key] if s.key in per_case.index.get_level_values(0) else None
        cases = 0 if part is None else len(part)
        every = 0 if part is None else int(part["all"].sum())
        some = 0 if part is None else int((part["any"] & ~part["all"]).sum())
        rows.append(
            {
                "kloe": s.kloe,
                "standard": s.number,
                "standard_key": s.key,
                "text": s.name or s.text,
                "cases": cases,
                "every": every,
                "some": some,
                "none": cases - every - some,
            }
        )
    return pd.DataFrame(rows)


def count_words(row) -> str:
    """``4 of 5 cases rated met or exceeded by every agency that rated them, 1 by some``."""
    if not row["cases"]:
        return "no case rated on the scale"
    text = (
        f"{row['every']} of {row['cases']} {plural(int(row['cases']), 'case')} rated "
        f"{good_adj()} by every agency that rated them"
    )
    if row["some"]:
        text += f", {row['some']} by some of them"
    return text


def counts_display(counts: pd.DataFrame) -> pd.DataFrame:
    """The counts of cases as the page shows them, one row per standard."""
    return pd.DataFrame(
        {
            "Standard": [
                f"{n}. {t}" for n, t in zip(counts["standard"], counts["text"], strict=True)
            ],
            "Cases rated": counts["cases"],
            f"Rated {good_adj()} by every agency": counts["every"],
            "By some agencies": counts["some"],
            "By no agency": counts["none"],
            "In words": [count_words(r) for _, r in counts.iterrows()],
        }
    )


def evidence_display(ratings: pd.DataFrame, kloe: int) -> pd.DataFrame:
    """Every rating of the KLOE's standards with the evidence the agency gave (escaped
    where rendered, as every table is), by standard, case and agency."""
    part = ratings[(ratings["kloe"] == kloe) & ratings["rating"].isin(scale_of(ratings).levels)]
    part = part.sort_values(["standard", "case_ref", "agency"], kind="stable")
    return pd.DataFrame(
        {
            "Standard": part["standard"].to_numpy(),
            "Case": part["case_ref"].to_numpy(),
            "Agency": part["agency"].to_numpy(),
            "Rating": part["rating"].astype(str).str.replace("_", " ").to_numpy(),
            "Evidence": part["evidence"].fillna("").to_numpy(),
        }
    )


def small_sentence(cycle: str, cases: int, min_cell_count: int) -> str:
    """What the page says of a small audit, first."""
    return (
        f"{cycle} is a small audit: {cases} {plural(cases, 'case')} rated, no more than "
        f"the {min_cell_count} below which a figure on part of the cases is suppressed. "
        "Its pages lead with counts of cases, the evidence and the QA group's words; the "
        "shares that follow are for reference (their intervals are wide with so few "
        "cases), and no change since an earlier audit is judged."
    )


def small_note(session) -> list:
    """The small-audit sentence that opens a QA page, or nothing for an audit that is
    not small."""
    if not session.small:
        return []
    return [Text(small_sentence(session.cycle, session.cases, session.min_cell_count))]


def no_verdict_sentence(cycle: str, cases: int, earlier: list[str]) -> str:
    """Why a small audit's comparison with ``earlier`` carries no verdict."""
    return (
        f"{cycle} is a small audit ({cases} {plural(cases, 'case')}): its shares are shown "
        f"beside {and_list(earlier)} for reference, but no change is judged, since with so "
        "few cases a difference could not be told from chance."
    )
