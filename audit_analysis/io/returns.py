"""Reading audit return files (docs/data-contract.md forms 1 and 2) into raw rows.

This module knows file formats only: where the header block and the standards table
are in a toolkit workbook, where the header row of a bulk table is, how a CSV is
decoded. It does not judge values (agency, case, standard, rating): ``dataset.py``
does that, so both forms share one set of rules.
"""

from __future__ import annotations

import codecs
import csv
import errno
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from audit_analysis.exceptions import AuditDataError
from audit_analysis.io.text import cell_text, header_key, is_blank, label_key, nfc
from audit_analysis.io.workbooks import Budgets, WorkbookRefused, read_sheets

# A CSV's header line longer than this is no audit table.
MAX_HEADER_LINE_BYTES = 1024 * 1024
# Blank lines tolerated before a CSV's header row.
MAX_LEADING_BLANK_LINES = 1000

STANDARD_HEADERS = {"standard", "std", "standardno", "standardnumber"}
RATING_HEADERS = {"rating", "judgement", "judgment", "outcome"}
EVIDENCE_HEADERS = {"evidence", "comments", "comment", "rationale"}
CASE_ID_HEADERS = {"caseid"}
CASE_ID_TYPE_HEADERS = {"caseidtype"}
AGENCY_HEADERS = {"agency"}

LABELS = {
    "agency": "agency",
    "case id": "case_id",
    "case id type": "case_id_type",
    "audit cycle": "audit_cycle",
    "template version": "template_version",
    "auditor": "auditor",
    "date completed": "date_completed",
}

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
CSV_SUFFIXES = {".csv"}


class ReturnFileError(AuditDataError):
    """A whole file cannot be used. ``reason`` is one line; ``sheet``/``value`` locate it."""

    def __init__(self, reason: str, *, sheet: str | None = None, value: object = None):
        super().__init__(reason, sheet=sheet, value=value)


class RawRow(NamedTuple):
    """One non-blank row below a standards header, values exactly as in the cell (None
    where blank). Readers yield plain tuples in this order, which is cheaper to make
    than the named tuple and unpacks the same way."""

    row: int
    standard: object
    rating: object
    evidence: object
    agency: object = None
    case_id: object = None
    case_id_type: object = None


@dataclass
class ReturnFile:
    form: str  # "toolkit" or "bulk"
    sheet: str | None
    rows: Iterator[RawRow]
    header: dict[str, object] = field(default_factory=dict)
    has_agency_column: bool = True


def classify(path: Path) -> str:
    """``excel``, ``csv`` or ``skipped`` for a file found under ``returns/``."""
    name = path.name
    if name.startswith("~$") or name.startswith("."):
        return "skipped"
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return "excel"
    if suffix in CSV_SUFFIXES:
        return "csv"
    return "skipped"


def special_file_reason(path: str | os.PathLike) -> str | None:
    """Why an entry of a cycle folder is no file to read (a symbolic link, a named pipe,
    a device...), or None for a plain file or folder. Links are never followed: nothing
    outside the cycle folder is read."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        return f"cannot be examined ({exc.strerror or exc})"
    mode = info.st_mode
    if stat.S_ISLNK(mode):
        try:
            target = os.stat(path)
        except OSError:
            return "symbolic link to nothing (dangling); links are not followed"
        kind = "a folder" if stat.S_ISDIR(target.st_mode) else "a file"
        return (
            f"symbolic link (to {kind}): not followed, so that nothing outside the cycle "
            "folder is read; copy the file itself into the folder"
        )
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a file: not read"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a file: not read"
    if stat.S_ISSOCK(mode):
        return "a socket, not a file: not read"
    return "not a plain file: not read"


def skip_reason(path: Path, folder: Path | None = None) -> str:
    """Why a file found under ``returns/`` is not read; with ``folder`` (the cycle's
    folder, ``path`` being relative to it) links and special files are recognised."""
    shown_only = folder is not None and not os.path.lexists(folder / path)  # an escaped name
    special = special_file_reason(folder / path) if folder is not None and not shown_only else None
    if special is not None:
        return special
    if path.name.startswith("~$"):
        return "Excel lock file (the workbook was open when copied)"
    if path.name.startswith("."):
        return "hidden file"
    return f"not an audit return ({path.suffix or 'no extension'}); returns are .xlsx or .csv"


# --------------------------------------------------------------------------- Excel


def read_excel(path: Path, budgets: Budgets | None = None) -> ReturnFile:
    """Read a workbook in this process, after :func:`~audit_analysis.io.workbooks.
    check_package`. ``load_cycle`` reads workbooks in a child process instead
    (:func:`~audit_analysis.io.workbooks.read_isolated`), so that a crash is one rejection."""
    try:
        sheets = read_sheets(path, budgets)
    except WorkbookRefused as exc:
        raise ReturnFileError(exc.reason) from None
    return parse_sheets(sheets)


def parse_sheets(sheets: list[tuple[str, list[list[object]]]]) -> ReturnFile:
    """A workbook's sheets, as read, into its toolkit or bulk table."""
    if not sheets or all(_first_nonblank(rows) is None for _, rows in sheets):
        raise ReturnFileError("workbook has no data on any sheet")
    return parse_workbook(sheets)


def parse_workbook(sheets: list[tuple[str, list[list[object]]]]) -> ReturnFile:
    """Find the toolkit or the bulk table among a workbook's sheets (cells as lists)."""
    if len(sheets) == 1:
        name, rows = sheets[0]
        first = _first_nonblank(rows)
        if first is not None and _is_bulk_header(rows[first]):
            return _bulk_from_rows(name, rows, first)
    found_labels = None
    for name, rows in sheets:
        header_row = _standards_header_row(rows)
        labels = _labels(rows, stop=header_row)
        if header_row is None:
            if labels and found_labels is None:
                found_labels = name
            continue
        if "agency" not in labels:
            raise ReturnFileError("no 'Agency' label in the header block", sheet=name)
        if "case_id" not in labels:
            raise ReturnFileError("no 'Case ID' label in the header block", sheet=name)
        for key, text in (("agency", "Agency"), ("case_id", "Case ID")):
            if is_blank(labels[key]):
                raise ReturnFileError(f"the '{text}' label has no value beside it", sheet=name)
        columns = _columns(rows[header_row])
        return ReturnFile(
            form="toolkit",
            sheet=name,
            rows=_table_rows(rows, header_row, columns),
            header=labels,
        )
    if found_labels is not None:
        raise ReturnFileError(
            "no standards table: no row holds both a 'Standard' and a 'Rating' heading "
            "(is the table's header row missing?)",
            sheet=found_labels,
        )
    raise ReturnFileError(
        "no sheet holds an audit toolkit (labels 'Agency' and 'Case ID' and a table "
        "headed 'Standard' and 'Rating') or a bulk table (a first row with case ID, "
        "standard and rating columns)"
    )


def _first_nonblank(rows: list[list[object]]) -> int | None:
    return next((i for i, r in enumerate(rows) if not _blank_row(r)), None)


def _is_bulk_header(cells: list[object]) -> bool:
    keys = {header_key(c) for c in cells}
    return bool(keys & CASE_ID_HEADERS)


def _standards_header_row(rows: list[list[object]]) -> int | None:
    for i, cells in enumerate(rows):
        keys = {header_key(c) for c in cells if c and isinstance(c, str)}
        if keys & STANDARD_HEADERS and keys & RATING_HEADERS:
            return i
    return None


def _labels(rows: list[list[object]], stop: int | None) -> dict[str, object]:
    """Header-block labels found above ``stop``: the value is the next non-empty cell."""
    found: dict[str, object] = {}
    for cells in rows[: stop if stop is not None else len(rows)]:
        for j, cell in enumerate(cells):
            if not cell or not isinstance(cell, str):
                continue
            key = LABELS.get(label_key(cell))
            if key is None or key in found:
                continue
            value = next((c for c in cells[j + 1 :] if not is_blank(c)), None)
            found[key] = value
    return found


def _columns(cells: list[object]) -> dict[str, int]:
    """Column index of each known heading (the first one wins)."""
    wanted = {
        "standard": STANDARD_HEADERS,
        "rating": RATING_HEADERS,
        "evidence": EVIDENCE_HEADERS,
        "agency": AGENCY_HEADERS,
        "case_id": CASE_ID_HEADERS,
        "case_id_type": CASE_ID_TYPE_HEADERS,
    }
    columns: dict[str, int] = {}
    for j, cell in enumerate(cells):
        key = header_key(cell)
        for name, synonyms in wanted.items():
            if key in synonyms and name not in columns:
                columns[name] = j
    return columns


def _pick(cells: list[object], j: int | None) -> object:
    if j is None or j >= len(cells):
        return None
    value = cells[j]
    return None if is_blank(value) else value


_ROW_FIELDS = ("standard", "rating", "evidence", "agency", "case_id", "case_id_type")


def _blank_row(cells: list[object]) -> bool:
    for c in cells:  # noqa: SIM110 - a plain loop: this runs for every row read
        if c != "" and c is not None and not is_blank(c):
            return False
    return True


def _raw_rows(
    numbered: Iterable[tuple[int, list[object]] | CsvRowError], columns: dict[str, int]
) -> Iterator[RawRow | CsvRowError]:
    """A :class:`RawRow` for each non-blank ``(row number, cells)``, passing any
    :class:`CsvRowError` through. This is the hot loop of every reader, so blank cells
    are recognised inline (``is_blank``'s rules: empty or whitespace-only text, None,
    NaN) and the whole row is checked only when every wanted cell is blank."""
    wanted = [columns.get(name) for name in _ROW_FIELDS]
    width = 1 + max((j for j in wanted if j is not None), default=-1)
    picks = [(k + 1, j) for k, j in enumerate(wanted) if j is not None]
    for item in numbered:
        if item.__class__ is CsvRowError:
            yield item
            continue
        number, cells = item
        values: list[object] = [number, None, None, None, None, None, None]
        found = False
        if len(cells) >= width:
            for k, j in picks:
                value = cells[j]
                kind = value.__class__
                if kind is str:
                    if not value.strip():
                        continue
                elif kind is float:
                    if value != value:  # NaN
                        continue
                elif value is None or is_blank(value):
                    continue
                values[k] = value
                found = True
        else:
            for k, j in picks:
                values[k] = value = _pick(cells, j)
                found = found or value is not None
        if found or not _blank_row(cells):
            yield tuple(values)  # type: ignore[misc]  # RawRow's fields, in order


def _table_rows(
    rows: list[list[object]], header_row: int, columns: dict[str, int], first_row: int = 1
) -> Iterator[RawRow]:
    """Rows below the header. Row numbers are 1-based, as a spreadsheet shows them."""
    start = header_row + 1
    return _raw_rows(enumerate(rows[start:], start=start + first_row), columns)


def _bulk_from_rows(sheet: str | None, rows: list[list[object]], header_row: int) -> ReturnFile:
    columns = _columns(rows[header_row])
    _check_bulk_columns(columns, sheet, rows[header_row])
    return ReturnFile(
        form="bulk",
        sheet=sheet,
        rows=_table_rows(rows, header_row, columns),
        has_agency_column="agency" in columns,
    )


def _check_bulk_columns(columns: dict[str, int], sheet: str | None, cells: list) -> None:
    missing = [name for name in ("case_id", "standard", "rating") if name not in columns]
    if missing:
        shown = ", ".join(cell_text(c) for c in cells if not is_blank(c))
        raise ReturnFileError(
            "header row lacks the column(s) " + ", ".join(missing),
            sheet=sheet,
            value=shown[:200],
        )


# --------------------------------------------------------------------------- CSV


def open_plain(path: str | os.PathLike, mode: str = "rb", **kwargs):
    """Open a plain file for reading, never through a symbolic link and never a pipe or
    device (which could block or never end). Raises :class:`ReturnFileError` for those;
    OSError when the file cannot be opened."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            reason = special_file_reason(path) or "symbolic link: not followed"
            raise ReturnFileError(reason) from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ReturnFileError(special_file_reason(path) or "not a plain file: not read")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return open(fd, mode, **kwargs)  # noqa: SIM115 - the caller closes it
    except BaseException:
        os.close(fd)
        raise


def _csv_error(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return (
            f"a cell is longer than {csv.field_size_limit():,} characters, more than any "
            "audit return holds; the line is not read"
        )
    return f"unreadable CSV line ({text[:120]})"


def _header_cells(line: str, delimiter: str) -> list[str]:
    try:
        return [nfc(c) for c in next(csv.reader([line], delimiter=delimiter), [])]
    except csv.Error as exc:
        raise ReturnFileError("header row: " + _csv_error(exc)) from None


#: What :func:`detect_encoding` calls a file that is UTF-8 but for some lines holding
#: bytes no UTF-8 text has (a Windows-1252 character typed into a UTF-8 file): read as
#: UTF-8, those lines rejected, never the whole file decoded otherwise.
MIXED_UTF8 = "utf-8-mixed"
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ESCAPED = re.compile("[\udc80-\udcff]")


def detect_encoding(path: Path) -> str:
    """The encoding of a text file, chosen once for the whole file (docs/data-contract.md):

    - a byte-order mark says it: ``utf-8-sig``, or ``utf-16`` (Excel's "Unicode text");
    - else ``utf-8`` when every byte is UTF-8;
    - else :data:`MIXED_UTF8` when the file holds UTF-8 text beside bytes that are not
      (read as UTF-8; the lines holding those bytes are rejected);
    - else ``cp1252`` (Windows-1252, what Excel's "CSV" saves), the documented fallback
      for a file with no UTF-8 text at all.

    A file valid in none (a UTF-16 file's bytes, NUL bytes without a byte-order mark,
    bytes Windows-1252 leaves undefined) is refused (:class:`ReturnFileError`). Streams
    the file in chunks: never holds it whole in memory."""
    with open_plain(path) as fh:
        head = fh.read(4)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            if encoding == "utf-16":
                _check_decodes(path, encoding, "UTF-16 (it starts with UTF-16's byte-order mark)")
            else:
                _check_utf8(path, len(bom))
            return encoding
    utf8, invalid, nul = _check_utf8(path, 0)
    if nul:
        raise ReturnFileError(
            "not text: the file holds NUL bytes (UTF-16 saved without a byte-order mark?); "
            "save it as CSV UTF-8"
        )
    if not invalid:
        return "utf-8"
    if utf8:
        return MIXED_UTF8
    _check_decodes(path, "cp1252", "UTF-8 or Windows-1252")
    return "cp1252"


def _check_utf8(path: Path, skip: int) -> tuple[int, int, bool]:
    """(characters beyond ASCII that are UTF-8, bytes that are not, any NUL byte)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    utf8 = invalid = 0
    nul = False
    with open_plain(path) as fh:
        fh.read(skip)
        while chunk := fh.read(1 << 20):
            nul = nul or b"\x00" in chunk
            if chunk.isascii():
                continue
            text = decoder.decode(chunk)
            escaped = len(_ESCAPED.findall(text))
            invalid += escaped
            utf8 += len(text) - len(text.encode("ascii", "ignore")) - escaped
        tail = decoder.decode(b"", final=True)
        invalid += len(_ESCAPED.findall(tail))
    return utf8, invalid, nul


def _check_decodes(path: Path, encoding: str, what: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open_plain(path) as fh:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise ReturnFileError(
            f"not text: the file is not valid {what} (byte {exc.object[exc.start : exc.end]!r})"
        ) from None


def _open_text(path: Path, encoding: str):
    if encoding == MIXED_UTF8:
        return open_plain(path, "r", encoding="utf-8", errors="surrogateescape", newline="")
    return open_plain(path, "r", encoding=encoding, newline="")


_SEP_LINE = re.compile(r"^\s*sep\s*=\s*(.)\s*$", re.IGNORECASE)
_MIXED_REASON = (
    "this line holds bytes that are not UTF-8 while the rest of the file is UTF-8 (a "
    "character from another encoding, such as Windows-1252): the line is not read, "
    "so that no text is garbled; retype the line's accented characters and save as CSV UTF-8"
)


def _encoding_and_header(path: Path) -> tuple[str, int, str, str]:
    """(encoding, header row number, header line, delimiter). The header is looked for
    first, reading at most about 1 MB, so that a file that is no table is refused before
    the whole of it is read to choose its encoding."""
    with open_plain(path) as fh:
        head = fh.read(4)
    bom = next((encoding for mark, encoding in _BOMS if head.startswith(mark)), None)
    _sniff_header(path, bom or MIXED_UTF8, strict=False)
    encoding = detect_encoding(path)
    return (encoding, *_sniff_header(path, encoding))


def _sniff_header(path: Path, encoding: str, strict: bool = True) -> tuple[int, str, str]:
    """Read only up to the first non-blank line: (row number, decoded line, delimiter).
    Lines end in LF, CRLF or CR alone (Excel for Mac); Excel's ``sep=;`` first line
    names the separator and is no header."""
    delimiter = None
    with _open_text(path, encoding) as fh:
        for number in range(1, MAX_LEADING_BLANK_LINES + 1):
            line = fh.readline(MAX_HEADER_LINE_BYTES + 1)
            if not line:
                raise ReturnFileError("file is empty: no header row")
            if len(line) > MAX_HEADER_LINE_BYTES and not line.endswith(("\n", "\r")):
                raise ReturnFileError("first line is over 1 MB long: not a CSV table")
            if number == 1:
                line = line.removeprefix("\ufeff")
            if strict and _ESCAPED.search(line):
                raise ReturnFileError("header row: " + _MIXED_REASON.split(":")[0])
            sep = _SEP_LINE.match(line) if delimiter is None else None
            if sep and number == 1:
                delimiter = sep.group(1)
                continue
            if line.strip().strip(",;\t" + (delimiter or "")):
                if delimiter is None:
                    delimiter = ","
                    if line.count(";") > line.count(",") and line.count(";") > 0:
                        delimiter = ";"
                    elif line.count("\t") > line.count(","):
                        delimiter = "\t"
                return number, line, delimiter
    raise ReturnFileError(f"no header row in the first {MAX_LEADING_BLANK_LINES} lines")


def read_csv(path: Path) -> ReturnFile:
    encoding, header_number, line, delimiter = _encoding_and_header(path)
    header = _header_cells(line, delimiter)
    columns = _columns(header)
    _check_bulk_columns(columns, None, header)
    return ReturnFile(
        form="bulk",
        sheet=None,
        rows=_csv_rows(path, encoding, delimiter, header_number, columns),
        has_agency_column="agency" in columns,
    )


class CsvRowError(AuditDataError):
    """A line of a CSV table that cannot be read as a row (yielded in its place)."""

    def __init__(self, row: int, reason: str):
        super().__init__(reason, row=row)


def _numbered_csv(
    path: Path, encoding: str, delimiter: str, header_number: int, skip_blank: bool = False
) -> Iterator[tuple[int, list[str]] | CsvRowError]:
    """The lines below the header as ``(number, cells)``, numbered as a spreadsheet
    shows them; a line the csv module cannot read comes as a :class:`CsvRowError`, so
    one bad line never stops the rest. With ``skip_blank``, blank lines are passed over."""
    mixed = encoding == MIXED_UTF8
    with _open_text(path, encoding) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        number = 0
        while True:
            number += 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if number > header_number:
                    yield CsvRowError(number, _csv_error(exc))
                continue
            if number > header_number and not (skip_blank and all(is_blank(c) for c in cells)):
                if not all(map(str.isascii, cells)):
                    if mixed and any(_ESCAPED.search(c) for c in cells):
                        yield CsvRowError(number, _MIXED_REASON)
                        continue
                    cells = [nfc(c) for c in cells]  # one spelling of every text
                yield number, cells


def _csv_rows(
    path: Path, encoding: str, delimiter: str, header_number: int, columns: dict[str, int]
) -> Iterator[RawRow | CsvRowError]:
    yield from _raw_rows(_numbered_csv(path, encoding, delimiter, header_number), columns)


def read_table_csv(
    path: Path,
) -> tuple[list[str], Iterator[tuple[int, list[str]] | CsvRowError]]:
    """A plain CSV table (``cases.csv``): its header cells and numbered data rows; a
    line the csv module cannot read comes as a :class:`CsvRowError` with its number."""
    encoding, header_number, line, delimiter = _encoding_and_header(path)
    header = _header_cells(line, delimiter)
    return header, _numbered_csv(path, encoding, delimiter, header_number, skip_blank=True)


def read_return(path: Path) -> ReturnFile:
    kind = classify(path)
    if kind == "excel":
        return read_excel(path)
    if kind == "csv":
        return read_csv(path)
    raise ReturnFileError(skip_reason(path))


__all__ = ["CsvRowError", "RawRow", "ReturnFile", "ReturnFileError", "read_return"]
