"""What ``audit-analysis validate`` reports: what was loaded and everything rejected."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from audit_analysis.analysis.quality import agency_summary, compliance_lines
from audit_analysis.io.cycles import DataFolder
from audit_analysis.io.dataset import CycleData
from audit_analysis.io.returns import skip_reason
from audit_analysis.io.text import printable

__all__ = ["format_report"]


def format_report(data: CycleData) -> str:
    """The plain-text report ``validate`` prints."""
    lines: list[str] = []
    returns, rejections = data.returns, data.rejections
    status = returns["status"].value_counts()
    lines.append(f"Audit cycle {data.cycle}: {printable(str(data.folder), False)}")
    if data.framework.reconstructed:
        lines.append(f"  framework {data.cycle} is a reconstruction (see its file's note)")
    priorities = data.cases["priority"].value_counts()
    lines.append(
        f"Cases: {len(data.cases)}"
        + (
            " (" + ", ".join(f"{p} {n}" for p, n in priorities.items()) + ")"
            if len(priorities)
            else ""
        )
    )
    lines.append(
        f"Files: {len(returns)} found: "
        + ", ".join(f"{status.get(s, 0)} {s}" for s in ("loaded", "partial", "rejected", "skipped"))
    )
    whole = rejections["source_row"].isna()
    rows = int(rejections.loc[~whole, "count"].sum())
    lines.append(
        f"Ratings: {len(data.ratings)} accepted; {rows} rows rejected; "
        f"{int(whole.sum())} files rejected whole"
    )
    lines += _records_lines(data)
    summary = agency_summary(data)
    if len(summary):
        lines.append("")
        lines.append("Per agency (evidence rate: met or exceeded ratings that give evidence)")
        shown = summary.copy()
        shown["evidence_rate"] = shown["evidence_rate"].map(
            lambda v: "-" if pd.isna(v) else f"{v:.0%}"
        )
        lines.append(shown.to_string(index=False))

    lines += compliance_lines(data)
    not_read = DataFolder.scan(data.folder.parent).notes(data.cycle)
    if not_read:
        lines.append("")
        lines.append(f"Folders not read ({len(not_read)})")
        lines += [f"  {printable(line, False)}" for line in not_read]
    skipped = returns[returns["status"] == "skipped"]["source_file"]
    if len(skipped):
        lines.append("")
        lines.append(f"Skipped files ({len(skipped)})")
        for name in skipped:
            lines.append(f"  {printable(name, False)}: {skip_reason(Path(name), data.folder)}")
    if len(rejections):
        lines.append("")
        lines.append(f"Rejections ({len(rejections)}; one line per file and reason)")
        for (source, reason, value), group in _grouped(rejections):
            rows = [int(r) for r in group if not pd.isna(r)]
            where = printable(source, False) + (f", {_rows_text(rows)}" if rows else "")
            # raw values are clean excerpts already (text.excerpt): quoted as they are
            shown = "" if value == "" else f" [value: '{value}']"
            lines.append(f"  {where}: {printable(reason, False)}{shown}")
    # Whatever a line holds (case references, file names), it reaches the terminal with
    # its control characters escaped.
    return printable("\n".join(lines))


def _grouped(rejections: pd.DataFrame) -> list[tuple[tuple[str, str, str], list]]:
    """Consecutive rejections of one file with one reason and value, as one entry."""
    groups: list[tuple[tuple[str, str, str], list]] = []
    for r in rejections.itertuples(index=False):
        value = "" if pd.isna(r.raw_value) else str(r.raw_value)
        key = (r.source_file, r.reason, value)
        if groups and groups[-1][0] == key:
            groups[-1][1].append(r.source_row)
        else:
            groups.append((key, [r.source_row]))
    return groups


def _rows_text(rows: list[int]) -> str:
    if len(rows) == 1:
        return f"row {rows[0]}"
    if rows == list(range(rows[0], rows[-1] + 1)):
        return f"rows {rows[0]}-{rows[-1]}"
    return "rows " + ", ".join(str(r) for r in rows)


def _records_lines(data: CycleData) -> list[str]:
    """One line for each optional record of the cycle that is present."""
    from audit_analysis.analysis.quality import deep_dive_summary, feedback_summary

    lines = []
    if data.deep_dive is not None and len(data.deep_dive):
        d = deep_dive_summary(data.deep_dive)
        lines.append(
            f"Deep dive: {d['flagged']} cases flagged, {d['discussed']} discussed, "
            f"{d['action_required']} needing immediate action"
        )
    if data.learning_event is not None and len(data.learning_event):
        lines.append(
            f"Learning event: {len(data.learning_event)} points across "
            f"{data.learning_event['kloe'].nunique()} KLOEs"
        )
    if data.family_feedback is not None and len(data.family_feedback):
        f = feedback_summary(data.family_feedback)
        lines.append(
            f"Family feedback: {f['invited']} families invited, {f['responded']} responded"
        )
    record = data.development
    if record is not None and not record.empty:
        updates = record.progress
        areas = int((updates["kind"] == "area").sum())
        lines.append(
            f"Development record: {len(record.areas)} areas for development raised, "
            f"{len(record.recommendations)} recommendations; progress on {areas} earlier "
            f"areas and {len(updates) - areas} earlier recommendations"
        )
    return lines
