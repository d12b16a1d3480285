"""Golden tables compared as tables, not as bytes, so that they hold on any machine.

The published CSVs carry numbers to six significant digits
(``audit_analysis.render.outputs.SIGNIFICANT_DIGITS``); a sum taken in another order on
another CPU can move a value's last bits, and that can move a rounded sixth digit by one.
So two tables are the same when their headers and text cells are equal exactly and every
cell that reads as a number on both sides is within :data:`REL_TOL` of the other (one
unit in the sixth significant digit) or within :data:`ABS_TOL` of it (a value that is
zero on one machine and 1e-17 on another). A change of result on purpose is recorded by
regenerating the golden tables (``UPDATE_GOLDEN=1``) and saying why in the commit::

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_sections.py -k rendering_every

(the demo's annual run, by the installed wheel in ``tests/test_install.py``, is compared
with the same tables, and refreshes them too under ``UPDATE_GOLDEN=1``).
"""

from __future__ import annotations

import csv
import math
import os
import shutil
from pathlib import Path

__all__ = ["ABS_TOL", "REL_TOL", "compare_folders", "compare_tables", "read_table", "refresh"]

REL_TOL = 1e-5
ABS_TOL = 1e-9


def read_table(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    x, y = _number(a), _number(b)
    if x is None or y is None:
        return False
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return math.isclose(x, y, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def compare_tables(name: str, got: list[list[str]], expected: list[list[str]]) -> list[str]:
    """Every difference between two tables, each naming the table, the row (its number
    among the data rows and its first cell) and the column."""
    if not expected or not got:
        return [] if got == expected else [f"{name}: one of the tables is empty"]
    if got[0] != expected[0]:
        return [f"{name}: columns {got[0]} != {expected[0]}"]
    header = expected[0]
    problems = []
    if len(got) != len(expected):
        problems.append(f"{name}: {len(got) - 1} rows != {len(expected) - 1}")
    for i, (row, want) in enumerate(zip(got[1:], expected[1:], strict=False), start=1):
        if len(row) != len(want):
            problems.append(f"{name} row {i}: {len(row)} cells != {len(want)}")
            continue
        for column, a, b in zip(header, row, want, strict=True):
            if not _same(a, b):
                problems.append(
                    f"{name} row {i} ({header[0]}={want[0]!r}) column {column!r}: {a!r} != {b!r}"
                )
    return problems


def compare_folders(got: Path, golden: Path) -> list[str]:
    """Every difference between the CSV tables of two folders, by file name."""
    mine = {p.name: p for p in got.glob("*.csv")}
    theirs = {p.name: p for p in golden.glob("*.csv")}
    problems = [f"{n}: not written" for n in sorted(theirs.keys() - mine.keys())]
    problems += [f"{n}: not in the golden tables" for n in sorted(mine.keys() - theirs.keys())]
    for n in sorted(mine.keys() & theirs.keys()):
        problems += compare_tables(n, read_table(mine[n]), read_table(theirs[n]))
    return problems


def refresh(got: Path, golden: Path) -> None:
    """With ``UPDATE_GOLDEN`` set, make ``golden`` a copy of the tables in ``got``."""
    if not os.environ.get("UPDATE_GOLDEN"):
        return
    if golden.exists():
        shutil.rmtree(golden)
    golden.mkdir(parents=True)
    for p in sorted(got.glob("*.csv")):
        shutil.copyfile(p, golden / p.name)
