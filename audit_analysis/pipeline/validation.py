"""What ``audit-analysis validate`` reports: what was loaded and everything rejected."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from audit_analysis.analysis.quality import agency_summary, compliance_lines
from audit_analysis.io.cycles import DataFolder
from audit_analysis.io.dataset import CycleData
from audit_analysis.io.labels import current as current_labels
from audit_analysis.io.labels import package_labels
from audit_analysis.io.ratings import BUILTIN
from audit_analysis.io.returns import skip_reason
from audit_analysis.io.text import printable
from audit_analysis.render.labels import good_adj, show_scale

__all__ = [
    "PROBLEM_KINDS",
    "commentary_lines",
    "format_report",
    "run_notes",
    "summary_line",
    "suppressed_tables",
]


def format_report(data: CycleData) -> str:
    """The plain-text report ``validate`` prints, in the words of the cycle's scale."""
    show_scale(data.scale)
    lines: list[str] = []
    returns, rejections = data.returns, data.rejections
    status = returns["status"].value_counts()
    lines.append(f"Audit cycle {data.cycle}: {printable(str(data.folder), False)}")
    if data.framework.reconstructed:
        lines.append(f"  framework {data.cycle} is a reconstruction (see its file's note)")
    if data.scale.source != BUILTIN.source:  # the partnership's own (docs/own-scale.md)
        lines.append(
            f"  rated on {printable(data.scale.name, False)}, good meaning "
            f"{printable(data.scale.good_words, False)} "
            f"({printable(data.scale.source, False)})"
        )
    priorities = data.cases["priority"].value_counts()
    lines.append(
        f"Cases: {len(data.cases)}"
        + (
            " (" + ", ".join(f"{p} {n}" for p, n in priorities.items()) + ")"
            if len(priorities)
            else ""
        )
    )
    labels = current_labels()  # the data folder's labels.yaml, when it has one
    if labels is not package_labels():
        lines.append(
            f"Labels: {printable(labels.source, False)}: priority themes "
            f"{', '.join(labels.priorities)}; age bands {', '.join(labels.age_bands)}"
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
    lines += commentary_lines(data)
    summary = agency_summary(data)
    if len(summary):
        lines.append("")
        lines.append(f"Per agency (evidence rate: {good_adj()} ratings that give evidence)")
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


def commentary_lines(data: CycleData) -> list[str]:
    """The commentary's state and every problem in it, one line each naming its line
    (errors stop the run; warnings, such as a figure typed by hand, do not)."""
    from audit_analysis.exceptions import AuditDataError
    from audit_analysis.io.commentary import COMMENTARY_FILE
    from audit_analysis.pipeline.runner import earlier_cycles
    from audit_analysis.sections.commentary import checked_commentary

    if (
        not (data.folder / COMMENTARY_FILE).exists()
        and not (data.folder / COMMENTARY_FILE).is_symlink()
    ):
        return [f"Commentary: none ({COMMENTARY_FILE}); the pages will say none was supplied"]
    try:
        compared = earlier_cycles(data.folder.parent, data.cycle)
    except AuditDataError:
        compared = []
    try:
        found, problems = checked_commentary(data, compared)  # read once
    except AuditDataError as exc:
        return [f"Commentary: error: {exc}"]
    status = "ratified" if found is not None and found.ratified else "draft"
    errors = sum(p.level == "error" for p in problems)
    warnings = len(problems) - errors
    lines = [
        f"Commentary: {COMMENTARY_FILE}, {status}"
        + (f"; {errors} error{'s' * (errors != 1)} (the run refuses it)" if errors else "")
        + (f"; {warnings} warning{'s' * (warnings != 1)}" if warnings else "")
    ]
    for problem in problems:
        lines.append(f"  {COMMENTARY_FILE} {problem} [{problem.level}]")
    return lines


# ----------------------------------------------------------- what a run tells its operator

PROBLEM_KINDS = ("rejections", "unplaced_returns")
"""Notes that mean part of the data was not used: a run with any of them ends with exit
status 3 (docs/operator.md, "Exit statuses")."""


def run_notes(data: CycleData, tables: Path | None = None, min_cell_count: int = 5) -> list[dict]:
    """What the operator of a run must hear about the data, one entry per kind with its
    count (none when there is nothing to say): ``rejections`` (rows and whole files
    rejected), ``unplaced_returns`` (returns naming no known agency or case),
    ``old_templates`` (returns on an earlier cycle's template, loaded) and
    ``suppressed_tables`` (published tables under ``tables`` with a cell shown ``c``,
    resting on fewer than ``min_cell_count`` cases). Each entry: ``kind``, ``count``,
    ``text``. No entry names a case or a file."""
    from audit_analysis.analysis.quality import old_template_returns, unplaced_returns

    notes = []
    rejections = data.rejections
    if len(rejections):
        # a line of the bounded log may stand for many rows (its count)
        total = int(rejections["count"].sum())
        whole = int(rejections["source_row"].isna().sum())
        rows = total - whole
        files = int(rejections["source_file"].nunique())
        notes.append(
            {
                "kind": "rejections",
                "count": total,
                "text": f"{_n(total, 'rejection')} ({_n(rows, 'row')}, "
                f"{_n(whole, 'whole file')}; from {_n(files, 'file')}): "
                "`audit-analysis validate` lists each",
            }
        )
    loose = len(unplaced_returns(data))
    if loose:
        notes.append(
            {
                "kind": "unplaced_returns",
                "count": loose,
                "text": f"{_n(loose, 'return')} naming no known agency or case, with no rating",
            }
        )
    old = old_template_returns(data)
    if len(old):
        versions = ", ".join(sorted(str(v) for v in old["template_version"].unique()))
        notes.append(
            {
                "kind": "old_templates",
                "count": len(old),
                "text": f"{_n(len(old), 'return')} on an earlier template ({versions}); loaded, "
                "standards it lacks count as not recorded",
            }
        )
    suppressed = suppressed_tables(tables) if tables is not None else []
    if suppressed:
        notes.append(
            {
                "kind": "suppressed_tables",
                "count": len(suppressed),
                "text": f"{_n(len(suppressed), 'table')} with figures suppressed (shown c: fewer "
                f"than {min_cell_count} cases)",
                "tables": suppressed,
            }
        )
    return notes


def suppressed_tables(folder: Path) -> list[str]:
    """The CSV tables under ``folder`` (by stem) with a cell suppressed (``c``)."""
    import csv

    from audit_analysis.analysis.disclosure import MARKER

    found = []
    for path in sorted(Path(folder).glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            if any(cell == MARKER for row in csv.reader(fh) for cell in row):
                found.append(path.stem)
    return found


def summary_line(cycle: str, notes: list[dict]) -> str:
    """The one line a run prints (whatever ``--quiet`` says) when ``notes`` holds
    anything: the counts, problems first. Empty when there is nothing to say."""
    counted = [n for n in notes if "count" in n]
    if not counted:
        return ""
    problems = [n for n in counted if n["kind"] in PROBLEM_KINDS]
    others = [n for n in counted if n["kind"] not in PROBLEM_KINDS]
    words = {
        "rejections": ("rejection", ""),
        "unplaced_returns": ("return", " not placed"),
        "old_templates": ("return", " on an old template"),
        "suppressed_tables": ("table", " with suppressed figures"),
    }
    parts = []
    for note in problems + others:
        noun, rest = words.get(note["kind"], (note["kind"], ""))
        parts.append(_n(note["count"], noun) + rest)
    head = "data problems" if problems else "notes"
    return f"{head} in {cycle}: " + ", ".join(parts) + " (manifest.json notes)"


def _n(count: int, noun: str) -> str:
    """``1 return``, ``2 returns``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
