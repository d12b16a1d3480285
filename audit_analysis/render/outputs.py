"""Writing tables for people to open: CSV that a spreadsheet cannot run as a formula.

Two guards, each enough on its own for Excel and LibreOffice: every field is quoted, so
a line break inside a cell stays inside it; and text that a spreadsheet would run as a
formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, or their
full-width forms) is prefixed with an apostrophe, at the start of the cell and after
every line break in it, for any reader that splits lines itself. Files are created
owner-only (0600): a table can name cases.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

from audit_analysis.paths import open_private, private_folder

__all__ = ["neutralise_formula", "safe_csv_frame", "write_csv"]


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
    field quoted, the file owner-only (0600)."""
    path = Path(path)
    private_folder(path.parent)
    with open_private(path, "w", encoding="utf-8-sig", newline="") as fh:
        safe_csv_frame(frame).to_csv(fh, index=False, lineterminator="\n", quoting=csv.QUOTE_ALL)
    return path
