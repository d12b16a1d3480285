"""Writing audit returns: the toolkit workbook (form 1) and the bulk table (form 2).

Both forms are described in CONTRACT.md ("Audit return, form 1" and "form 2"). The
writers here produce files the loader reads; they are used by the synthetic demo data
(:mod:`audit_analysis.demo`) and by tests, and are the starting point for the blank
templates a partnership sends to its auditors.

Output is byte-for-byte deterministic: the same arguments give the same bytes, so
generated files can be committed and checked against a fresh generation. Workbooks get
fixed document properties and fixed zip entry timestamps (:func:`_normalise_zip`); CSVs
are written with a fixed line ending.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.writer.excel import ExcelWriter

from .frameworks import Framework

#: Document properties and zip entry times of every workbook written here.
FIXED_TIME = dt.datetime(2019, 1, 1, 0, 0, 0)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

#: Header-block labels, in the order written (CONTRACT.md, form 1).
HEADER_LABELS = (
    "Agency:",
    "Case ID:",
    "Case ID type:",
    "Audit cycle:",
    "Template version:",
    "Auditor:",
    "Date completed:",
)
#: Standards-table header.
TABLE_HEADER = ("KLOE", "Standard", "Standard wording", "Rating", "Evidence")
#: Bulk-table header (form 2).
BULK_COLUMNS = ("agency", "case_id", "case_id_type", "standard", "rating", "evidence")

DEFAULT_TITLE = "Multi-agency case audit toolkit"
GUIDANCE = (
    "Guidance for auditors",
    "Complete one toolkit per case. Fill in the details at the top of the Audit sheet.",
    "For each standard record your judgement (Met, Exceeded or Unmet) and the evidence for it.",
    "Where a standard could not apply to this case, write N/A and say why.",
    "Return the completed toolkit to the audit co-ordinator by the agreed date.",
)

Cell = str | int | float | dt.date | None


def write_toolkit(
    path: str | Path,
    framework: Framework,
    *,
    agency: str,
    case_id: str | int,
    case_id_type: str | None = None,
    audit_cycle: str | None = None,
    template_version: str | None = None,
    auditor: str | None = None,
    date_completed: dt.date | str | None = None,
    rows: Mapping[int, tuple[str | None, str | None]] | None = None,
    title: str = DEFAULT_TITLE,
    notes: Mapping[int, str] | None = None,
) -> Path:
    """Write one toolkit workbook (CONTRACT.md form 1) for one agency and one case.

    The first sheet, "Audit", holds a title row, the header block (each label with its
    value in the cell to its right; a label whose value is None is written with a blank
    value, as on a template), a blank row, then the standards table: one row per
    standard of ``framework`` in KLOE order, the standard number as an integer.
    ``rows`` maps standard number -> ``(rating_text, evidence_text_or_None)``; a standard
    missing from ``rows`` gets a blank rating. ``notes`` maps a standard number to a note
    written (in the Standard column, with no rating) on its own row after that standard.
    ``case_id`` given as an int is written as a number cell. A second sheet, "Guidance",
    holds a few lines of prose that a reader must ignore.
    """
    path = Path(path)
    rows = rows or {}
    notes = notes or {}
    wb = Workbook()
    ws = wb.active
    ws.title = "Audit"

    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(TABLE_HEADER))
    values: tuple[Cell, ...] = (
        agency,
        case_id,
        case_id_type,
        audit_cycle,
        template_version,
        auditor,
        date_completed,
    )
    r = 2
    for label, value in zip(HEADER_LABELS, values, strict=True):
        ws.cell(row=r, column=1, value=label).font = Font(bold=True)
        cell = ws.cell(row=r, column=2, value=value)
        if isinstance(value, dt.date):
            cell.number_format = "DD/MM/YYYY"
        r += 1
    r += 1  # blank row

    for col, name in enumerate(TABLE_HEADER, start=1):
        ws.cell(row=r, column=col, value=name).font = Font(bold=True)
    r += 1
    for kloe in framework.kloes:
        for std in kloe.standards:
            rating, evidence = rows.get(std.number, (None, None))
            line: tuple[Cell, ...] = (
                f"KLOE {kloe.number}: {kloe.title}",
                std.number,
                std.text,
                rating or None,
                evidence or None,
            )
            for col, value in enumerate(line, start=1):
                ws.cell(row=r, column=col, value=value)
            r += 1
            if std.number in notes:
                ws.cell(row=r, column=2, value=notes[std.number])
                r += 1

    for col, width in zip("ABCDE", (22, 16, 60, 16, 60), strict=True):
        ws.column_dimensions[col].width = width

    guide = wb.create_sheet("Guidance")
    for i, text in enumerate(GUIDANCE, start=1):
        guide.cell(row=i, column=1, value=text)
    guide.column_dimensions["A"].width = 100

    _save_workbook(wb, path)
    return path


def _save_workbook(wb: Workbook, path: Path) -> None:
    """Save ``wb`` to ``path`` with fixed properties and fixed zip entry times."""
    wb.properties.creator = "audit-analysis"
    wb.properties.lastModifiedBy = None
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    # ExcelWriter directly: openpyxl's save_workbook would stamp `modified` with now().
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as archive:
        ExcelWriter(wb, archive).save()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_normalised(buf.getvalue()))


def _normalise_zip(path: str | Path, *, compression: int = zipfile.ZIP_DEFLATED) -> None:
    """Rewrite the zip at ``path`` with fixed entry timestamps and attributes, entries in
    their original order, so the same content always gives the same bytes."""
    path = Path(path)
    path.write_bytes(_normalised(path.read_bytes(), compression))


def _normalised(data: bytes, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        entries = [(info.filename, src.read(info)) for info in src.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression, compresslevel=9) as dst:
        for name, content in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = compression
            info.external_attr = 0o600 << 16
            info.create_system = 0
            dst.writestr(info, content)
    return buf.getvalue()


def write_bulk_csv(
    path: str | Path,
    rows: Iterable[Mapping[str, object]],
    *,
    encoding: str = "utf-8",
    include_agency: bool = True,
    header: Iterable[str] | None = None,
) -> Path:
    """Write a bulk table (CONTRACT.md form 2) as CSV, one row per case and standard.

    Each row is a mapping with keys ``agency``, ``case_id``, ``case_id_type``,
    ``standard``, ``rating``, ``evidence`` (missing or None -> blank). Without
    ``include_agency`` the agency column is left out (the loader then takes the agency
    from the folder). ``header`` replaces the column names written (same order and
    number), for example the synonyms ``Std`` or ``Outcome``. Lines end in CRLF, as Excel
    saves a CSV; ``encoding`` may be ``utf-8``, ``utf-8-sig`` (with BOM) or ``cp1252``.
    """
    path = Path(path)
    columns = BULK_COLUMNS if include_agency else BULK_COLUMNS[1:]
    names = list(header) if header is not None else list(columns)
    if len(names) != len(columns):
        raise ValueError(f"header needs {len(columns)} names, got {len(names)}")
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else str(row.get(c)) for c in columns])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path
