"""``load_cycle``: a cycle's folder of audit returns into tidy, validated tables.

The rules are docs/data-contract.md's. Every standard row read from a return lands in exactly one
of ``ratings`` or ``rejections``; a file that cannot be used is one rejection and takes
no other file down with it. The case-identifier crosswalk of ``cases.csv`` is used here
to resolve case IDs and never leaves this module.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from audit_analysis.exceptions import AuditDataError, CycleNotFoundError, RejectionCode
from audit_analysis.io import schemas
from audit_analysis.io.agencies import resolve_agency
from audit_analysis.io.cycles import DataFolder, audit_key, normalise_cycle, parse_cycle
from audit_analysis.io.development import Development, earlier_items, later_ids, read_development
from audit_analysis.io.frameworks import Framework, load_framework
from audit_analysis.io.labels import LABELS_FILE, Labels, activate, load_labels, package_labels
from audit_analysis.io.ratings import BUILTIN, NOT_APPLICABLE, NOT_RECORDED, Scale, scale_for
from audit_analysis.io.records import read_records
from audit_analysis.io.returns import (
    CsvRowError,
    RawRow,
    ReturnFile,
    ReturnFileError,
    classify,
    parse_sheets,
    read_return,
    read_table_csv,
    special_file_reason,
)
from audit_analysis.io.schemas import rejection
from audit_analysis.io.text import (
    cell_text,
    header_key,
    identifier_key,
    is_blank,
    lookalike_key,
    or_list,
    scripts,
)
from audit_analysis.io.workbooks import Budgets, Parsed, WorkbookRefused, read_isolated

__all__ = [
    "CASES_FILE",
    "CycleData",
    "RETURNS_DIR",
    "case_identifiers",
    "find_cycle_folder",
    "load_cycle",
    "parse_standard_number",
    "read_cases",
]


CASES_FILE = "cases.csv"
RETURNS_DIR = "returns"
_STANDARD = re.compile(r"^(?:s|std|standard)?\s*\.?\s*(\d{1,3})(?:\.0+)?$")


@dataclass(frozen=True)
class CycleData:
    """What :func:`load_cycle` gives back. See docs/data-contract.md for each table's columns."""

    cycle: str
    framework: Framework
    ratings: pd.DataFrame
    cases: pd.DataFrame
    returns: pd.DataFrame
    rejections: pd.DataFrame
    folder: Path
    # The optional records of the rest of the cycle (records.py); empty when absent.
    deep_dive: pd.DataFrame | None = None
    learning_event: pd.DataFrame | None = None
    family_feedback: pd.DataFrame | None = None
    # Areas for development, progress and recommendations (development.py).
    development: Development | None = None
    # The rating scale the audit was rated on (ratings.py, docs/own-scale.md).
    scale: Scale = BUILTIN


def parse_standard_number(value: object) -> int | None:
    """``14``, ``14.0``, ``S14`` and ``Standard 14`` are standard 14; else None."""
    if value.__class__ is float:  # how a workbook's numbers arrive: the fast path
        return int(value) if value.is_integer() and value > 0 else None
    if value.__class__ is str:
        return _standard_in_text(value)
    if isinstance(value, bool) or is_blank(value):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value > 0 else None
    match = _STANDARD.match(cell_text(value).replace("\xa0", " ").strip().casefold())
    if not match:
        return None
    number = int(match.group(1))
    return number if number > 0 else None


@lru_cache(maxsize=1024)
def _standard_in_text(text: str) -> int | None:
    if not text.strip():
        return None
    match = _STANDARD.match(text.replace("\xa0", " ").strip().casefold())
    if not match:
        return None
    number = int(match.group(1))
    return number if number > 0 else None


def find_cycle_folder(data_dir: str | Path, cycle: str) -> Path:
    """``DATA/<cycle>``, by its canonical name alone (:class:`DataFolder`): a folder
    spelling the cycle otherwise (``2018-2019``, ``2018-19-old``) is named in the error,
    never read instead, and a link is not followed."""
    return DataFolder.scan(data_dir).folder(cycle)


# --------------------------------------------------------------------------- cases


class _Crosswalk:
    """Case identifiers -> case_ref, per scheme and across all schemes."""

    def __init__(self) -> None:
        self.schemes: dict[str, dict[str, set[str]]] = {"caseref": {}}
        self.names: dict[str, str] = {"caseref": "case_ref"}

    def add(self, scheme: str, identifier: object, case_ref: str) -> None:
        key = identifier_key(identifier)
        if key:
            self.schemes.setdefault(scheme, {}).setdefault(key, set()).add(case_ref)

    def scheme_for(self, type_text: object) -> str | None:
        key = header_key(type_text)
        for candidate in (key, key + "id", key.removesuffix("id"), key.removesuffix("number")):
            if candidate in self.schemes:
                return candidate
        return None

    def resolve(self, case_id: object, case_id_type: object) -> tuple[str | None, str | None]:
        """(case_ref, None) or (None, reason)."""
        shown = cell_text(case_id).strip()
        if is_blank(case_id):
            return None, "no case ID"
        key = identifier_key(case_id)
        if not is_blank(case_id_type):
            scheme = self.scheme_for(case_id_type)
            if scheme is None:
                known = ", ".join(self.names[s] for s in self.schemes)
                return None, (
                    f"case ID type {cell_text(case_id_type)!r} is not a column of "
                    f"cases.csv (known: {known})"
                )
            matches = self.schemes[scheme].get(key, set())
            where = f"in {self.names[scheme]}"
        else:
            matches = set().union(*(ids.get(key, set()) for ids in self.schemes.values()))
            where = "in any identifier column"
        if not matches:
            return None, f"case ID {shown!r} matches no case in cases.csv ({where})"
        if len(matches) > 1:
            return None, (
                f"case ID {shown!r} is ambiguous: it matches cases "
                f"{', '.join(sorted(matches))} ({where}); give an unambiguous ID or its type"
            )
        return next(iter(matches)), None


def read_cases(
    folder: Path, rejections: list[dict], labels: Labels | None = None
) -> tuple[pd.DataFrame, _Crosswalk]:
    """The cohort of ``folder``'s ``cases.csv``; each priority is checked against
    ``labels``' themes (default: the package's), a case with another kept with none."""
    labels = labels or package_labels()
    path = folder / CASES_FILE
    special = special_file_reason(path) if os.path.lexists(path) else None
    if special is not None:
        raise CycleNotFoundError(f"{CASES_FILE} is not read: {special}", file=str(path))
    if not path.is_file():
        raise CycleNotFoundError(f"no {CASES_FILE}: the cohort is needed", file=str(folder))
    try:
        header, rows = read_table_csv(path)
        columns = [header_key(h) for h in header]
        if "caseref" not in columns:
            raise ReturnFileError(
                "no 'case_ref' column in the header row", value=", ".join(header)[:200]
            )
        table = list(rows)
    except (ReturnFileError, OSError) as exc:
        reason = getattr(exc, "reason", str(exc))
        raise CycleNotFoundError(
            reason, file=str(path), value=getattr(exc, "value", None)
        ) from None

    crosswalk = _Crosswalk()
    index = {name: j for j, name in reversed(list(enumerate(columns)))}
    scheme_columns = [
        (j, name)
        for j, name in enumerate(columns)
        if name not in ("caseref", "priority", "age") and name
    ]
    for j, name in scheme_columns:
        crosswalk.names.setdefault(name, header[j].strip())
        crosswalk.schemes.setdefault(name, {})
    records: list[dict] = []
    seen: dict[str, int] = {}

    def cell(cells: list[str], name: str) -> str:
        j = index.get(name)
        return cells[j].strip() if j is not None and j < len(cells) else ""

    LEFT_OUT = RejectionCode.CASE_LEFT_OUT

    def reject(number: int, reason: str, value: object, code: RejectionCode) -> None:
        rejections.append(rejection(CASES_FILE, number, code, reason, value))

    for item in table:
        if item.__class__ is CsvRowError:
            # Never the line's text: cases.csv holds the children's identifiers.
            reject(item.row, f"{item.reason}; the row is left out", None, LEFT_OUT)
            continue
        number, cells = item
        ref = cell(cells, "caseref")
        if not ref:
            # Only the row number: the rest of the row is the child's identifiers.
            reject(number, "row has no case_ref; the case is left out", None, LEFT_OUT)
            continue
        if any(unicodedata.category(ch)[0] == "C" for ch in ref):
            reject(
                number,
                "case_ref holds a control or invisible character; the case is left out",
                ref,
                LEFT_OUT,
            )
            continue
        if ref.casefold() in seen:
            reject(
                number,
                f"duplicate case_ref {ref!r} (first on row {seen[ref.casefold()]}); "
                "this row is left out",
                ref,
                LEFT_OUT,
            )
            continue
        seen[ref.casefold()] = number
        written = cell(cells, "priority")
        priority = labels.theme(written) if written else ""
        if written and priority is None:
            named = f" ({LABELS_FILE})" if labels is not package_labels() else ""
            reject(
                number,
                f"case {ref}: priority is not one of "
                f"{', '.join(labels.priorities)}{named}; the case is kept with no priority",
                written,
                RejectionCode.CASE_FIELD,
            )
            priority = ""
        age_text = cell(cells, "age")
        age = None
        if age_text:
            try:
                age_value = float(age_text)
                if not age_value.is_integer() or not 0 <= age_value <= 30:
                    raise ValueError
                age = int(age_value)
            except ValueError:
                reject(
                    number,
                    f"case {ref}: age is not a whole number of years from 0 to 30; "
                    "the case is kept with no age",
                    age_text,
                    RejectionCode.CASE_FIELD,
                )
        records.append({"case_ref": ref, "priority": priority or None, "age": age, "row": number})
        crosswalk.add("caseref", ref, ref)
        for j, name in scheme_columns:
            if j < len(cells):
                crosswalk.add(name, cells[j], ref)
    _flag_lookalikes(records, reject)
    cases = pd.DataFrame(records, columns=["case_ref", "priority", "age"])
    cases = cases.astype({"case_ref": "str", "priority": "str", "age": "Int64"})
    return cases, crosswalk


def case_identifiers(folder: str | Path) -> frozenset[str]:
    """Every value of the case identifier columns of ``folder``'s ``cases.csv``
    (``case_ref`` and each identifier column, such as ``carefirst_id`` or ``initials``;
    not ``priority`` or ``age``), rows that were left out included: what a quote of
    evidence must not carry (:func:`audit_analysis.analysis.phrases.scrub`). Only the
    values: which case each belongs to never leaves this module. Empty when there is no
    readable ``cases.csv``."""
    path = Path(folder) / CASES_FILE
    if not path.is_file() or special_file_reason(path) is not None:
        return frozenset()
    try:
        header, rows = read_table_csv(path)
        keep = [j for j, h in enumerate(header) if header_key(h) not in ("priority", "age", "")]
        values = set()
        for item in rows:
            if item.__class__ is CsvRowError:
                continue
            _number, cells = item
            values.update(cells[j].strip() for j in keep if j < len(cells) and cells[j].strip())
    except (ReturnFileError, OSError):
        return frozenset()
    return frozenset(values)


def _flag_lookalikes(records: list[dict], reject) -> None:
    """A ``case_ref`` easily taken for another one (``С01`` in Cyrillic beside ``C01``,
    fullwidth ``Ｃ01``) or mixing scripts is flagged (``case-lookalike``); the case is
    kept, since which one is meant is for the QA group to say."""
    first: dict[str, dict] = {}
    plain = [r for r in records if lookalike_key(r["case_ref"]) == r["case_ref"].casefold()]
    for record in plain + records:  # a plain spelling is the one others look like
        first.setdefault(lookalike_key(record["case_ref"]), record)
    for record in records:
        ref = record["case_ref"]
        other = first[lookalike_key(ref)]
        found = scripts(ref)
        if other is not record:
            reason = (
                f"case_ref {ref!r} looks like {other['case_ref']!r} (row {other['row']}) but "
                f"is different text ({', '.join(sorted(found)) or 'no letters'}); the case "
                "is kept: check which reference is meant"
            )
        elif len(found) > 1:
            reason = (
                f"case_ref {ref!r} mixes the scripts {', '.join(sorted(found))}; the case "
                "is kept: check it was typed as meant"
            )
        elif found and found != {"LATIN"} and lookalike_key(ref).isascii():
            reason = (
                f"case_ref {ref!r} is written in {', '.join(sorted(found))} letters that look "
                "like Latin ones; the case is kept: check it was typed as meant"
            )
        else:
            continue
        reject(record["row"], reason, ref, RejectionCode.CASE_LOOKALIKE)


# --------------------------------------------------------------------------- returns


class _Raise:
    """An exception met while preparing a file, raised at the file's turn."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc


class _Prepared(NamedTuple):
    """:meth:`_Loader.prepare`'s work on a bulk table: its header read (or why it could
    not be), and its rows judged (None when left for the file's turn)."""

    parsed: ReturnFile | None
    error: Exception | None
    judged: _Ahead | _Raise | None


class _Ahead(list):
    """A bulk table's judged rows (:meth:`_Loader._judge`'s items, in order), with what
    keeping them takes made ready where no other file matters: each rating's key
    (agency, case, standard), where it stands (file, row) and its row of the ratings
    table, the rejections, and whether two ratings share a key. At the table's turn,
    when no earlier file rated any of its keys and none repeats, they are kept in one
    step (:meth:`_Loader._keep_ahead`): the same tables as :meth:`_Loader._keep`."""

    def __init__(self, judged: Iterable[tuple | dict], cycle: str, rel: str) -> None:
        super().__init__(judged)
        ratings = [item for item in self if item.__class__ is not dict]
        self.keys = [(item[1], item[2], item[4]) for item in ratings]
        self.places = [(rel, item[0]) for item in ratings]
        self.rows = [(cycle, *item[1:8], rel, item[0]) for item in ratings]
        self.logged = [item for item in self if item.__class__ is dict]
        self.repeats = len(set(self.keys)) < len(self.keys)
        self.agencies = {key[0] for key in self.keys}
        self.cases = {key[1] for key in self.keys}


class _Loader:
    def __init__(
        self,
        data_dir: Path,
        folder: Path,
        framework: Framework,
        crosswalk: _Crosswalk,
        scale: Scale = BUILTIN,
    ):
        self.data_dir = data_dir
        self.scale = scale
        self.folder = folder
        self.framework = framework
        self.crosswalk = crosswalk
        self.ratings: list[dict] = []
        self.returns: list[dict] = []
        self.rejections: list[dict] = []
        self.kept: dict[tuple[str, str, int], tuple[str, int]] = {}
        self.frameworks: dict[str, Framework] = {framework.cycle: framework}
        self._agencies: dict[tuple[type, object], str | None] = {}
        self._cases: dict[tuple, tuple[str | None, str | None]] = {}
        self._rating_of: dict[object, str] = {None: NOT_RECORDED}
        self._agency_text: dict[str, str | None] = {}
        self._case_text: dict[str, tuple[str | None, str | None]] = {}
        self._targets_of: dict[str, tuple[Framework, dict[int, tuple[int, int, str]]]] = {}

    @property
    def _expected(self) -> str:
        scale = self.scale
        return or_list([scale.label(c).lower() for c in (*scale.best_first, NOT_APPLICABLE)])

    # -- helpers
    def reject(
        self, source: str, row: int | None, reason: str, value: object, code: RejectionCode
    ) -> None:
        self.rejections.append(rejection(source, row, code, reason, value))

    def _agency_of(self, name: object) -> str | None:
        """:func:`resolve_agency`, remembered per cell value (bulk rows repeat them)."""
        key = (name.__class__, name)
        if key not in self._agencies:
            self._agencies[key] = resolve_agency(name)
        return self._agencies[key]

    def _case_of(self, case_id: object, case_id_type: object) -> tuple[str | None, str | None]:
        """The crosswalk's answer, remembered per pair of cell values."""
        key = (case_id.__class__, case_id, case_id_type.__class__, case_id_type)
        if key not in self._cases:
            self._cases[key] = self.crosswalk.resolve(case_id, case_id_type)
        return self._cases[key]

    def template(self, version: object) -> Framework | None:
        cycle = parse_cycle(version)
        if cycle is None:
            return None
        if cycle not in self.frameworks:
            try:
                self.frameworks[cycle] = load_framework(cycle, self.data_dir)
            except AuditDataError:
                return None
        return self.frameworks[cycle]

    # -- one file
    def load_file(
        self,
        path: Path,
        sheets: list | WorkbookRefused | Parsed | None = None,
        rel: str | None = None,
        special: str | None = None,
        prepared: _Prepared | None = None,
    ) -> None:
        """Load the file at ``path``; ``sheets`` is a workbook's cells already read (or
        why it was refused), ``special`` why the entry is no file to read at all,
        ``prepared`` what :meth:`prepare` made of a bulk table beforehand. A workbook
        comes as its sheets, or as the child parsed them (:class:`Parsed`)."""
        rel = rel or path.relative_to(self.folder).as_posix()
        record = {
            "source_file": rel,
            "agency": None,
            "case_ref": None,
            "form": "skipped",
            "template_version": None,
            "status": "skipped",
            "rows": 0,
        }
        self.returns.append(record)
        if special is not None or classify(path) == "skipped":
            return
        try:
            if isinstance(sheets, WorkbookRefused):
                raise ReturnFileError(sheets.reason)
            if isinstance(sheets, Parsed):  # the child found the table (workbooks._parse)
                if sheets.error is not None:
                    reason, sheet, value = sheets.error
                    raise ReturnFileError(reason, sheet=sheet, value=value)
                form, sheet, header, has_agency_column, rows = sheets.fields
                parsed = ReturnFile(form, sheet, iter(rows), header, has_agency_column)
            elif prepared is not None:
                if prepared.error is not None:
                    raise prepared.error
                parsed = prepared.parsed
            else:
                parsed = read_return(path) if sheets is None else parse_sheets(sheets)
        except ReturnFileError as exc:
            record["form"] = "bulk" if path.suffix.lower() == ".csv" else "toolkit"
            record["status"] = "rejected"
            where = f"sheet {exc.sheet!r}: " if exc.sheet else ""
            self.reject(rel, None, where + exc.reason, exc.value, RejectionCode.FILE)
            return
        except OSError as exc:
            record["status"] = "rejected"
            record["form"] = "bulk" if path.suffix.lower() == ".csv" else "toolkit"
            self.reject(
                rel, None, f"cannot open the file ({exc.strerror or exc})", None, RejectionCode.FILE
            )
            return
        record["form"] = parsed.form
        if parsed.form == "toolkit":
            self._toolkit(rel, parsed, record)
        else:
            self._bulk(rel, path, parsed, record, prepared.judged if prepared else None)

    def prepare(self, path: Path, rel: str) -> _Prepared:
        """The part of loading the CSV bulk table at ``path`` that depends on no other
        file (reading it, judging each row's agency, case, standard and rating), done
        ahead while the reader's child reads the workbooks that come before it. What
        depends on the files before it (duplicates, the log's order) is left to
        :meth:`load_file` at its turn, which gives the same tables as loading it then."""
        try:
            parsed = read_return(path)
        except (ReturnFileError, OSError) as exc:
            return _Prepared(None, exc, None)
        if parsed.form != "bulk":
            return _Prepared(parsed, None, None)
        where, folder_name, folder_agency = self._bulk_where(rel, parsed)
        if not parsed.has_agency_column and folder_agency is None:
            return _Prepared(parsed, None, None)  # refused whole at its turn, rows unread
        judged = self._judge_bulk(rel, parsed, where, folder_agency)
        try:
            return _Prepared(parsed, None, _Ahead(judged, self.framework.cycle, rel))
        except Exception as exc:  # noqa: BLE001 - raised at the file's turn, as it would be
            return _Prepared(parsed, None, _Raise(exc))

    def _toolkit(self, rel: str, parsed: ReturnFile, record: dict) -> None:
        where = f"sheet {parsed.sheet!r}: "
        head = parsed.header

        def whole(reason: str, value: object, code: RejectionCode) -> None:
            record["status"] = "rejected"
            self.reject(rel, None, where + reason, value, code)

        agency = self._agency_of(head["agency"])
        if agency is None:
            return whole(
                f"unknown agency {cell_text(head['agency'])!r}; name it by a code, full name "
                "or abbreviation from the agency register",
                head["agency"],
                RejectionCode.AGENCY,
            )
        record["agency"] = agency
        version = head.get("template_version")
        # A return belongs to the cycle of its folder: one made on a later cycle's template,
        # or saying a later audit cycle, is another year's return (its case C01 is another
        # child), rejected whole before its case is looked up.
        stated = parse_cycle(head.get("audit_cycle"))
        later = [
            (what, value, cycle)
            for what, value, cycle in (
                ("audit cycle", head.get("audit_cycle"), stated),
                ("template version", version, parse_cycle(version)),
            )
            if cycle is not None and audit_key(cycle) > audit_key(self.framework.cycle)
        ]
        if later:
            what, value, cycle = later[0]
            return whole(
                f"the return's {what} is {cycle}, later than the {self.framework.cycle} "
                f"folder it sits in: it belongs to {cycle}'s folder, and is not read as "
                f"a {self.framework.cycle} return",
                value,
                RejectionCode.WRONG_CYCLE,
            )
        template = self.framework if is_blank(version) else self.template(version)
        case_ref, case_problem = self._case_of(head["case_id"], head.get("case_id_type"))
        record["case_ref"] = case_ref
        if template is None:
            return whole(
                "unknown template version; expected a cycle with a framework, "
                "such as " + self.framework.cycle,
                version,
                RejectionCode.TEMPLATE,
            )
        record["template_version"] = template.cycle
        # A template carries its own year in 'Audit cycle': last year's form reused
        # unchanged says last year. Any other year means the return is in the wrong folder.
        if stated not in (None, self.framework.cycle, template.cycle):
            return whole(
                f"the return is for audit cycle {stated} but sits in the "
                f"{self.framework.cycle} folder",
                head.get("audit_cycle"),
                RejectionCode.TEMPLATE,
            )
        accepted = self._rows(
            rel,
            parsed.rows,
            where,
            template,
            agency,
            case_ref,
            case_problem,
            head["case_id"],
            record,
        )
        self._status(record, accepted, rel, where)

    @staticmethod
    def _bulk_where(rel: str, parsed: ReturnFile) -> tuple[str, str | None, str | None]:
        """(how a bulk table's rejections name where, the folder holding it under
        ``returns/`` if any, the agency that folder names)."""
        where = f"sheet {parsed.sheet!r}: " if parsed.sheet else ""
        parts = Path(rel).parts
        folder_name = parts[-2] if len(parts) >= 3 else None  # returns/<folder>/file
        return where, folder_name, resolve_agency(folder_name) if folder_name else None

    def _judge_bulk(
        self, rel: str, parsed: ReturnFile, where: str, folder_agency: str | None
    ) -> Iterator[tuple | dict]:
        """:meth:`_judge` on a bulk table's rows (each names its agency and case, or the
        folder names the agency), against this cycle's framework."""
        return self._judge(
            rel, parsed.rows, where, self.framework, None, None, None, None, True, folder_agency
        )

    def _bulk(
        self,
        rel: str,
        path: Path,
        parsed: ReturnFile,
        record: dict,
        judged: _Ahead | _Raise | None = None,
    ) -> None:
        where, folder_name, folder_agency = self._bulk_where(rel, parsed)
        if not parsed.has_agency_column and folder_agency is None:
            record["status"] = "rejected"
            reason = (
                "no agency column, and the folder holding the file does not name an agency"
                if folder_name is None
                else f"no agency column, and the folder name {folder_name!r} is no agency "
                "in the register"
            )
            self.reject(rel, None, where + reason, folder_name, RejectionCode.AGENCY)
            return
        record["template_version"] = self.framework.cycle
        if isinstance(judged, _Raise):
            raise judged.exc
        if judged is None:
            judged = self._judge_bulk(rel, parsed, where, folder_agency)
        if judged.__class__ is _Ahead and self._keep_ahead(judged, record):
            accepted = len(judged.rows)
            agencies, cases = set(judged.agencies), set(judged.cases)
        else:
            accepted = self._keep(rel, where, judged, record)
            agencies = {r[1] for r in self.ratings[len(self.ratings) - accepted :]}
            cases = {r[2] for r in self.ratings[len(self.ratings) - accepted :]}
        record["agency"] = agencies.pop() if len(agencies) == 1 else None
        record["case_ref"] = cases.pop() if len(cases) == 1 else None
        self._status(record, accepted, rel, where)

    def _status(self, record: dict, accepted: int, rel: str, where: str) -> None:
        if record["rows"] == 0:
            record["status"] = "rejected"
            self.reject(
                rel, None, where + "the standards table has no rows", None, RejectionCode.FILE
            )
        elif accepted == record["rows"]:
            record["status"] = "loaded"
        elif accepted == 0:
            record["status"] = "rejected"
        else:
            record["status"] = "partial"

    def _rows(
        self,
        rel: str,
        rows: Iterable[RawRow | CsvRowError],
        where: str,
        template: Framework,
        agency: str | None,
        case_ref: str | None,
        case_problem: str | None,
        case_id: object,
        record: dict,
        folder_agency: str | None = None,
    ) -> int:
        judged = self._judge(
            rel,
            rows,
            where,
            template,
            agency,
            case_ref,
            case_problem,
            case_id,
            record["form"] == "bulk",
            folder_agency,
        )
        return self._keep(rel, where, judged, record)

    def _keep(self, rel: str, where: str, judged: Iterable[tuple | dict], record: dict) -> int:
        """The part of loading a file's rows that depends on the files before it, in
        order: each judged row is a rejection (its log line) or a rating, kept unless an
        earlier row rated the same agency, case and standard (the first is kept)."""
        accepted = counted = 0
        cycle = self.framework.cycle
        kept = self.kept
        ratings = self.ratings
        log = self.rejections.append
        for item in judged:
            counted += 1
            if item.__class__ is dict:
                log(item)
                continue
            (
                row,
                row_agency,
                row_case,
                kloe,
                standard_number,
                standard_key,
                rating,
                evidence,
                cell,
            ) = item
            key = (row_agency, row_case, standard_number)
            earlier = kept.get(key)
            if earlier is not None:
                kept_file, kept_row = earlier
                self.reject(
                    rel,
                    row,
                    where + f"duplicate: {row_agency} already rated case {row_case} standard "
                    f"{standard_number} in {kept_file} row {kept_row}, which is kept",
                    cell,
                    RejectionCode.DUPLICATE,
                )
                continue
            kept[key] = (rel, row)
            ratings.append(
                (
                    cycle,
                    row_agency,
                    row_case,
                    kloe,
                    standard_number,
                    standard_key,
                    rating,
                    evidence,
                    rel,
                    row,
                )
            )
            accepted += 1
        record["rows"] += counted
        return accepted

    def _keep_ahead(self, ahead: _Ahead, record: dict) -> bool:
        """:meth:`_keep` of a bulk table judged ahead, in one step, when none of its
        ratings is a duplicate (no key repeats in it, nor was rated by an earlier file):
        True when so kept; False, and nothing done, for :meth:`_keep` to go row by row."""
        if ahead.repeats or not self.kept.keys().isdisjoint(ahead.keys):
            return False
        self.kept.update(zip(ahead.keys, ahead.places, strict=True))
        self.ratings.extend(ahead.rows)
        for line in ahead.logged:  # the file's rejections, in row order
            self.rejections.append(line)
        record["rows"] += len(ahead)
        return True

    def _judge(
        self,
        rel: str,
        rows: Iterable[RawRow | CsvRowError],
        where: str,
        template: Framework,
        agency: str | None,
        case_ref: str | None,
        case_problem: str | None,
        case_id: object,
        bulk: bool,
        folder_agency: str | None = None,
    ) -> Iterator[tuple | dict]:
        """The part of loading a file's rows that depends on nothing loaded before it:
        one item per row counted (a note or a row with no standard content is not), a
        rejection's log line (dict) or a rating's (row, agency, case_ref, kloe, number,
        key, rating, evidence, the rating's cell) for :meth:`_keep` to keep in order."""
        cycle_fw = self.framework
        agency_of = self._agency_of
        case_of = self._case_of
        # _agency_of's and _case_of's answers for a text cell (and no case ID type), looked
        # up here without a call: a bulk table asks them on every row
        agency_text = self._agency_text
        case_text = self._case_text
        rating_of = self._rating_of
        targets = self._targets(template)
        for raw in rows:
            if raw.__class__ is CsvRowError:
                yield rejection(rel, raw.row, RejectionCode.ROW, raw.reason, None)
                continue
            row, standard_cell, rating_cell, evidence, agency_cell, case_cell, type_cell = raw
            if (
                standard_cell.__class__ is float
                and standard_cell.is_integer()
                and standard_cell > 0
            ):
                number = int(standard_cell)  # parse_standard_number's fast path, inline
            elif standard_cell.__class__ is str:
                number = _standard_in_text(standard_cell)  # as parse_standard_number does
            else:
                number = parse_standard_number(standard_cell)
            if (
                number is None
                and rating_cell is None
                and (standard_cell is not None or evidence is None)
            ):
                continue  # a note (text, no rating), or a row with no standard content
            # Who and which case (bulk: per row; toolkit: the header block).
            row_agency, row_case, problem, problem_value = agency, case_ref, case_problem, case_id
            if bulk:
                if agency_cell is None:
                    row_agency = folder_agency
                    if row_agency is None:
                        yield rejection(
                            rel, row, RejectionCode.AGENCY, where + "no agency on this row", None
                        )
                        continue
                else:
                    row_agency = (
                        agency_text.get(agency_cell, _UNSEEN)
                        if agency_cell.__class__ is str
                        else _UNSEEN
                    )
                    if row_agency is _UNSEEN:
                        row_agency = agency_of(agency_cell)
                        if agency_cell.__class__ is str:
                            agency_text[agency_cell] = row_agency
                    if row_agency is None:
                        yield rejection(
                            rel,
                            row,
                            RejectionCode.AGENCY,
                            where + f"unknown agency {cell_text(agency_cell)!r}; name it by a "
                            "code, full name or abbreviation from the agency register",
                            agency_cell,
                        )
                        continue
                plain = type_cell is None and case_cell.__class__ is str
                found = case_text.get(case_cell) if plain else None
                if found is None:
                    found = case_of(case_cell, type_cell)
                    if plain:
                        case_text[case_cell] = found
                row_case, problem = found
                problem_value = case_cell
            if problem is not None:
                yield rejection(rel, row, RejectionCode.CASE_ID, where + problem, problem_value)
                continue
            # Which standard, in this cycle's numbering.
            if number is None:
                if standard_cell is None:
                    yield rejection(
                        rel,
                        row,
                        RejectionCode.STANDARD,
                        where + "no standard number on a row with a rating or evidence",
                        rating_cell if rating_cell is not None else evidence,
                    )
                else:
                    yield rejection(
                        rel,
                        row,
                        RejectionCode.STANDARD,
                        where + "unreadable standard number (expected 14, S14 or Standard 14)",
                        standard_cell,
                    )
                continue
            target = targets.get(number)  # (kloe, number, key) in this cycle's numbering
            if target is None:
                standard = template.by_number(number)
                if standard is None:
                    yield rejection(
                        rel,
                        row,
                        RejectionCode.STANDARD,
                        where + f"standard {number} is not in the {template.cycle} framework",
                        standard_cell,
                    )
                    continue
                yield rejection(
                    rel,
                    row,
                    RejectionCode.TEMPLATE,
                    where + f"standard {number} of the {template.cycle} template "
                    f"({standard.key}) has no counterpart in the {cycle_fw.cycle} framework",
                    standard_cell,
                )
                continue
            rating = rating_of.get(rating_cell)
            if rating is None:
                rating = self.scale.parse(rating_cell)
                if rating is not None and rating_cell.__class__ is str:
                    rating_of[rating_cell] = rating
            if rating is None:
                yield rejection(
                    rel,
                    row,
                    RejectionCode.UNKNOWN_RATING,
                    where + f"unknown rating; expected {self._expected}",
                    rating_cell,
                )
                continue
            if evidence is not None and evidence.__class__ is not str:
                evidence = cell_text(evidence)
            yield (row, row_agency, row_case, *target, rating, evidence, rating_cell)

    def _targets(self, template: Framework) -> dict[int, tuple[int, int, str]]:
        """A template's standard numbers -> (kloe, number, key) of the same standard in
        this cycle's framework, for those it has (remembered per template)."""
        found = self._targets_of.get(template.cycle)
        if found is None or found[0] is not template:
            same = template is self.framework
            table = {}
            for number in {standard.number for standard in template.standards}:
                standard = template.by_number(number)  # as the rows would look it up
                target = standard if same else self.framework.by_key(standard.key)
                if target is not None:
                    table[standard.number] = (target.kloe, target.number, target.key)
            found = self._targets_of[template.cycle] = (template, table)
        return found[1]


_UNSEEN = object()
_UNDECODED = re.compile("[\udc80-\udcff]")


def shown_name(name: str) -> str:
    """A file name as the tables show it: bytes that are not UTF-8 (a name unzipped from
    a Windows archive, ``Zo\\xeb audit.csv``) written as ``\\xNN``, so that every table
    and page can hold it; the file itself is still read by its own name."""
    if not _UNDECODED.search(name):
        return name
    return _UNDECODED.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", name)


def _returns_files(folder: Path) -> list[tuple[str, Path, str | None]]:
    """Every entry under ``returns/`` that is a file or is no folder, in code-point order
    of its path from ``folder``: ``(relative path, path, why it is not read)``, the last
    None for a plain file. Symbolic links (to files, folders or nothing), pipes and
    devices are listed with their reason and never followed or opened."""
    root = folder / RETURNS_DIR
    special = special_file_reason(root) if os.path.lexists(root) else None
    if special is not None:
        return [(RETURNS_DIR, root, special)]
    if not root.is_dir():
        return []
    found: list[tuple[str, Path, str | None]] = []
    pending = [(root, RETURNS_DIR)]
    while pending:  # os.scandir: what rglob does, without a Path object per step
        directory, rel = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            found.append((rel, Path(directory), f"folder cannot be read ({exc.strerror})"))
            continue
        for entry in entries:
            name = f"{rel}/{shown_name(entry.name)}"
            if entry.is_symlink():
                found.append((name, Path(entry.path), special_file_reason(entry.path)))
            elif entry.is_dir(follow_symlinks=False):
                pending.append((Path(entry.path), name))
            elif entry.is_file(follow_symlinks=False):
                found.append((name, Path(entry.path), None))
            else:
                found.append((name, Path(entry.path), special_file_reason(entry.path)))
    found.sort(key=lambda item: item[0])
    return found


def _columns_frame(records: list[dict], schema, dtypes: dict[str, str]) -> pd.DataFrame:
    """A table of ``schema``'s columns from its rows (dicts), built column by column:
    each column of ``dtypes`` with its dtype, every other as text (None missing)."""
    return pd.DataFrame(
        {
            name: pd.array([r[name] for r in records], dtype=dtypes.get(name, "str"))
            for name in schema.columns
        },
        copy=False,  # the arrays are new: the frame takes them as they are
    )


def _ratings_frame(rows: list[tuple], scale: Scale = BUILTIN) -> pd.DataFrame:
    """The ``ratings`` table from the loader's tuples (in ``schemas.RATINGS`` column
    order), built column by column with the final dtypes: text as ``str``, missing
    evidence as missing, the rating as the ordered categorical."""
    # The columns, transposed in C (zip); none when there are no rows.
    columns = list(zip(*rows, strict=True)) or [()] * len(schemas.RATINGS.columns)
    (cycle, agency, case_ref, kloe, standard, key, rating, evidence, source, row) = columns
    codes = {category: code for code, category in enumerate(scale.categories)}
    return pd.DataFrame(
        {
            "cycle": pd.array(cycle, dtype="str"),
            "agency": pd.array(agency, dtype="str"),
            "case_ref": pd.array(case_ref, dtype="str"),
            "kloe": np.fromiter(kloe, dtype="int64", count=len(kloe)),
            "standard": np.fromiter(standard, dtype="int64", count=len(standard)),
            "standard_key": pd.array(key, dtype="str"),
            "rating": pd.Categorical.from_codes(
                np.fromiter(map(codes.__getitem__, rating), dtype="int8", count=len(rating)),
                dtype=scale.dtype,
            ),
            "evidence": pd.array(evidence, dtype="str"),
            "source_file": pd.array(source, dtype="str"),
            "source_row": np.fromiter(row, dtype="int64", count=len(row)),
        },
        copy=False,  # the arrays are new: the frame takes them as they are
    )


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off within the block (as it was, after).

    Loading a cycle makes some 10^5 tuples, dicts and strings, and keeps them: each
    seven hundred of them start a collection, and every so often one that walks every
    object of the process (pandas' and matplotlib's too), for garbage that loading does
    not make (what it makes refers to nothing that refers back). Anything that is
    garbage is still collected at the next collection after the block."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def load_cycle(data_dir: str | Path, cycle: str, *, budgets: Budgets | None = None) -> CycleData:
    """Load one cycle's audit returns from ``data_dir/<cycle>/`` (docs/data-contract.md).

    Raises :class:`CycleNotFoundError` only when nothing usable can be read (no folder,
    no ``cases.csv``). Every other problem is a row of ``rejections``. Workbooks are
    checked and read in a child process within ``budgets`` (default
    :meth:`Budgets.from_env`): a workbook bomb is one rejection (:mod:`.workbooks`).
    """
    with _collector_paused():
        return _load_cycle(data_dir, cycle, budgets)


def _load_cycle(data_dir: str | Path, cycle: str, budgets: Budgets | None) -> CycleData:
    """:func:`load_cycle`, the cycle collector paused."""
    cycle = normalise_cycle(cycle)
    data_dir = Path(data_dir)
    folder = find_cycle_folder(data_dir, cycle)
    budgets = budgets or Budgets.from_env()
    files = _returns_files(folder)
    workbooks = [p for _, p, why in files if why is None and classify(p) == "excel"]
    # The child starts reading while the framework and the cohort are read here.
    with contextlib.closing(read_isolated(workbooks, budgets, parse=True)) as read:
        framework = load_framework(cycle, data_dir)
        labels = load_labels(data_dir)  # the partnership's themes and age bands
        scale = scale_for(data_dir, folder)
        rejections = schemas.RejectionLog()  # bounded: counts beyond MAX_LISTED a file
        cases, crosswalk = read_cases(folder, rejections, labels)
        # final now; checked where it stands (inplace): the table is this load's alone
        cases = schemas.cases_schema(tuple(labels.priorities)).validate(cases, inplace=True)
        loader = _Loader(data_dir, folder, framework, crosswalk, scale)
        loader.rejections = rejections
        # The bulk tables first, as far as no other file matters (Loader.prepare): the
        # child reads the workbooks meanwhile, and less is left after the last of them.
        ahead = {
            rel: loader.prepare(path, rel)
            for rel, path, why in files
            if why is None and classify(path) == "csv" and workbooks
        }
        for rel, path, why in files:
            sheets = None
            if why is None and classify(path) == "excel":
                _, sheets = next(read)
            loader.load_file(path, sheets, rel=rel, special=why, prepared=ahead.pop(rel, None))
    records = read_records(folder, set(cases["case_ref"]), framework, loader.rejections)
    development = read_development(
        folder,
        framework,
        loader.rejections,
        known=earlier_items(data_dir, cycle, lambda c: load_framework(c, data_dir)),
        later=later_ids(data_dir, cycle),
    )

    ratings = _ratings_frame(loader.ratings, scale)
    returns = _columns_frame(loader.returns, schemas.RETURNS, {"rows": "int64"})
    rejected = _columns_frame(
        loader.rejections.lines(), schemas.REJECTIONS, {"source_row": "Int64", "count": "int64"}
    )

    activate(labels)  # the summaries, pages and explorer name these themes and bands
    # Each table is checked where it stands (inplace: no copy first): they are this load's
    # own, built just above, and the checks coerce nothing.
    return CycleData(
        cycle=cycle,
        framework=framework,
        ratings=schemas.ratings_schema(scale).validate(ratings, inplace=True),
        cases=cases,
        returns=schemas.RETURNS.validate(returns, inplace=True),
        rejections=schemas.REJECTIONS.validate(rejected, inplace=True),
        folder=folder,
        deep_dive=records.deep_dive,
        learning_event=records.learning_event,
        family_feedback=records.family_feedback,
        development=development,
        scale=scale,
    )
