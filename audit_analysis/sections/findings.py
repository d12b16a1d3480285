"""Findings in words: chart titles that state the finding, alt text that says what a
chart shows, and the executive summary's headlines, all built from the tables.

Only aggregate figures, agency codes and standard names go into these sentences: never
a case reference or evidence text, so they are safe on the Executive Group's page.
"""

from __future__ import annotations

import math

import pandas as pd

from audit_analysis.analysis.agreement import AGREEMENT_COLUMNS
from audit_analysis.analysis.disclosure import MARKER
from audit_analysis.render.labels import agency_name

__all__ = [
    "SUMMARY_COLUMNS",
    "agency_kloe_table",
    "agreement_alt",
    "agreement_display",
    "agreement_sentence",
    "agreement_title",
    "appendix_display",
    "breakdown_text",
    "change_sentence",
    "evidence_alt",
    "evidence_title",
    "extremes_text",
    "heatmap_alt",
    "heatmap_title",
    "interval",
    "kloe_chart_text",
    "label",
    "measured_words",
    "pct",
    "points",
    "progress_sentence",
    "progress_summary",
    "quality_sentences",
    "recommendations_display",
    "records_detail",
    "records_sentences",
    "standard_label",
    "standout_sentences",
    "summary_table",
    "trend_chart_text",
    "trend_counts",
    "trend_display",
    "trend_part",
    "trend_sentence",
    "verdict_column",
]


def pct(value: object) -> str:
    """``0.734`` -> ``73%``; a suppressed or missing value as such."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{float(value):.0%}"


def interval(row: object, est: str = "share", low: str = "low", high: str = "high") -> str:
    """``73% (65% to 80%)`` from a row (Series, dict or named tuple) of a summary."""
    e, lo, hi = (
        row[c] if isinstance(row, pd.Series | dict) else getattr(row, c) for c in (est, low, high)
    )
    if any(isinstance(v, str) for v in (e, lo, hi)):
        return MARKER
    if pd.isna(e):
        return "no ratings"
    if pd.isna(lo) or pd.isna(hi):
        return f"{pct(e)} (too few cases for an interval)"
    return f"{pct(e)} ({pct(lo)} to {pct(hi)})"


def points(value: float) -> str:
    """``0.087`` -> ``+9``: a change in percentage points."""
    return f"{value * 100:+.0f}"


def label(value: object) -> str:
    """A code as words: ``early_help`` -> ``early help``."""
    return str(value).replace("_", " ")


def standard_label(row: pd.Series, width: int = 48) -> str:
    """``13 SMART plans …``: a standard's number and the start of its wording."""
    text = str(row.get("text", "")).rstrip(".")
    short = text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0] + "…"
    return f"{int(row['standard'])}. {short}"


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
        title = f"{name}: {pct(best['share'])} of ratings met or exceeded the standard"
    else:
        title = (
            f"{name}: from {pct(worst['share'])} met or exceeded (standard "
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
        "Share met or exceeded with 95% interval: " + "; ".join(parts) + "."
    )
    return title, subtitle, alt


def trend_counts(trend: pd.DataFrame, earlier: str) -> dict[str, int]:
    verdicts = trend[f"verdict_vs_{earlier}"]
    status = trend.get(f"status_{earlier}")
    new = (status == "not in framework") if status is not None else verdicts.isna()
    counts = verdicts[~new].value_counts()
    return {
        "improved": int(counts.get("improved", 0)),
        "declined": int(counts.get("declined", 0)),
        "no clear change": int(counts.get("no clear change", 0)),
        "not comparable": int(new.sum() + counts.get("not estimable", 0)),
    }


def trend_sentence(trend: pd.DataFrame, current: str, earlier: str) -> str:
    """How many standards improved or declined against ``earlier``, in plain words, with
    the rule behind the count (case-level intervals, adjusted for many standards)."""
    c = trend_counts(trend, earlier)
    compared = c["improved"] + c["declined"] + c["no clear change"]
    text = (
        f"Against {earlier}, of the {compared} standards that can be compared, "
        f"{c['improved']} improved and {c['declined']} declined; {c['no clear change']} "
        "show no clear change"
    )
    if c["not comparable"]:
        text += (
            f". {c['not comparable']} cannot be compared (not in both frameworks, or too "
            "few cases rated)"
        )
    return text + (
        ". A change is counted only where it stands out once chance variation between "
        "the cases audited, and the number of standards compared at once, are allowed for "
        "(95% intervals by case; false discovery rate 5%)."
    )


def change_sentence(overall: pd.Series, current: str, earlier: str) -> str:
    """The overall change against ``earlier`` from an
    :func:`~audit_analysis.analysis.trends.overall_trend` row: ``77% against 68% in 2017-18: no
    clear change (+9 points; 95% interval by case -1 to +18)``."""
    now, before = overall[f"share_{current}"], overall[f"share_{earlier}"]
    verdict = overall[f"verdict_vs_{earlier}"]
    if pd.isna(now) or pd.isna(before):
        return f"no comparison with {earlier} is possible (no ratings in one of the years)"
    words = {
        "improved": "an improvement",
        "declined": "a decline",
        "no clear change": "no clear change",
    }.get(verdict, "too few cases to tell")
    text = f"{pct(now)} against {pct(before)} in {earlier}: {words}"
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


def agreement_sentence(pooled: pd.DataFrame, by_standard: pd.DataFrame, min_cases: int = 5) -> str:
    """Agreement between agencies, chance-corrected: the pooled alpha and AC1 with their
    case-resampling intervals (``agreement_overall``), and the standards with the lowest
    and highest alpha, each with its interval and cases, among standards resting on at
    least ``min_cases`` cases rated by two or more agencies."""
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
        if weakest["alpha_high"] >= strongest["alpha_low"]:
            text += "; their intervals overlap, so even these two may not truly differ"
    return text + "."


def _coefficient(row: pd.Series, name: str, between: str = "") -> str:
    """``0.22 (0.12 to 0.30)``, or with ``between`` ``0.22, interval 0.12 to 0.30``."""
    value, low, high = row[name], row.get(f"{name}_low"), row.get(f"{name}_high")
    if pd.isna(low) or pd.isna(high):
        return f"{value:.2f}"
    if between:
        return f"{value:.2f}{between}{low:.2f} to {high:.2f}"
    return f"{value:.2f} ({low:.2f} to {high:.2f})"


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


def extremes_text(found: dict | None, what: str, name=label) -> str:
    """A title naming the highest and lowest group only where their gap is clear
    (:func:`~audit_analysis.analysis.summaries.extremes`); otherwise saying there is no clear
    difference."""
    if found is None:
        return f"Too few {what} with ratings to compare"
    top, bottom = name(found["top"]), name(found["bottom"])
    if found["clear"]:
        return (
            f"{top} has the highest share met or exceeded ({pct(found['share_top'])}) and "
            f"{bottom} the lowest ({pct(found['share_bottom'])}): a clear gap of "
            f"{points(found['diff']).lstrip('+')} points (95% interval by case, allowing for "
            f"{found['comparisons']} comparisons: {points(found['low']).lstrip('+')} to "
            f"{points(found['high']).lstrip('+')})"
        )
    return (
        f"No clear difference between {what}: from {pct(found['share_bottom'])} met or "
        f"exceeded ({bottom}) to {pct(found['share_top'])} ({top}), a gap that chance "
        "variation between cases could explain"
    )


def quality_sentences(
    returns: pd.DataFrame, evidence: pd.DataFrame, rejections: pd.DataFrame, cycle: str
) -> list[str]:
    """The report's section 2.3 findings, measured: templates, evidence, rejections."""
    known = returns[returns["agency"] != "(unattributed)"]
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
    ev = evidence[evidence["agency"] != "(unattributed)"]
    total = int(ev["met_or_better"].sum())
    if total:
        share = ev["met_or_better_evidenced"].sum() / total
        bare = ev[(ev["met_or_better"] > 0) & (ev["met_or_better_evidenced"] == 0)]
        text = f"{pct(share)} of met or exceeded ratings give evidence"
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


# ----------------------------------------------------------------- tables for display

SUMMARY_COLUMNS = [
    "exceeded",
    "met",
    "partially_met",
    "unmet",
    "not_applicable",
    "not_recorded",
    "n",
    "share",
    "low",
    "high",
    "cases",
]


def summary_table(rows: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """A summary as a reader's table: identifiers, counts, the share and its interval."""
    first = [c for c in ("kloe", "kloe_title", "standard", "text") if c in rows.columns]
    columns = first + ([by] if by else []) + [c for c in SUMMARY_COLUMNS if c in rows.columns]
    out = rows[columns].copy()
    for c in ("share", "low", "high"):
        if c in out.columns:
            out[c] = out[c].map(
                lambda v: v if isinstance(v, str) else (None if pd.isna(v) else round(float(v), 4))
            )
    return out.reset_index(drop=True)


def evidence_title(shares: pd.DataFrame) -> str:
    if shares.empty:
        return "No met or exceeded ratings to check for evidence"
    low = shares.loc[shares["share"].idxmin()]
    return (
        f"Evidence behind met or exceeded ratings ranges from {pct(low['share'])} "
        f"({low['agency']}) to {pct(shares['share'].max())} across agencies"
    )


def evidence_alt(shares: pd.DataFrame, cycle: str) -> str:
    parts = [f"{r.agency} {interval(r)} of {int(r.n)}" for r in shares.itertuples()]
    return (
        f"Dot chart of the share of met or exceeded ratings that give evidence, per "
        f"agency, {cycle}, with 95% intervals: " + "; ".join(parts) + "."
    )


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
        title = f"Share met or exceeded by {words}, {cycle}"
    parts = [f"{r.kloe_title}, {getattr(r, by)}: {interval(r)}" for r in table.itertuples()]
    alt = (
        f"Dot chart of the share met or exceeded per KLOE and {words}, {cycle}, with 95% "
        "intervals by case (c: suppressed, too few cases): " + "; ".join(parts) + "."
    )
    return title, alt


def agency_kloe_table(by_agency: pd.DataFrame) -> pd.DataFrame:
    """Agency by KLOE: share met or exceeded and n, one column per KLOE."""
    cells = by_agency.assign(
        cell=by_agency.apply(
            lambda r: "" if r["n"] == 0 else f"{pct(r['share'])} ({int(r['n'])})", axis=1
        ),
        column=by_agency["kloe"].map(lambda k: f"KLOE {int(k)}"),
    )
    wide = cells.pivot(index="agency", columns="column", values="cell").reset_index()
    wide.columns.name = None
    return wide


# ----------------------------------------------------------------- trends


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
        f"Dot chart of each standard's share met or exceeded in {name}, per cycle "
        f"({', '.join(cycles)}), with 95% intervals. " + "; ".join(parts) + "."
    )
    return title, alt


# ----------------------------------------------------------------- agreement


def heatmap_title(pairwise: pd.DataFrame) -> str:
    shared = pairwise[(pairwise["a"] < pairwise["b"]) & ~pairwise["small"]]
    if shared.empty:
        return "Too few shared ratings to compare agencies pair by pair"
    low = shared.loc[shared["pct_agree_met"].idxmin()]
    high = shared.loc[shared["pct_agree_met"].idxmax()]
    return (
        f"Pairs of agencies agree on whether a standard is met in {pct(low['pct_agree_met'])}"
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
                else "; how many were discussed at the round table is too small a number to show"
            )
            text += (
                f", and {act['action']} needed immediate action"
                if act["action"] != MARKER
                else ", and how many needed immediate action is too small a number to show"
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
                    "responded is too small a number to show."
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


# ----------------------------------------------------------------- areas for development


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
    text = f"{measured}: {pct(row['share_then'])} to {pct(row['share_now'])}"
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
    in, status and the measured change in one word or phrase (improved, no clear change,
    declined, not measured). The texts are the partnership's own (no case, no
    evidence); they are escaped wherever they are shown."""
    earlier = areas[areas["measured"] != "raised this cycle"]
    return pd.DataFrame(
        {
            "area": earlier["area"].to_numpy(),
            "raised in": earlier["raised_in"].to_numpy(),
            "status": earlier["status"].to_numpy(),
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
            f" ({int(counts.get('not measured', 0))} cannot be measured)"
            if counts.get("not measured", 0)
            else ""
        )
        + "."
    )


def recommendations_display(current, earlier) -> pd.DataFrame:
    """The recommendations raised in the compared cycles (the report's section 4.3.3),
    oldest first, with the latest status recorded and this cycle's progress."""
    cycles = sorted([*earlier, current], key=lambda d: d.cycle)
    status: dict[str, str] = {}
    progress: dict[str, str | None] = {}
    rows = []
    for data in cycles:
        record = getattr(data, "development", None)
        if record is None:
            continue
        for r in record.progress.itertuples():
            if r.kind == "recommendation":
                status[r.area_id.casefold()] = r.status
                if data.cycle == current.cycle:
                    progress[r.area_id.casefold()] = r.progress
        for r in record.recommendations.itertuples():
            rows.append((data.cycle, r))
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
