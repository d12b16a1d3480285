"""The data-quality tables: how well each agency's returns could be used.

The report's section 2.3 names the process problems these tables measure: ratings given
without evidence (2.3.4), an agency not using the toolkit (2.3.6), and an agency
alternating with last year's template so that standard 14 was not captured (2.3.6).
Every function takes a :class:`~audit_analysis.io.dataset.CycleData` and gives back a tidy
table sorted by agency code; files and rejections that cannot be tied to an agency are
shown under :data:`UNATTRIBUTED`, last.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd

from audit_analysis.exceptions import AuditDataError, RejectionCode
from audit_analysis.io.dataset import CycleData
from audit_analysis.io.frameworks import load_framework
from audit_analysis.io.ratings import NOT_RECORDED, scale_of

__all__ = [
    "has_evidence",
    "REJECTION_KINDS",
    "UNATTRIBUTED",
    "COMPLIANCE_CODES",
    "COMPLIANCE_LEGEND",
    "classified_rejections",
    "classify_rejection",
    "completeness",
    "compliance",
    "compliance_grid",
    "compliance_lines",
    "old_template_returns",
    "unplaced_returns",
    "coverage",
    "evidence_rate",
    "rejections_summary",
    "returns_by_agency",
]


def has_evidence(evidence: pd.Series) -> np.ndarray:
    """The one rule for "gives evidence": the text is there and not blank (docs/data-contract.md:
    a Met or Exceeded rating needs evidence; a bare one cannot be checked)."""
    text = evidence.astype("object")
    return np.fromiter(
        (not pd.isna(t) and bool(str(t).strip()) for t in text), dtype=bool, count=len(text)
    )


UNATTRIBUTED = "(unattributed)"
"""The agency shown for files and rejections no agency can be tied to."""

REJECTION_KINDS: tuple[str, ...] = (
    "unknown rating",
    "case ID",
    "agency",
    "standard",
    "duplicate",
    "template",
    "whole file",
    "cases file",
    "other",
)
"""What a rejection is about, in the order tables list them."""


def _agency_order(agencies: pd.Series | Sequence[str]) -> list[str]:
    found = sorted({a for a in agencies if not pd.isna(a) and a != UNATTRIBUTED})
    return found + ([UNATTRIBUTED] if UNATTRIBUTED in set(agencies) else [])


def _used_returns(data: CycleData) -> pd.DataFrame:
    return data.returns[data.returns["form"] != "skipped"]


def _files_of(data: CycleData) -> dict[str, set[str]]:
    """Each agency's files: those naming it, and those its ratings came from (as
    :func:`agency_summary` counts them); files tied to no
    agency under :data:`UNATTRIBUTED`."""
    used = _used_returns(data)
    files: dict[str, set[str]] = {}
    for agency, source in zip(used["agency"], used["source_file"], strict=True):
        if not pd.isna(agency):
            files.setdefault(agency, set()).add(source)
    for agency, source in zip(data.ratings["agency"], data.ratings["source_file"], strict=True):
        files.setdefault(agency, set()).add(source)
    tied = set().union(*files.values()) if files else set()
    loose = set(used["source_file"]) - tied
    if loose:
        files[UNATTRIBUTED] = loose
    return files


# --------------------------------------------------------------------------- returns


def returns_by_agency(data: CycleData) -> pd.DataFrame:
    """Per agency, the returns it sent and what became of them.

    Columns: ``agency``; ``returns`` (files its ratings came from or that name it; a
    bulk table holding several agencies counts for each), ``toolkit`` and ``bulk`` (of
    those, by form); ``cases``, ``ratings`` and ``rejected_rows`` (as ``validate``
    reports them); ``template_versions`` (each version with its count of files, e.g.
    ``2017-18 (2), 2018-19 (5)``); ``on_old_template`` (files whose template version
    is not the cycle's); ``loaded``, ``partial`` and ``rejected`` (files by status).
    Files tied to no agency (a toolkit naming an unknown agency) are a last row,
    :data:`UNATTRIBUTED`. Skipped files are not returns (see ``data.returns``).
    """
    files = _files_of(data)
    returns = data.returns.set_index("source_file")
    ratings = data.ratings.groupby("agency", observed=True)["case_ref"].agg(["nunique", "size"])
    rows = []
    for agency in _agency_order(list(files)):
        mine = returns.loc[sorted(files[agency])]
        versions = mine["template_version"].dropna().value_counts().sort_index()
        status = mine["status"].value_counts()
        form = mine["form"].value_counts()
        known = agency in ratings.index
        rejected = data.rejections
        rejected_rows = int(
            rejected.loc[rejected["source_file"].isin(files[agency]), "count"].sum()
        )
        rows.append(
            {
                "agency": agency,
                "returns": len(mine),
                "toolkit": int(form.get("toolkit", 0)),
                "bulk": int(form.get("bulk", 0)),
                "cases": int(ratings.at[agency, "nunique"]) if known else 0,
                "ratings": int(ratings.at[agency, "size"]) if known else 0,
                "rejected_rows": rejected_rows,
                "template_versions": ", ".join(f"{v} ({n})" for v, n in versions.items()),
                "on_old_template": int(
                    (mine["template_version"].notna() & (mine["template_version"] != data.cycle))
                    .to_numpy()
                    .sum()
                ),
                "loaded": int(status.get("loaded", 0)),
                "partial": int(status.get("partial", 0)),
                "rejected": int(status.get("rejected", 0)),
            }
        )
    columns = [
        "agency",
        "returns",
        "toolkit",
        "bulk",
        "cases",
        "ratings",
        "rejected_rows",
        "template_versions",
        "on_old_template",
        "loaded",
        "partial",
        "rejected",
    ]
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------- completeness


def _old_template_gaps(data: CycleData) -> dict[tuple[str, str], set[str]]:
    """(agency, case) -> keys of cycle standards that the old template it used lacks."""
    cycle_keys = {s.key for s in data.framework.standards}
    used = _used_returns(data)
    old = used[
        used["template_version"].notna()
        & (used["template_version"] != data.cycle)
        & used["agency"].notna()
        & used["case_ref"].notna()
    ]
    gaps: dict[tuple[str, str], set[str]] = {}
    for agency, case_ref, version in zip(
        old["agency"], old["case_ref"], old["template_version"], strict=True
    ):
        try:
            template = load_framework(version, data.folder.parent)
        except AuditDataError:
            continue
        lacking = cycle_keys - {s.key for s in template.standards}
        gaps.setdefault((agency, case_ref), set()).update(lacking)
    return gaps


def completeness(data: CycleData) -> pd.DataFrame:
    """Per agency: how many of the ratings it owed were recorded.

    An agency owes a rating of every standard of the cycle's framework for every case
    it returned on (a case among its ratings, or named by a return of its). Columns:
    ``agency``, ``cases``, ``standards`` (in the framework), ``expected`` (their
    product), ``present`` (ratings rows), ``recorded`` (not ``not_recorded``; ``not
    applicable`` counts as recorded), ``not_recorded``, ``absent`` (standards with no
    row at all), ``completeness`` (``recorded / expected``), ``old_template_returns``
    (returns on an earlier template), ``absent_old_template`` (absent because that
    template lacks the standard) and ``old_template_standards`` (those standards'
    numbers, e.g. ``14``).
    """
    ratings = data.ratings
    number_of = {s.key: s.number for s in data.framework.standards}
    n_standards = len(number_of)
    used = _used_returns(data)
    named = used[used["agency"].notna() & used["case_ref"].notna()]
    gaps = _old_template_gaps(data)
    old_files = used[used["template_version"].notna() & (used["template_version"] != data.cycle)]
    agencies = sorted(set(ratings["agency"]) | set(named["agency"]))
    rated_keys = {
        (a, c): set(g)
        for (a, c), g in ratings.groupby(["agency", "case_ref"], sort=True)["standard_key"]
    }
    rows = []
    for agency in agencies:
        mine = ratings[ratings["agency"] == agency]
        cases = set(mine["case_ref"]) | set(named.loc[named["agency"] == agency, "case_ref"])
        rating = mine["rating"].astype("object")
        absent_old: set[int] = set()
        absent_old_count = 0
        for case_ref in cases:
            lacking = gaps.get((agency, case_ref), set()) - rated_keys.get(
                (agency, case_ref), set()
            )
            absent_old_count += len(lacking)
            absent_old |= {number_of[k] for k in lacking}
        expected = len(cases) * n_standards
        recorded = int((rating != NOT_RECORDED).sum())
        rows.append(
            {
                "agency": agency,
                "cases": len(cases),
                "standards": n_standards,
                "expected": expected,
                "present": len(mine),
                "recorded": recorded,
                "not_recorded": int((rating == NOT_RECORDED).sum()),
                "absent": expected - len(mine),
                "completeness": recorded / expected if expected else np.nan,
                "old_template_returns": int((old_files["agency"] == agency).sum()),
                "absent_old_template": absent_old_count,
                "old_template_standards": ", ".join(str(n) for n in sorted(absent_old)),
            }
        )
    columns = [
        "agency",
        "cases",
        "standards",
        "expected",
        "present",
        "recorded",
        "not_recorded",
        "absent",
        "completeness",
        "old_template_returns",
        "absent_old_template",
        "old_template_standards",
    ]
    table = pd.DataFrame(rows, columns=columns)
    return table.astype({"completeness": "float64"})


# --------------------------------------------------------------------------- evidence


def evidence_rate(
    data: CycleData | pd.DataFrame, by: str | Sequence[str] | None = "agency"
) -> pd.DataFrame:
    """How often a rating carries evidence, among met-or-better ratings and among
    unmet ones (the report's section 2.3.4: a bare "met" cannot be checked).

    ``by`` is ``"agency"`` (default), ``"standard"`` (grouped by ``kloe``,
    ``standard``, ``standard_key``), ``"kloe"``, any ratings column or list of them, or
    None for one overall row. Evidence is present when the text is not blank.

    Columns: the ``by`` columns; ``met_or_better``, ``met_or_better_evidenced``,
    ``met_or_better_bare``, ``met_or_better_evidence_share``; the same four for
    ``unmet``. A share is ``nan`` where there are no such ratings. Rows are the groups
    with any rating, sorted.
    """
    ratings = data.ratings if isinstance(data, CycleData) else data
    if by is None:
        keys: list[str] = []
    elif by == "standard":
        keys = ["kloe", "standard", "standard_key"]
    elif isinstance(by, str):
        keys = [by]
    else:
        keys = list(by)
    rating = ratings["rating"].astype("object")
    evidence = ratings["evidence"].astype("object")
    has = pd.Series(has_evidence(evidence), index=evidence.index)
    frame = ratings[keys].copy()
    scale = scale_of(ratings["rating"])
    sides = {"met_or_better": rating.isin(scale.good), "unmet": rating == scale.worst}
    for side, mask in sides.items():
        frame[side] = mask.to_numpy().astype("int64")
        frame[f"{side}_evidenced"] = (mask & has).to_numpy().astype("int64")
    counted = [c for side in sides for c in (side, f"{side}_evidenced")]
    if keys:
        table = frame.groupby(keys, sort=True, dropna=False, observed=True)[counted].sum()
        table = table.reset_index()
    else:
        table = frame[counted].sum().to_frame().T.astype("int64")
    columns = list(keys)
    for side in sides:
        table[f"{side}_bare"] = table[side] - table[f"{side}_evidenced"]
        table[f"{side}_evidence_share"] = (
            table[f"{side}_evidenced"] / table[side].where(table[side] > 0)
        ).astype("float64")
        columns += [side, f"{side}_evidenced", f"{side}_bare", f"{side}_evidence_share"]
    return table[columns].reset_index(drop=True)


# --------------------------------------------------------------------------- rejections


def classify_rejection(code: str | RejectionCode, whole_file: bool = False) -> str:
    """The kind (:data:`REJECTION_KINDS`) of a rejection, from its typed ``code``
    (:class:`~audit_analysis.exceptions.RejectionCode`): ``cases file`` for a row of
    ``cases.csv``; a whole-file rejection with no more specific code is ``whole file``,
    any other ``other``."""
    return RejectionCode(code).kind(whole_file)


def classified_rejections(data: CycleData) -> pd.DataFrame:
    """``data.rejections`` with ``agency`` (from the returns table, by file, where
    one agency is known; else :data:`UNATTRIBUTED`), ``whole_file`` and ``kind``."""
    agency_of = dict(zip(data.returns["source_file"], data.returns["agency"], strict=True))
    out = data.rejections.copy()
    out["agency"] = [
        UNATTRIBUTED if pd.isna(agency_of.get(f)) else agency_of[f] for f in out["source_file"]
    ]
    out["whole_file"] = out["source_row"].isna().to_numpy()
    out["kind"] = [
        classify_rejection(code, whole)
        for code, whole in zip(out["code"], out["whole_file"], strict=True)
    ]
    return out


def rejections_summary(
    data: CycleData, by: str | Sequence[str] = ("agency", "kind")
) -> pd.DataFrame:
    """Rejection counts by agency and by kind of reason (:func:`classify_rejection`).

    ``by`` is ``"agency"``, ``"kind"`` or both (default). Columns: the ``by``
    columns, ``rejections``, ``whole_files`` (whole-file rejections), ``rows`` (row
    rejections), ``files`` (distinct files). One row per combination present; agencies
    sorted with :data:`UNATTRIBUTED` last, kinds in :data:`REJECTION_KINDS` order.
    """
    keys = [by] if isinstance(by, str) else list(by)
    for key in keys:
        if key not in ("agency", "kind"):
            raise ValueError(f"by must name 'agency' and/or 'kind'; got {key!r}")
    table = classified_rejections(data)
    columns = [*keys, "rejections", "whole_files", "rows", "files"]
    if table.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in columns}).astype(
            {k: object for k in keys}
        )
    grouped = table.groupby(keys, sort=False)
    out = grouped.agg(
        rejections=("count", "sum"),
        whole_files=("whole_file", "sum"),
        files=("source_file", "nunique"),
    ).reset_index()
    out["rows"] = out["rejections"] - out["whole_files"]
    order = []
    if "agency" in keys:
        rank = {a: i for i, a in enumerate(_agency_order(list(out["agency"])))}
        out["_agency"] = out["agency"].map(rank)
        order.append("_agency")
    if "kind" in keys:
        out["_kind"] = out["kind"].map({k: i for i, k in enumerate(REJECTION_KINDS)})
        order.append("_kind")
    out = out.sort_values(order, kind="stable").reset_index(drop=True)
    return out[columns].astype({c: "int64" for c in columns[len(keys) :]})


# --------------------------------------------------------------------------- coverage


def coverage(data: CycleData, recorded_only: bool = False) -> pd.DataFrame:
    """Which agencies returned on which cases: a case x agency table for a heatmap.

    Columns: ``case_ref``, then one column per agency (sorted codes) holding how many
    ratings it gave the case (0 where none); with ``recorded_only``, ``not_recorded``
    ratings are left out. One row per case of the cohort, sorted, then any case rated
    but missing from the cohort.
    """
    ratings = data.ratings
    if recorded_only:
        ratings = ratings[(ratings["rating"].astype("object") != NOT_RECORDED).to_numpy()]
    cases = sorted(data.cases["case_ref"])
    cases += sorted(set(data.ratings["case_ref"]) - set(cases))
    agencies = sorted(set(data.ratings["agency"]))
    counts = ratings.groupby(["case_ref", "agency"]).size()
    table = pd.DataFrame({"case_ref": cases})
    for agency in agencies:
        mine = counts.xs(agency, level="agency") if agency in set(ratings["agency"]) else None
        table[agency] = 0 if mine is None else table["case_ref"].map(mine).fillna(0).astype("int64")
        table[agency] = table[agency].astype("int64")
    return table


def evidence_shares(data: CycleData, rates: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per agency: met-or-better ratings (``n``), how many give evidence
    (``met_or_better``, named so :func:`summaries.add_shares` applies), the ``share``
    with evidence and its 95% interval with the case as the unit (an agency's ratings of
    one case are written by one auditor at one sitting, so they are not independent:
    :mod:`audit_analysis.analysis.inference`), and ``cases``."""
    from audit_analysis.analysis.inference import case_sums
    from audit_analysis.analysis.summaries import add_shares

    if rates is None:  # the caller may have evidence_rate(data) already
        rates = evidence_rate(data)
    rates = rates[rates["met_or_better"] > 0].reset_index(drop=True)
    ratings = data.ratings
    met = ratings["rating"].astype("object").isin(scale_of(ratings["rating"]).good).to_numpy()
    evidence = ratings["evidence"].astype("object")
    has = has_evidence(evidence)
    position = {agency: i for i, agency in enumerate(rates["agency"])}
    group = ratings["agency"].map(position).fillna(-1).to_numpy(dtype="int64")
    known = group >= 0
    sums = case_sums(
        group[known],
        pd.factorize(ratings["case_ref"])[0][known],
        has[known],
        met[known],
    )
    size = len(rates)
    table = pd.DataFrame(
        {
            "agency": rates["agency"].to_numpy(),
            "n": rates["met_or_better"].to_numpy(),
            "met_or_better": rates["met_or_better_evidenced"].to_numpy(),
            "cases": sums["cases"][:size] if size else [],
            "case_ss": sums["case_ss"][:size] if size else [],
        }
    )
    table = add_shares(table).drop(columns="case_ss")
    return table.rename(columns={"met_or_better": "with_evidence"})


# --------------------------------------------------------------------------- compliance

COMPLIANCE_CODES: dict[str, str] = {
    "current": "ok",
    "old template": "old",
    "nothing rated": "nil",
    "rejected": "rej",
    "no return": ".",
}
"""Each status of :func:`compliance` and its short code in :func:`compliance_grid`."""

COMPLIANCE_LEGEND = (
    "ok: on this cycle's template; old: on an earlier template; nil: returned with no "
    "rating recorded; rej: returned, nothing usable; .: no return; *: some rows rejected"
)
"""What the codes of :func:`compliance_grid` mean."""

_COMPLIANCE_COLUMNS = [
    "case_ref",
    "agency",
    "status",
    "code",
    "template_version",
    "files",
    "ratings",
    "recorded",
    "met_or_better",
    "evidenced",
    "evidence_share",
    "rejected_rows",
]


def _compliance_agencies(data: CycleData, agencies: Sequence[str] | None) -> list[str]:
    if agencies is not None:
        return list(agencies)
    from audit_analysis.io.agencies import agency_codes

    seen = set(data.ratings["agency"]) | set(_used_returns(data)["agency"].dropna())
    return sorted(set(agency_codes()) | seen)


def compliance(data: CycleData, agencies: Sequence[str] | None = None) -> pd.DataFrame:
    """Which agency returned which case, on which template, with how much evidence: one
    row per case of the cohort and agency (default: every agency of the register and any
    other that returned), for the QA group chasing late or outdated returns.

    Columns: ``case_ref``, ``agency``; ``status`` (``current``: rated on the cycle's
    template; ``old template``: some ratings came from an earlier template, so the
    standards it lacks are missing; ``nothing rated``: returned with every rating blank;
    ``rejected``: a return names the agency and case but nothing in it could be used;
    ``no return``) and its ``code`` (:data:`COMPLIANCE_CODES`, with ``*`` when rows of
    the returns were rejected); ``template_version`` (of the files, comma-separated);
    ``files``; ``ratings`` (accepted rows), ``recorded`` (not blank), ``met_or_better``,
    ``evidenced`` (of those, with evidence) and ``evidence_share``; ``rejected_rows``
    (rejections of returns about this agency and case alone).
    """
    used = _used_returns(data)
    version_of = dict(
        zip(data.returns["source_file"], data.returns["template_version"], strict=True)
    )
    rejected_in = data.rejections.groupby("source_file")["count"].sum()
    named: dict[tuple[str, str], set[str]] = {}
    for agency, case_ref, source in zip(
        used["agency"], used["case_ref"], used["source_file"], strict=True
    ):
        if not pd.isna(agency) and not pd.isna(case_ref):
            named.setdefault((agency, case_ref), set()).add(source)
    ratings = data.ratings
    rating = ratings["rating"].astype("object")
    evidence = ratings["evidence"].astype("object")
    frame = pd.DataFrame(
        {
            "agency": ratings["agency"].to_numpy(),
            "case_ref": ratings["case_ref"].to_numpy(),
            "source_file": ratings["source_file"].to_numpy(),
            "recorded": (rating != NOT_RECORDED).to_numpy(),
            "met_or_better": rating.isin(scale_of(ratings["rating"]).good).to_numpy(),
        }
    )
    has = pd.Series(has_evidence(evidence), index=evidence.index)
    frame["evidenced"] = frame["met_or_better"] & has.to_numpy()
    frame["old"] = frame["source_file"].map(version_of).ne(data.cycle).to_numpy()
    groups = {key: g for key, g in frame.groupby(["agency", "case_ref"], sort=False)}

    cases = sorted(data.cases["case_ref"])
    cases += sorted(set(ratings["case_ref"]) - set(cases))
    columns = _compliance_agencies(data, agencies)
    rows = []
    for case_ref in cases:
        for agency in columns:
            mine = groups.get((agency, case_ref))
            files = set(named.get((agency, case_ref), set()))
            if mine is not None:
                files |= set(mine["source_file"])
            rejected_rows = int(
                sum(rejected_in.get(f, 0) for f in named.get((agency, case_ref), ()))
            )
            if mine is not None and len(mine):
                if not mine["recorded"].any():
                    status = "nothing rated"
                elif mine["old"].any():
                    status = "old template"
                else:
                    status = "current"
            else:
                status = "rejected" if files else "no return"
            code = COMPLIANCE_CODES[status]
            if rejected_rows and status not in ("rejected", "no return"):
                code += "*"
            met = int(mine["met_or_better"].sum()) if mine is not None else 0
            evidenced = int(mine["evidenced"].sum()) if mine is not None else 0
            versions = sorted({version_of[f] for f in files if not pd.isna(version_of.get(f))})
            rows.append(
                {
                    "case_ref": case_ref,
                    "agency": agency,
                    "status": status,
                    "code": code,
                    "template_version": ", ".join(versions),
                    "files": len(files),
                    "ratings": 0 if mine is None else len(mine),
                    "recorded": 0 if mine is None else int(mine["recorded"].sum()),
                    "met_or_better": met,
                    "evidenced": evidenced,
                    "evidence_share": evidenced / met if met else np.nan,
                    "rejected_rows": rejected_rows,
                }
            )
    table = pd.DataFrame(rows, columns=_COMPLIANCE_COLUMNS)
    ints = ["files", "ratings", "recorded", "met_or_better", "evidenced", "rejected_rows"]
    return table.astype({c: "int64" for c in ints} | {"evidence_share": "float64"})


def compliance_grid(
    data: CycleData, agencies: Sequence[str] | None = None, table: pd.DataFrame | None = None
) -> pd.DataFrame:
    """:func:`compliance` as a case x agency grid of short codes (:data:`COMPLIANCE_LEGEND`),
    then three rows per agency: ``returned`` (cases with a usable return), ``old
    template`` (of those, on an earlier template) and ``evidence`` (the share of its met
    or exceeded ratings that give evidence, ``-`` where it has none). Every cell is text.
    ``table``: :func:`compliance` of the same data and agencies, when the caller has it.
    """
    if table is None:
        table = compliance(data, agencies)
    columns = _compliance_agencies(data, agencies)
    cases = list(dict.fromkeys(table["case_ref"]))
    codes = table.set_index(["case_ref", "agency"])["code"]
    grid = pd.DataFrame(
        {"case_ref": cases} | {a: [codes[(c, a)] for c in cases] for a in columns},
        columns=["case_ref", *columns],
    )
    usable = table["status"].isin(["current", "old template", "nothing rated"])
    by_agency = table.assign(usable=usable, old=table["status"].eq("old template")).groupby(
        "agency", sort=False
    )
    sums = by_agency[["usable", "old", "met_or_better", "evidenced"]].sum()
    sums = sums.reindex(columns, fill_value=0)  # a cycle with no cases yet: all zero
    footer = [
        {"case_ref": "returned"} | {a: str(int(sums.at[a, "usable"])) for a in columns},
        {"case_ref": "old template"} | {a: str(int(sums.at[a, "old"])) for a in columns},
        {"case_ref": "evidence"}
        | {
            a: (
                f"{sums.at[a, 'evidenced'] / sums.at[a, 'met_or_better']:.0%}"
                if sums.at[a, "met_or_better"]
                else "-"
            )
            for a in columns
        },
    ]
    if not cases:
        return grid
    return pd.concat([grid, pd.DataFrame(footer, columns=grid.columns)], ignore_index=True)


def unplaced_returns(data: CycleData) -> pd.DataFrame:
    """Returns (rows of ``data.returns``) that name no known agency or case and gave no
    rating: they cannot be placed on the compliance grid."""
    used = _used_returns(data)
    placed = set(data.ratings["source_file"])
    return used[
        (used["agency"].isna() | used["case_ref"].isna()) & ~used["source_file"].isin(placed)
    ]


def old_template_returns(data: CycleData) -> pd.DataFrame:
    """Returns (rows of ``data.returns``) on a template of an earlier cycle."""
    used = _used_returns(data)
    return used[used["template_version"].notna() & (used["template_version"] != data.cycle)]


def compliance_lines(data: CycleData) -> list[str]:
    """The compliance section of ``validate``'s report: the grid, its legend, and how
    many returns could not be placed on it."""
    grid = compliance_grid(data)
    if grid.empty:
        return []
    lines = [
        "",
        f"Returns by case and agency (evidence: {scale_of(data.ratings).good_adj} ratings "
        "that give evidence)",
        *textwrap.wrap(COMPLIANCE_LEGEND, 96, initial_indent="  ", subsequent_indent="  "),
        grid.to_string(index=False),
    ]
    loose = unplaced_returns(data)
    if len(loose):
        lines.append(
            f"  {len(loose)} return(s) name no known agency or case and are not on the grid; "
            "see the rejections"
        )
    return lines


# ----------------------------------------------------------- the cycle's records


def deep_dive_summary(deep: pd.DataFrame) -> dict[str, object]:
    """Counts for the data-quality notebook and the executive summary (no case refs)."""
    discussed = deep[deep["discussed"]] if len(deep) else deep
    reasons = (
        deep.loc[~deep["discussed"], "reason_not_discussed"]
        .fillna("no reason given")
        .value_counts()
        .to_dict()
        if len(deep)
        else {}
    )
    return {
        "flagged": len(deep),
        "discussed": len(discussed),
        "not_discussed": len(deep) - len(discussed),
        "reasons": reasons,
        "action_required": int(deep["action_required"].sum()) if len(deep) else 0,
    }


def feedback_summary(feedback: pd.DataFrame) -> dict[str, object]:
    # wilson_intervals, equal to wilson_interval value for value without importing
    # statsmodels (and scipy.stats) into every notebook that shows the response rate
    from audit_analysis.analysis.stats import wilson_intervals

    invited = int(feedback["invited"].sum()) if len(feedback) else 0
    responded = int(feedback["responded"].sum()) if len(feedback) else 0
    low, high = (
        (float(v[0]) for v in wilson_intervals([responded], [invited]))
        if invited
        else (float("nan"),) * 2
    )
    return {
        "invited": invited,
        "responded": responded,
        "rate": responded / invited if invited else float("nan"),
        "low": low,
        "high": high,
    }


def agency_summary(data: CycleData) -> pd.DataFrame:
    """Per agency, as ``validate`` prints it: :func:`returns_by_agency`'s ``agency``,
    ``returns``, ``cases``, ``ratings``, ``rejected_rows`` and ``template_versions``
    (a single version without its count), and ``evidence_rate``, the share of
    met-or-exceeded ratings that carry evidence (:func:`evidence_rate`; the report's
    section 2.3.4: a bare "met" cannot be checked). Files tied to no agency are left
    out: ``validate`` lists them among the rejections."""
    table = returns_by_agency(data)
    table = table[table["agency"] != UNATTRIBUTED].reset_index(drop=True)
    evidence = evidence_rate(data).set_index("agency")["met_or_better_evidence_share"]
    single = table["template_versions"].str.fullmatch(r"[^,]+ \(\d+\)")
    return table[
        ["agency", "returns", "cases", "ratings", "rejected_rows", "template_versions"]
    ].assign(
        template_versions=table["template_versions"].where(
            ~single, table["template_versions"].str.replace(r" \(\d+\)$", "", regex=True)
        ),
        evidence_rate=table["agency"].map(evidence).astype("float64"),
    )
