"""The rest of the audit cycle, as optional files beside the returns (issue 6).

``DATA/<cycle>/`` may also hold:

- ``deep_dive.csv``: the mock JTAI deep dive: ``case_ref``, ``discussed`` (yes/no),
  ``reason_not_discussed``, ``themes``, ``action_required`` (yes/no). The cases listed
  are the ones flagged for the deep dive.
- ``learning_event.csv``: the learning event's Signs of Safety three columns:
  ``kloe`` (its number, ``KLOE 3`` or its key), ``column`` (``well``, ``worried`` or
  ``next``), ``text``.
- ``family_feedback.csv``: ``case_ref``, ``invited`` (yes/no), ``responded`` (yes/no).

Each is read with the same rules as ``cases.csv`` (headers ignoring case, spaces and
underscores; UTF-8 or Windows-1252) and every row lands in its table or in the cycle's
rejection log with file, row, reason and value.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from audit_analysis.exceptions import RejectionCode
from audit_analysis.io.frameworks import Framework
from audit_analysis.io.returns import (
    CsvRowError,
    ReturnFileError,
    read_table_csv,
    special_file_reason,
)
from audit_analysis.io.schemas import rejection
from audit_analysis.io.text import header_key
from audit_analysis.paths import write_file

__all__ = [
    "COLUMNS",
    "COLUMN_TITLES",
    "CycleRecords",
    "DEEP_DIVE",
    "DEEP_DIVE_COLUMNS",
    "FAMILY_FEEDBACK",
    "FEEDBACK_COLUMNS",
    "LEARNING_COLUMNS",
    "LEARNING_EVENT",
    "NO",
    "RECORDS_FOLDER",
    "YES",
    "read_records",
    "write_blank_records",
]


DEEP_DIVE = "deep_dive.csv"
LEARNING_EVENT = "learning_event.csv"
FAMILY_FEEDBACK = "family_feedback.csv"

YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}
COLUMNS = {
    "well": "well",
    "doingwell": "well",
    "whatarewedoingwell": "well",
    "worried": "worried",
    "worriedabout": "worried",
    "whatareweworriedabout": "worried",
    "next": "next",
    "whatneedstohappen": "next",
    "needstohappen": "next",
}
COLUMN_TITLES = {
    "well": "What are we doing well?",
    "worried": "What are we worried about?",
    "next": "What needs to happen?",
}

DEEP_DIVE_COLUMNS = ["case_ref", "discussed", "reason_not_discussed", "themes", "action_required"]
LEARNING_COLUMNS = ["kloe", "kloe_key", "column", "text", "source_row"]
FEEDBACK_COLUMNS = ["case_ref", "invited", "responded"]


@dataclass(frozen=True)
class CycleRecords:
    deep_dive: pd.DataFrame
    learning_event: pd.DataFrame
    family_feedback: pd.DataFrame


def _case_of(row: dict, number: int, known: dict, seen: dict, reject) -> str | None:
    """The case a row of a per-case file names, as ``cases.csv`` spells it; None, with
    the row rejected, when the case is unknown or was listed on an earlier row."""
    ref = known.get(row.get("caseref", "").casefold())
    if ref is None:
        reject(number, "unknown case: not in cases.csv", row.get("caseref"))
        return None
    if ref in seen:
        reject(number, f"case {ref} is listed twice (first on row {seen[ref]})", ref)
        return None
    return ref


def _yes_no(value: str) -> bool | None:
    key = value.strip().casefold().rstrip(".")
    if key in YES:
        return True
    if key in NO:
        return False
    return None


def _table(path: Path, required: list[str], reject) -> list[tuple[int, dict[str, str]]]:
    """Rows of an optional CSV as {column: text}; [] when the file is absent. A link, a
    pipe or a device in its place is rejected whole, never followed or opened."""
    if not os.path.lexists(path):
        return []
    special = special_file_reason(path)
    if special is not None:
        reject(None, special, None)
        return []
    try:
        header, rows = read_table_csv(path)
    except ReturnFileError as exc:
        reject(None, exc.reason, None)
        return []
    except OSError as exc:
        reject(None, f"cannot open the file ({exc.strerror or exc})", None)
        return []
    keys = [header_key(h) for h in header]
    missing = [c for c in required if header_key(c) not in keys]
    if missing:
        reject(
            None, "header row lacks the column(s) " + ", ".join(missing), ", ".join(header)[:200]
        )
        return []
    index = {k: j for j, k in reversed(list(enumerate(keys)))}
    out = []
    for item in rows:
        if item.__class__ is CsvRowError:
            reject(item.row, item.reason, None)
            continue
        number, cells = item
        out.append(
            (number, {k: (cells[j].strip() if j < len(cells) else "") for k, j in index.items()})
        )
    return out


def read_records(
    folder: Path, case_refs: set[str], framework: Framework, rejections: list[dict]
) -> CycleRecords:
    """Read the three optional files of a cycle folder, logging every rejected row."""
    known = {c.casefold(): c for c in case_refs}

    def rejecter(name: str):
        def reject(row: int | None, reason: str, value: object) -> None:
            rejections.append(rejection(name, row, RejectionCode.RECORD, reason, value))

        return reject

    # deep dive
    reject = rejecter(DEEP_DIVE)
    deep, seen = [], {}
    for number, row in _table(folder / DEEP_DIVE, ["case_ref", "discussed"], reject):
        ref = _case_of(row, number, known, seen, reject)
        if ref is None:
            continue
        discussed = _yes_no(row.get("discussed", ""))
        if discussed is None:
            reject(number, "discussed must be yes or no", row.get("discussed"))
            continue
        action_text = row.get("actionrequired", "")
        action = _yes_no(action_text) if action_text else False
        if action is None:
            reject(number, "action_required must be yes or no", action_text)
            continue
        seen[ref] = number
        deep.append(
            {
                "case_ref": ref,
                "discussed": discussed,
                "reason_not_discussed": row.get("reasonnotdiscussed", "") or None,
                "themes": row.get("themes", "") or None,
                "action_required": action,
            }
        )

    # learning event
    reject = rejecter(LEARNING_EVENT)
    by_number = {k.number: k for k in framework.kloes}
    by_key = {k.key: k for k in framework.kloes}
    learning = []
    for number, row in _table(folder / LEARNING_EVENT, ["kloe", "column", "text"], reject):
        raw_kloe = row.get("kloe", "")
        match = re.fullmatch(r"(?:kloe)?\s*(\d+)", raw_kloe.strip(), flags=re.I)
        kloe = (
            by_number.get(int(match.group(1))) if match else by_key.get(raw_kloe.strip().casefold())
        )
        if kloe is None:
            reject(
                number,
                f"unknown KLOE: the {framework.cycle} framework has KLOEs "
                f"1 to {len(framework.kloes)}",
                raw_kloe,
            )
            continue
        column = COLUMNS.get(re.sub(r"[^a-z]", "", row.get("column", "").casefold()))
        if column is None:
            reject(number, "column must be well, worried or next", row.get("column"))
            continue
        text = row.get("text", "")
        if not text:
            reject(number, "no text", None)
            continue
        learning.append(
            {
                "kloe": kloe.number,
                "kloe_key": kloe.key,
                "column": column,
                "text": text,
                "source_row": number,
            }
        )

    # family feedback
    reject = rejecter(FAMILY_FEEDBACK)
    feedback, seen = [], {}
    for number, row in _table(
        folder / FAMILY_FEEDBACK, ["case_ref", "invited", "responded"], reject
    ):
        ref = _case_of(row, number, known, seen, reject)
        if ref is None:
            continue
        invited, responded = _yes_no(row.get("invited", "")), _yes_no(row.get("responded", ""))
        if invited is None or responded is None:
            reject(
                number,
                "invited and responded must be yes or no",
                f"{row.get('invited', '')}/{row.get('responded', '')}",
            )
            continue
        if responded and not invited:
            reject(number, "responded is yes but invited is no", ref)
            continue
        seen[ref] = number
        feedback.append({"case_ref": ref, "invited": invited, "responded": responded})

    return CycleRecords(
        deep_dive=pd.DataFrame(deep, columns=DEEP_DIVE_COLUMNS),
        learning_event=pd.DataFrame(learning, columns=LEARNING_COLUMNS),
        family_feedback=pd.DataFrame(feedback, columns=FEEDBACK_COLUMNS),
    )


RECORDS_FOLDER = "cycle-records"


def write_blank_records(folder: Path, force: bool = False) -> list[Path]:
    """Header-only ``deep_dive.csv``, ``learning_event.csv`` and ``family_feedback.csv``
    for the QA group to fill in and copy into the cycle's folder. Existing files are
    kept unless ``force``. Returns the files written."""
    headers = {
        DEEP_DIVE: DEEP_DIVE_COLUMNS,
        LEARNING_EVENT: ["kloe", "column", "text"],
        FAMILY_FEEDBACK: FEEDBACK_COLUMNS,
    }
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, header in headers.items():
        path = folder / name
        if path.exists() and not force:
            continue
        write_file(path, ",".join(header) + "\n")
        written.append(path)
    return written


read_optional_table = _table
"""Rows of an optional CSV of a cycle folder as ``(row number, {header key: text})``;
nothing when the file is absent; a file-level problem is one call of ``reject``."""
