"""Hostile workbooks, built in the tests (never committed): a minimal ``.xlsx`` package
written part by part, so that its declared counts and dimensions say whatever a test
needs. Shared with ``bench/`` (``python -m bench`` measures rejecting each bomb)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS_NS}">'
    f'<Relationship Id="rId1" Type="{DOC_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{DOC_REL}">'
    '<sheets><sheet name="Audit" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS_NS}">'
    f'<Relationship Id="rId1" Type="{DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{DOC_REL}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
EMPTY_STRINGS = f'<sst xmlns="{NS}" count="0" uniqueCount="0"></sst>'


def sheet_xml(cells: Iterable[tuple[str, object]], dimension: str | None = None) -> str:
    """A worksheet holding ``cells`` ((reference, value) pairs; text inline)."""
    rows: dict[int, list[tuple[str, object]]] = {}
    for ref, value in cells:
        rows.setdefault(int(re.sub(r"[A-Z]+", "", ref)), []).append((ref, value))
    body = []
    for number in sorted(rows):
        parts = []
        for ref, value in rows[number]:
            if isinstance(value, int | float):
                parts.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                parts.append(f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>')
        body.append(f'<row r="{number}">{"".join(parts)}</row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}">{dim}'
        f"<sheetData>{''.join(body)}</sheetData></worksheet>"
    )


def write_book(
    path: Path,
    sheet: str | Callable[[object], None],
    strings: str = EMPTY_STRINGS,
    extra_parts: int = 0,
    level: int = 6,
) -> Path:
    """A workbook with one sheet: ``sheet`` is its XML, or a function writing it to a
    stream (for sheets too large to hold in memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        if callable(sheet):
            with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
                sheet(fh)
        else:
            z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr("xl/sharedStrings.xml", strings)
        for i in range(extra_parts):
            z.writestr(f"customXml/item{i}.xml", "<x/>")
    return path


def many_rows(rows: int, cells_per_row: int = 1, numbered: bool = True) -> Callable:
    """A sheet of ``rows`` rows (no ``<dimension>``), written in pieces. Unnumbered rows
    and cells (allowed: their place is their order) are all alike and compress about a
    thousand times."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><sheetData>'
    letters = [chr(65 + i) for i in range(cells_per_row)]

    def write(fh) -> None:
        fh.write(head.encode())
        if not numbered:
            row = "<row>" + "<c><v>1</v></c>" * cells_per_row + "</row>"
            chunk = (row * 10_000).encode()
            for _ in range(rows // 10_000):
                fh.write(chunk)
            fh.write((row * (rows % 10_000)).encode())
        else:
            chunk = []
            for r in range(1, rows + 1):
                cells = "".join(f'<c r="{c}{r}"><v>1</v></c>' for c in letters)
                chunk.append(f'<row r="{r}">{cells}</row>')
                if len(chunk) == 10000:
                    fh.write("".join(chunk).encode())
                    chunk = []
            fh.write("".join(chunk).encode())
        fh.write(b"</sheetData></worksheet>")

    return write


# The bombs of issue 13, each a few kilobytes unless said otherwise.
def strings_bomb(path: Path) -> Path:
    """A string table declaring two billion strings (the reader reserves 48 GB)."""
    table = f'<sst xmlns="{NS}" count="1" uniqueCount="2000000000"><si><t>a</t></si></sst>'
    return write_book(path, sheet_xml([("A1", "x")]), strings=table)


def far_cells(path: Path, corner: str = "XFD1048576", declare: bool = True) -> Path:
    """Cells at A1 and ``corner``: the reader builds the whole rectangle between them
    (XFD1048576: 549 GB; CV1048576: 4.3 GB; Z1000000: 1.2 GB). ``declare``: the sheet
    states its true ``<dimension>``, as Excel and openpyxl write it; without it only
    reading the sheet finds the corner."""
    dimension = f"A1:{corner}" if declare else None
    return write_book(path, sheet_xml([("A1", "x"), (corner, "y")], dimension))


def rows_bomb(
    path: Path, rows: int = 10_000_000, cells_per_row: int = 6, numbered: bool | None = None
) -> Path:
    """A small zip holding a huge sheet: by default 10 million rows, about 1.1 GB of XML
    in a zip of a few MB. Smaller sheets number their rows (``r="12"``) unless told."""
    numbered = rows < 2_000_000 if numbered is None else numbered
    return write_book(path, many_rows(rows, cells_per_row, numbered), level=9)
