"""Writing audit returns: the toolkit workbook (form 1) and the bulk table (form 2).

Both forms are described in docs/data-contract.md ("Form 1: the toolkit workbook" and
"Form 2: the bulk table"). The writers here produce files the loader reads; they are used
by the synthetic demo data (:mod:`audit_analysis.demo.generator`) and by tests, and are the
starting point for the blank templates a partnership sends to its auditors.

Output is byte-for-byte deterministic: the same arguments give the same bytes, so
generated files can be committed and checked against a fresh generation. Workbooks get
fixed document properties and fixed zip entry timestamps (:func:`normalise_zip`); CSVs
are written with a fixed line ending.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import math
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.writer.excel import ExcelWriter

from audit_analysis.io.frameworks import Framework
from audit_analysis.paths import write_file

__all__ = [
    "BULK_COLUMNS",
    "DEFAULT_TITLE",
    "FIXED_TIME",
    "FORM_WIDTHS",
    "FormOptions",
    "GUIDANCE",
    "HEADER_LABELS",
    "TABLE_HEADER",
    "normalise_zip",
    "write_bulk_csv",
    "write_toolkit",
]


#: Document properties and zip entry times of every workbook written here.
FIXED_TIME = dt.datetime(2019, 1, 1, 0, 0, 0)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

#: Header-block labels, in the order written (docs/data-contract.md, form 1).
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


@dataclass(frozen=True)
class FormOptions:
    """What turns :func:`write_toolkit`'s workbook into a form for an auditor to fill in
    (:mod:`audit_analysis.admin.templates` builds these).

    ``rating_words`` fill the Rating cells' drop-down, which rejects any other word;
    ``evidence_words`` are the ratings whose Evidence cell is highlighted while empty;
    ``guidance_row`` is one line of instructions above the standards table and
    ``guidance`` the lines of the Guidance sheet; ``footer`` is printed at the foot of
    each page (``&`` is escaped). Both sheets are protected, with ``password`` or none;
    only the Auditor, Date completed, Rating and Evidence cells are unlocked.
    """

    rating_words: tuple[str, ...]
    evidence_words: tuple[str, ...]
    guidance_row: str
    guidance: tuple[str, ...]
    footer: str = ""
    password: str | None = None

    def __post_init__(self) -> None:
        for word in self.rating_words:
            if not word.strip() or "," in word or '"' in word:
                raise ValueError(f'a drop-down word must be non-blank, without , or ": {word!r}')
        if len(",".join(self.rating_words)) > 253:
            raise ValueError("the drop-down list is longer than Excel's 255 characters")
        if not set(self.evidence_words) <= set(self.rating_words):
            raise ValueError("evidence_words must be among rating_words")


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
    form: FormOptions | None = None,
) -> Path:
    """Write one toolkit workbook (docs/data-contract.md form 1) for one agency and one case.

    The first sheet, "Audit", holds a title row, the header block (each label with its
    value in the cell to its right; a label whose value is None is written with a blank
    value, as on a template), a blank row, then the standards table: one row per
    standard of ``framework`` in KLOE order, the standard number as an integer.
    ``rows`` maps standard number -> ``(rating_text, evidence_text_or_None)``; a standard
    missing from ``rows`` gets a blank rating. ``notes`` maps a standard number to a note
    written (in the Standard column, with no rating) on its own row after that standard.
    ``case_id`` given as an int is written as a number cell. A second sheet, "Guidance",
    holds a few lines of prose that a reader must ignore.

    With ``form`` (:class:`FormOptions`) the workbook is a form to fill in: a guidance
    row above the table, a heading row per KLOE, a Rating drop-down, sheet protection
    leaving only the input cells editable, and A4 landscape printing. Without it the
    output is exactly what it always was (the demo data depends on it).
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
    if form is not None:  # the guidance row, then a blank row
        guidance_row = r
        ws.cell(row=r, column=1, value=form.guidance_row)
        r += 2

    table_row = r
    kloe_rows: list[int] = []
    standard_rows: list[int] = []
    for col, name in enumerate(TABLE_HEADER, start=1):
        ws.cell(row=r, column=col, value=name).font = Font(bold=True)
    r += 1
    for kloe in framework.kloes:
        if form is not None:  # a heading row per KLOE
            kloe_rows.append(r)
            heading = f"KLOE {kloe.number}: {kloe.title}"
            ws.cell(row=r, column=1, value=f"{heading}. {kloe.question}".strip())
            r += 1
        for std in kloe.standards:
            rating, evidence = rows.get(std.number, (None, None))
            standard_rows.append(r)
            line: tuple[Cell, ...] = (
                f"KLOE {kloe.number}: {kloe.title}" if form is None else f"KLOE {kloe.number}",
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
    for i, text in enumerate(GUIDANCE if form is None else form.guidance, start=1):
        guide.cell(row=i, column=1, value=text)
    guide.column_dimensions["A"].width = 100

    if form is not None:
        _finish_form(
            ws,
            guide,
            form,
            framework=framework,
            guidance_row=guidance_row,
            table_row=table_row,
            kloe_rows=kloe_rows,
            standard_rows=standard_rows,
        )
    _save_workbook(wb, path)
    return path


#: Column widths of a form, A to E: labels/KLOE, standard, wording, rating, evidence. With
#: the page fitted to its width they print on A4 landscape at about 90%.
FORM_WIDTHS = (18, 10, 58, 15, 48)
_INPUT_FILL = PatternFill("solid", fgColor="FFF5CC")  # pale yellow: fill this in
_HEAD_FILL = PatternFill("solid", fgColor="12436D")  # Analysis Function dark blue
_KLOE_FILL = PatternFill("solid", fgColor="DCE6F0")
_MISSING_FILL = PatternFill("solid", fgColor="FBD5C0")  # evidence still needed
_EDGE = Side(style="thin", color="8C8C8C")
_BOX = Border(left=_EDGE, right=_EDGE, top=_EDGE, bottom=_EDGE)
_POINTS_PER_LINE = 15
_FONT = "Calibri"  # named, so that no application falls back to a serif default


def _lines(text: object, width: float) -> int:
    """Lines ``text`` wraps to in a column ``width`` characters wide (an estimate: a
    character of prose is narrower than the digit a column width counts)."""
    per_line = max(1, int(width * 1.1))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in str(text or "").split("\n"))


def _blocks(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive row numbers as (first, last) pairs."""
    blocks: list[tuple[int, int]] = []
    for row in rows:
        if blocks and blocks[-1][1] == row - 1:
            blocks[-1] = (blocks[-1][0], row)
        else:
            blocks.append((row, row))
    return blocks


def _finish_form(
    ws,
    guide,
    form: FormOptions,
    *,
    framework: Framework,
    guidance_row: int,
    table_row: int,
    kloe_rows: Sequence[int],
    standard_rows: Sequence[int],
) -> None:
    """Style, protect and set up for printing a toolkit written as a form."""
    ncols = len(TABLE_HEADER)
    unlocked = Protection(locked=False)
    top = Alignment(vertical="top", wrap_text=True)
    for letter, width in zip("ABCDE", FORM_WIDTHS, strict=True):
        ws.column_dimensions[letter].width = width
    ws.row_dimensions[1].height = 24
    ws.cell(row=1, column=1).font = Font(name=_FONT, bold=True, size=14)

    # The header block: values span B:C; the auditor fills in their name and the date.
    for row, label in enumerate(HEADER_LABELS, start=2):
        ws.cell(row=row, column=1).font = Font(name=_FONT, bold=True)
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=3)
        cell = ws.cell(row=row, column=2)
        cell.alignment = Alignment(horizontal="left")
        if label in ("Auditor:", "Date completed:"):
            cell.protection = unlocked
            cell.fill = _INPUT_FILL
            cell.border = _BOX
        if label == "Date completed:":
            cell.number_format = "DD/MM/YYYY"

    ws.merge_cells(start_row=guidance_row, start_column=1, end_row=guidance_row, end_column=ncols)
    note = ws.cell(row=guidance_row, column=1)
    note.font = Font(name=_FONT, italic=True)
    note.alignment = top
    ws.row_dimensions[guidance_row].height = (
        _POINTS_PER_LINE * _lines(note.value, sum(FORM_WIDTHS)) + 3
    )

    for col in range(1, ncols + 1):
        cell = ws.cell(row=table_row, column=col)
        cell.font = Font(name=_FONT, bold=True, color="FFFFFF")
        cell.fill = _HEAD_FILL
        cell.border = _BOX
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    for row in kloe_rows:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)
        cell = ws.cell(row=row, column=1)
        cell.font = Font(name=_FONT, bold=True)
        cell.fill = _KLOE_FILL
        cell.alignment = top
        ws.row_dimensions[row].height = _POINTS_PER_LINE * _lines(cell.value, sum(FORM_WIDTHS)) + 3
    wording = FORM_WIDTHS[2]
    styled: list[object] = []  # the first standard row's cell styles, copied below (fast)
    for row in standard_rows:
        if styled:
            for col, style in enumerate(styled, start=1):
                ws.cell(row=row, column=col)._style = copy.copy(style)
        else:
            for col in range(1, ncols + 1):
                cell = ws.cell(row=row, column=col)
                cell.border = _BOX
                cell.alignment = top
            ws.cell(row=row, column=2).alignment = Alignment(horizontal="center", vertical="top")
            for col in (4, 5):  # Rating and Evidence: the auditor's cells
                cell = ws.cell(row=row, column=col)
                cell.protection = unlocked
                cell.fill = _INPUT_FILL
            styled = [ws.cell(row=row, column=col)._style for col in range(1, ncols + 1)]
        lines = max(3, _lines(ws.cell(row=row, column=3).value, wording))
        ws.row_dimensions[row].height = _POINTS_PER_LINE * lines + 3

    # The Rating drop-down: only the listed words are accepted (a blank is allowed).
    words = ", ".join(form.rating_words)
    choice = DataValidation(
        type="list",
        formula1='"' + ",".join(form.rating_words) + '"',
        allow_blank=True,
        showDropDown=False,  # (sic) False shows the in-cell arrow
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle="Not a rating",
        error=f"Choose a rating from the list: {words}."[:255],
        showInputMessage=True,
        promptTitle="Rating",
        prompt=(
            f"Choose {words}. "
            + " or ".join(form.evidence_words)
            + " needs evidence in the next cell."
        )[:255],
    )
    ws.add_data_validation(choice)
    evidence_ranges = []
    for first, last in _blocks(standard_rows):
        choice.add(f"D{first}:D{last}")
        evidence_ranges.append(f"E{first}:E{last}")
    if standard_rows and form.evidence_words:  # highlight a good rating with no evidence
        first = standard_rows[0]
        needs = ",".join(f'$D{first}="{w}"' for w in form.evidence_words)
        ws.conditional_formatting.add(
            " ".join(evidence_ranges),
            FormulaRule(formula=[f"AND(OR({needs}),LEN(TRIM($E{first}))=0)"], fill=_MISSING_FILL),
        )

    # Printing: A4 landscape, fitted to the page width, the table header on every page.
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.8, footer=0.3)
    ws.print_title_rows = f"{table_row}:{table_row}"
    ws.print_options.horizontalCentered = True
    if form.footer:
        ws.oddFooter.left.text = form.footer.replace("&", "&&")
    ws.oddFooter.right.text = "Page &P of &N"
    ws.freeze_panes = ws.cell(row=table_row + 1, column=1).coordinate
    guide.column_dimensions["A"].width = 110
    for row in range(1, len(form.guidance) + 1):
        cell = guide.cell(row=row, column=1)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        guide.row_dimensions[row].height = _POINTS_PER_LINE * _lines(cell.value, 110) + 4
    guide.cell(row=1, column=1).font = Font(name=_FONT, bold=True, size=12)
    guide.page_setup.orientation = "landscape"
    guide.page_setup.paperSize = guide.PAPERSIZE_A4

    # Protection: every cell is locked unless unlocked above. It guards against slips,
    # not people: Review > Unprotect Sheet lifts it (with the password, if one is set).
    for sheet in (ws, guide):
        sheet.protection.sheet = True
        sheet.protection.formatColumns = False  # widths and heights may still be changed,
        sheet.protection.formatRows = False  # so long evidence can be shown in full
        if form.password:
            sheet.protection.password = form.password


def _as_text(wb: Workbook) -> None:
    """Every cell openpyxl took for a formula (text starting with ``=``) becomes text:
    nothing written here is ever a formula, and a ``case_ref`` or a standard's wording
    such as ``=HYPERLINK(...)`` must reach the agencies as the words it is."""
    for sheet in wb.worksheets:
        for cell in list(sheet._cells.values()):  # the cells written, creating none
            if cell.data_type == "f":
                cell.data_type = "s"


def _save_workbook(wb: Workbook, path: Path) -> None:
    """Save ``wb`` to ``path`` with fixed properties and fixed zip entry times; no cell
    is a formula (:func:`_as_text`)."""
    _as_text(wb)
    wb.properties.creator = "audit-analysis"
    wb.properties.lastModifiedBy = None
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    # ExcelWriter directly: openpyxl's save_workbook would stamp `modified` with now().
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as archive:
        ExcelWriter(wb, archive).save()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file(path, _normalised(buf.getvalue()))  # never through a link


def normalise_zip(path: str | Path, *, compression: int = zipfile.ZIP_DEFLATED) -> None:
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
    """Write a bulk table (docs/data-contract.md form 2) as CSV, one row per case and standard.

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
