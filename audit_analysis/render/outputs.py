"""Writing tables for people to open: CSV that a spreadsheet cannot run as a formula.

Two guards, each enough on its own for Excel and LibreOffice: every field is quoted, so
a line break inside a cell stays inside it; and text that a spreadsheet would run as a
formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, or their
full-width forms) is prefixed with an apostrophe, at the start of the cell and after
every line break in it, for any reader that splits lines itself. Files are created
owner-only (0600): a table can name cases.

Numbers are published to a stated precision, :data:`SIGNIFICANT_DIGITS` significant
digits (``0.173833``, not ``0.173832780688295``): whole numbers (counts) exactly, every
other number rounded. Six digits are far beyond what any figure of the audit can bear,
read better in Excel, and make the same inputs give the same file on any machine but for
the rare value whose sixth digit sits on a rounding boundary (summation order differs in
its last bits between CPUs and BLAS builds).
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pandas as pd

from audit_analysis.paths import open_private, private_folder

__all__ = [
    "SIGNIFICANT_DIGITS",
    "neutralise_formula",
    "published_number",
    "safe_csv_frame",
    "write_csv",
]

SIGNIFICANT_DIGITS = 6


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
# A line break followed by a character that would start a formula on a line of its own.
_AFTER_BREAK = re.compile(r"([\r\n])(?=[=+\-@\t＝＋－＠])")


def neutralise_formula(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe (OWASP),
    at its start and after every line break in it."""
    if isinstance(value, str):
        if "\r" in value or "\n" in value:
            value = _AFTER_BREAK.sub(r"\1'", value)
        if value.startswith(_FORMULA_START):
            return "'" + value
    return value


def published_number(value: float) -> str:
    """A number as the published tables write it: a whole number exactly (a count stays a
    count, whatever its size), any other to :data:`SIGNIFICANT_DIGITS` significant digits."""
    if not math.isfinite(value):
        return "" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.{SIGNIFICANT_DIGITS}g}"


def safe_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot start a formula; numbers are left as numbers."""
    out = frame.copy()
    for column in out.columns:
        if not (
            pd.api.types.is_numeric_dtype(out[column]) or pd.api.types.is_bool_dtype(out[column])
        ):
            out[column] = out[column].map(neutralise_formula, na_action="ignore")
    out.columns = [neutralise_formula(str(c)) for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as UTF-8 CSV (with BOM, so Excel reads accents), formula-safe, every
    field quoted, numbers to :data:`SIGNIFICANT_DIGITS` significant digits
    (:func:`published_number`), the file owner-only (0600)."""
    path = Path(path)
    private_folder(path.parent)
    with open_private(path, "w", encoding="utf-8-sig", newline="") as fh:
        safe_csv_frame(frame).to_csv(
            fh,
            index=False,
            lineterminator="\n",
            quoting=csv.QUOTE_ALL,
            float_format=published_number,
        )
    return path
