"""Findings in words: chart titles that state the finding, alt text that says what a
chart shows, and the executive summary's headlines, all built from the tables.

Only aggregate figures, agency codes and standard names go into these sentences: never
a case reference or evidence text, so they are safe on the Executive Group's page.
"""

from __future__ import annotations

import math

import pandas as pd

from .disclosure import MARKER


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
    return f"{pct(e)} ({pct(lo)} to {pct(hi)})"


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
    c = trend_counts(trend, earlier)
    parts = [
        f"{c['improved']} improved",
        f"{c['declined']} declined",
        f"{c['no clear change']} show no clear change",
    ]
    text = f"Against {earlier}, of the standards rated in both years, " + ", ".join(parts)
    if c["not comparable"]:
        text += f"; {c['not comparable']} cannot be compared (not in both frameworks or no ratings)"
    return text + ". A change counts only when its 95% interval excludes no change."


def verdict_column(trend: pd.DataFrame, earlier: str) -> pd.Series:
    """The verdict against ``earlier``, saying so where a standard did not exist then."""
    verdict = trend[f"verdict_vs_{earlier}"].astype(object)
    status = trend.get(f"status_{earlier}")
    if status is not None:
        verdict = verdict.where(status != "not in framework", f"not in {earlier} framework")
    return verdict


def agreement_sentence(pairwise: pd.DataFrame, by_standard: pd.DataFrame) -> str:
    shared = pairwise[pairwise["a"] < pairwise["b"]]
    total = int(shared["shared"].sum())
    if total == 0:
        return (
            "No case and standard was rated by more than one agency, "
            "so agreement cannot be measured."
        )
    agree = shared["agree_met"].sum() / total
    estimable = by_standard[by_standard["estimable"]]
    text = (
        f"Where two agencies rated the same case and standard ({total} pairs of ratings), "
        f"they agreed on whether it was met in {pct(agree)} of pairs"
    )
    if len(estimable):
        weakest = estimable.loc[estimable["alpha"].idxmin()]
        text += (
            f"; agreement beyond chance (Krippendorff's alpha) ranges from "
            f"{estimable['alpha'].min():.2f} (standard {int(weakest['standard'])}) to "
            f"{estimable['alpha'].max():.2f}"
        )
    return text + "."


def overall_change(current: pd.DataFrame, previous: pd.DataFrame) -> dict[str, float]:
    """Overall share met or exceeded now and before (``overall_summary`` rows), with
    Newcombe's interval for the change."""
    from .stats import classify_change, newcombe_difference_interval

    x1, n1 = int(current["met_or_better"].iloc[0]), int(current["n"].iloc[0])
    x2, n2 = int(previous["met_or_better"].iloc[0]), int(previous["n"].iloc[0])
    diff, low, high = newcombe_difference_interval(x1, n1, x2, n2)
    return {
        "now": x1 / n1 if n1 else float("nan"),
        "before": x2 / n2 if n2 else float("nan"),
        "diff": diff,
        "low": low,
        "high": high,
        "verdict": classify_change(low, high),
    }


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
            f"{r.agency} ({int(r.on_old_template)} of {int(r.returns)})" for r in old.itertuples()
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
            "Not using the toolkit (a bulk table instead): " + ", ".join(bulk["agency"]) + "."
        )
    ev = evidence[evidence["agency"] != "(unattributed)"]
    total = int(ev["met_or_better"].sum())
    if total:
        share = ev["met_or_better_evidenced"].sum() / total
        bare = ev[(ev["met_or_better"] > 0) & (ev["met_or_better_evidenced"] == 0)]
        text = f"{pct(share)} of met or exceeded ratings give evidence"
        if len(bare):
            text += "; " + ", ".join(bare["agency"]) + " gave none at all"
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


def breakdown_text(table: pd.DataFrame, by: str, cycle: str) -> tuple[str, str]:
    """Title and alt text for a share-by-category chart (suppressed cells say ``c``)."""
    shown = table[table["share"].map(lambda v: not isinstance(v, str) and pd.notna(v))]
    if shown.empty:
        return (
            f"Shares by {by} are suppressed or empty in {cycle}",
            f"Chart of shares by {by}: every figure is suppressed or empty.",
        )
    means = shown.groupby(by, observed=True).apply(
        lambda g: g["met_or_better"].astype(float).sum() / g["n"].astype(float).sum()
    )
    top, bottom = means.idxmax(), means.idxmin()
    title = (
        f"By {by.replace('_', ' ')}, {str(bottom).replace('_', ' ')} cases fare worst "
        f"({pct(means[bottom])} met or exceeded) and {str(top).replace('_', ' ')} best "
        f"({pct(means[top])})"
    )
    parts = [f"{r.kloe_title}, {getattr(r, by)}: {interval(r)}" for r in table.itertuples()]
    alt = (
        f"Dot chart of the share met or exceeded per KLOE and {by}, {cycle}, with 95% "
        "intervals (c: suppressed, too few cases): " + "; ".join(parts) + "."
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
    keep = [
        "label",
        "agencies",
        "units",
        "pairable",
        "pct_agree",
        "alpha",
        "alpha_low",
        "alpha_high",
        "ac1",
        "ac1_low",
        "ac1_high",
        "note",
    ]
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


def records_sentences(data) -> list[str]:
    """The deep dive and family feedback in counts only: no case, no free text, so they
    are safe for the Executive Group."""
    from .records import deep_dive_summary, feedback_summary

    sentences = []
    if data.deep_dive is not None and len(data.deep_dive):
        d = deep_dive_summary(data.deep_dive)
        sentences.append(
            f"{d['discussed']} of the {d['flagged']} cases flagged for the deep dive were "
            f"discussed at the round table; {d['action_required']} needed immediate action."
        )
    if data.family_feedback is not None and len(data.family_feedback):
        f = feedback_summary(data.family_feedback)
        if f["invited"]:
            sentences.append(
                f"{f['responded']} of {f['invited']} families invited responded to the request "
                f"for feedback ({pct(f['rate'])})."
            )
    return sentences


def records_detail(data) -> list[str]:
    """For the QA group: the deep dive with the reasons cases were not discussed, and
    the family feedback response rate with its interval."""
    from .records import deep_dive_summary, feedback_summary

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
