"""Choosing a cycle's cases: a reproducible random draw, stratified by priority theme,
from a candidate list exported from the partnership's case systems.

:func:`select_cases` reads the candidate list (CSV or XLSX: identifier columns,
``priority``, ``age``; any other column is there for the criteria), refuses a broken
list as a whole (duplicated identifiers, a missing or unknown priority, an age that is
no age, no candidates: one line naming the rows, never an identifier), then narrows it
step by step, counting the candidates of each priority theme after each step:

1. every candidate already audited in an earlier cycle is excluded (matched through
   the identifier crosswalk the loader uses on each earlier ``cases.csv``: identifiers
   as text, ignoring case and surrounding spaces, ``100231.0`` as ``100231``);
2. the criteria of ``DATA/<cycle>/selection.yaml`` (:mod:`audit_analysis.io.selection`):
   an age range per theme, columns that must hold a value, and at most one child per
   family (one of each family's eligible children kept, chosen at random);
3. from what is left, ``N`` cases per theme are drawn by simple random sampling
   without replacement: a uniformly random permutation of the theme's eligible
   candidates (numpy's PCG64 generator seeded with ``[seed, theme number]``), the
   first ``N`` of it drawn and the rest, in that order, the theme's reserve list.

The themes are the data folder's (``DATA/labels.yaml``, else the package's three), and a
theme's number is its place in their order, so a draw on the package's themes is the
same as before a data folder could name its own.

It writes ``cases.csv`` (case references ``C01``..., theme by theme in drawing order,
identifiers kept: ``cases.csv`` stays with the QA group), ``reserve.csv`` and
``selection_record.yaml`` (seed, criteria, the counts after each step, the eligible
population and the cases drawn per theme, the candidate file's SHA-256, the package
and numpy versions). The same candidate file, criteria and seed give the same three
files, byte for byte.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from audit_analysis import __version__
from audit_analysis.exceptions import AuditDataError, CycleNotFoundError
from audit_analysis.io.cycles import DataFolder, earlier_audits, normalise_cycle
from audit_analysis.io.dataset import CASES_FILE, find_cycle_folder, read_cases
from audit_analysis.io.labels import load_labels
from audit_analysis.io.returns import CsvRowError, ReturnFileError, open_plain, read_table_csv
from audit_analysis.io.selection import (
    CRITERIA_FILE,
    RECORD_FILE,
    RESERVE_FILE,
    Criteria,
    identifier_like,
    normalise_priority,
    read_criteria,
    themes_of,
)
from audit_analysis.io.text import cell_text, header_key, identifier_key, is_blank
from audit_analysis.io.workbooks import WorkbookRefused, read_isolated
from audit_analysis.paths import write_file

__all__ = ["CandidateListError", "Selection", "drawing_order", "read_candidates", "select_cases"]

#: Problems a refused candidate list names in its one line; the rest are counted.
SHOWN_PROBLEMS = 5
#: Columns carried to ``cases.csv`` with the identifiers though they identify no one alone.
_CARRIED_NOT_UNIQUE = ("initials",)
_HEADER_SEARCH_ROWS = 20  # rows of a workbook searched for the header row
_SEED_LIMIT = 10**9  # a random seed has at most nine digits: easy to read out and retype


class CandidateListError(AuditDataError):
    """The candidate list cannot be drawn from. ``problems`` holds one line per problem,
    each naming a row (never an identifier)."""

    def __init__(self, problems: list[str], *, file: str | None = None):
        self.problems = list(problems)
        shown = "; ".join(problems[:SHOWN_PROBLEMS])
        more = len(problems) - SHOWN_PROBLEMS
        if more > 0:
            shown += f"; and {more} more"
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"nothing drawn, {count}: {shown}", file=file)

    def __reduce__(self):
        return (_rebuild_list_error, (self.problems, self.file))


def _rebuild_list_error(problems: list[str], file: str | None) -> CandidateListError:
    return CandidateListError(problems, file=file)


# --------------------------------------------------------------------------- reading


def _sheet_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]] | CsvRowError]]:
    """A workbook's first sheet holding data: its header row (the first row naming
    ``priority`` and ``age`` among the first 20, else the first row holding anything)
    and the rows below it, numbered as the spreadsheet numbers them, every cell as the
    text a person sees."""
    reader = read_isolated([path])
    try:
        _, sheets = next(reader)
    finally:
        reader.close()
    if isinstance(sheets, WorkbookRefused):
        raise AuditDataError(sheets.reason, file=str(path))
    for _name, rows in sheets:
        texts = [[cell_text(c).strip() for c in row] for row in rows]
        first = next((i for i, row in enumerate(texts) if any(row)), None)
        if first is None:
            continue
        # an export often has a title above its table: the header row is the first row
        # naming both priority and age, else the first row holding anything
        first = next(
            (
                i
                for i, row in enumerate(texts[:_HEADER_SEARCH_ROWS])
                if {"priority", "age"} <= {header_key(c) for c in row}
            ),
            first,
        )
        body = [(i + 1, row) for i, row in enumerate(texts) if i > first and any(row)]
        return texts[first], iter(body)
    raise AuditDataError("the workbook has no data on any sheet", file=str(path))


def read_candidates(path: str | Path) -> tuple[list[str], list[tuple[int, list[str]]], list[str]]:
    """The candidate list's header, its rows ``(row number, cells)`` and the problems of
    lines that cannot be read (one line each, naming the row)."""
    path = Path(path)
    if not path.is_file():
        raise AuditDataError("no such file", file=str(path))
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            header, rows = _sheet_rows(path)
        elif suffix in (".csv", ".txt"):
            header, rows = read_table_csv(path)
        else:
            raise AuditDataError("a candidate list is a .csv or .xlsx file", file=str(path))
        body: list[tuple[int, list[str]]] = []
        problems: list[str] = []
        for item in rows:
            if isinstance(item, CsvRowError):
                problems.append(f"row {item.row}: {item.reason}")
            else:
                body.append((item[0], [c.strip() for c in item[1]]))
    except ReturnFileError as exc:
        raise AuditDataError(exc.reason, file=str(path)) from None
    return [h.strip() for h in header], body, problems


@dataclass
class _Candidate:
    row: int
    priority: str
    age: int
    cells: list[str]
    out: str | None = None  # the step that took it out; None while eligible

    def cell(self, j: int) -> str:
        return self.cells[j] if j < len(self.cells) else ""


def _column(columns: list[str], name: str) -> int | None:
    key = header_key(name)
    return next((j for j, c in enumerate(columns) if header_key(c) == key), None)


def _parse(
    header: list[str],
    rows: list[tuple[int, list[str]]],
    problems: list[str],
    criteria: Criteria,
    priorities: tuple[str, ...],
    named: str = "",
) -> tuple[list[_Candidate], list[int], list[int]]:
    """Candidates, the unique identifier columns and the columns carried to cases.csv;
    every problem of the list added to ``problems``. ``priorities``: the themes a
    candidate may have (the data folder's); ``named``: where they came from, for the
    message (`` (labels.yaml)`` or nothing)."""
    where_priority, where_age = _column(header, "priority"), _column(header, "age")
    family = criteria.one_per_family
    family_key = header_key(family) if family else None
    if criteria.identifiers is not None:
        ids = []
        for name in criteria.identifiers:
            j = _column(header, name)
            if j is None:
                problems.append(f"no column {name!r}, named in {CRITERIA_FILE} as an identifier")
            else:
                ids.append(j)
    else:
        ids = [
            j
            for j, name in enumerate(header)
            if identifier_like(name) and header_key(name) != family_key
        ]
    for what, j in (("priority", where_priority), ("age", where_age)):
        if j is None:
            problems.append(f"no {what!r} column in the header row")
    if not ids:
        problems.append(
            "no identifier column (a column named like carefirst_id or tribal_id, or "
            f"those listed as identifiers in {CRITERIA_FILE})"
        )
    for name in (*criteria.required, *([family] if family else [])):
        if _column(header, name) is None:
            problems.append(f"no column {name!r}, which {CRITERIA_FILE} names")
    if not rows and not problems:
        problems.append("no candidates: the list has a header row and nothing below it")
    if problems and (where_priority is None or where_age is None or not ids):
        return [], ids, []
    carried = ids + [
        j
        for j, name in enumerate(header)
        if header_key(name) in _CARRIED_NOT_UNIQUE and j not in ids
    ]
    candidates: list[_Candidate] = []
    seen: dict[tuple[int, str], int] = {}
    for number, cells in rows:

        def cell(j: int) -> str:
            return cells[j] if j < len(cells) else ""  # noqa: B023 - used at once

        priority = normalise_priority(cell(where_priority))
        if not priority:
            problems.append(f"row {number}: no priority")
        elif priority not in priorities:
            # never the cell's text: in a row with a cell too many it is an identifier
            problems.append(
                f"row {number}: the priority is not one of {', '.join(priorities)}{named}"
            )
        age_text, age = cell(where_age), None
        try:
            value = float(age_text)
            if value.is_integer() and 0 <= value <= 30:
                age = int(value)
        except ValueError:
            pass
        if age is None:
            problems.append(
                f"row {number}: "
                + ("no age" if not age_text else "age is not a whole number of years from 0 to 30")
            )
        keys = [(j, identifier_key(cell(j))) for j in ids]
        if not any(k for _, k in keys):
            problems.append(f"row {number}: no identifier ({', '.join(header[j] for j in ids)})")
        for j, key in keys:
            if not key:
                continue
            if (j, key) in seen:
                problems.append(
                    f"row {number}: the same {header[j]} as row {seen[j, key]} (a duplicated "
                    "identifier)"
                )
            else:
                seen[j, key] = number
        if priority in priorities and age is not None:
            candidates.append(_Candidate(number, priority, age, cells))
    return candidates, ids, carried


# --------------------------------------------------------------------------- narrowing


def _earlier_cycles(data_dir: Path, cycle: str) -> list[tuple[str, Path]]:
    """The cycles before ``cycle`` holding a ``cases.csv``, with their folders, by the
    one rule for which cycles a data folder holds (:class:`DataFolder`: exact names,
    links and near misses never read)."""
    folder = DataFolder.scan(data_dir)
    earlier = earlier_audits(folder.with_cases(CASES_FILE), cycle, series=False)
    return [(c, folder.cycles[c]) for c in earlier]


def _exclude_earlier(
    data_dir: Path,
    cycle: str,
    header: list[str],
    ids: list[int],
    pool: list[_Candidate],
    priorities: tuple[str, ...],
) -> list[tuple[str, dict[str, int]]]:
    steps = []
    for earlier, folder in _earlier_cycles(data_dir, cycle):
        try:
            _, crosswalk = read_cases(folder, [])
        except CycleNotFoundError as exc:
            raise AuditDataError(
                f"cannot check the cases audited in {earlier}: {exc.reason}",
                file=str(folder / CASES_FILE),
            ) from None
        # column to column, as the loader resolves a case ID of a named type
        found = [(j, crosswalk.scheme_for(header[j])) for j in ids]
        schemes = [(j, crosswalk.schemes[name]) for j, name in found if name]
        for candidate in pool:
            if candidate.out is None and any(
                identifier_key(candidate.cell(j)) in known for j, known in schemes
            ):
                candidate.out = f"audited in {earlier}"
        steps.append((f"not audited in {earlier}", _count(pool, priorities)))
    return steps


def _count(pool: list[_Candidate], priorities: tuple[str, ...]) -> dict[str, int]:
    counts = dict.fromkeys(priorities, 0)
    for candidate in pool:
        if candidate.out is None:
            counts[candidate.priority] += 1
    return counts


def _apply_criteria(
    criteria: Criteria,
    header: list[str],
    pool: list[_Candidate],
    seed: int,
    priorities: tuple[str, ...],
) -> list[tuple[str, dict[str, int]]]:
    steps = []
    for priority in priorities:
        if priority in criteria.ages:
            low, high = criteria.ages[priority]
            for c in pool:
                if c.out is None and c.priority == priority and not low <= c.age <= high:
                    c.out = f"age outside {low} to {high}"
            steps.append((f"{priority} aged {low} to {high}", _count(pool, priorities)))
    for name in criteria.required:
        j = _column(header, name)
        for c in pool:
            if c.out is None and is_blank(c.cell(j)):
                c.out = f"no {name}"
        steps.append((f"{name} holds a value", _count(pool, priorities)))
    if criteria.one_per_family:
        j = _column(header, criteria.one_per_family)
        families: dict[str, list[_Candidate]] = {}
        for c in pool:
            key = identifier_key(c.cell(j))
            if c.out is None and key:
                families.setdefault(key, []).append(c)
        # the stream after the themes' own: [seed, n] for n themes, none of theirs
        rng = np.random.default_rng([seed, len(priorities)])
        for members in families.values():  # in order of each family's first row
            if len(members) > 1:
                kept = int(rng.integers(len(members)))
                for i, c in enumerate(members):
                    if i != kept:
                        c.out = "a sibling kept instead"
        steps.append((f"at most one child per {criteria.one_per_family}", _count(pool, priorities)))
    return steps


# --------------------------------------------------------------------------- the draw


def drawing_order(count: int, seed: int, stratum: int) -> list[int]:
    """The drawing order of a stratum's ``count`` eligible candidates (positions in
    list order): a uniformly random permutation from numpy's PCG64 generator seeded
    with ``[seed, stratum]``, so each theme's draw depends on the seed and its own
    candidates only."""
    order = np.random.default_rng([seed, stratum]).permutation(count)
    return [int(i) for i in order]


@dataclass(frozen=True)
class Selection:
    """What :func:`select_cases` drew and wrote."""

    cycle: str
    folder: Path
    cases_file: Path
    reserve_file: Path
    record_file: Path
    seed: int
    seed_given: bool
    per_priority: int
    eligible: dict[str, int]
    drawn: dict[str, int]
    reserves: dict[str, int]
    candidates: int
    shortfalls: list[str] = field(default_factory=list)

    @property
    def total_drawn(self) -> int:
        return sum(self.drawn.values())


def _csv_text(rows: list[list[object]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _lists_cases(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        _, rows = read_table_csv(path)
        return next(rows, None) is not None
    except (ReturnFileError, OSError):
        return True  # unreadable: keep it rather than guess


_RECORD_HEADER = """\
# How the {cycle} cases were chosen, written by `audit-analysis select-cases`.
# Keep it with cases.csv and reserve.csv. To draw the same cases again, run
#   audit-analysis select-cases --data DATA --cycle {cycle} --candidates {name} \\
#       --per-priority {n} --seed {seed} --force
# on the same candidate file (candidates_sha256 below) and the same selection.yaml.
# It names no child: only counts. docs/selecting-cases.md explains each entry.
"""


def select_cases(
    data_dir: str | Path,
    cycle: str,
    candidates: str | Path,
    per_priority: int,
    *,
    seed: int | None = None,
    force: bool = False,
) -> Selection:
    """Draw ``per_priority`` cases per priority theme for ``cycle`` from the candidate
    list ``candidates`` (module docstring) and write ``DATA/<cycle>/cases.csv``,
    ``reserve.csv`` and ``selection_record.yaml``.

    ``seed``: the draw's seed (a whole number from 0); None draws a random one, which
    the record and the returned :class:`Selection` give. Raises
    :class:`CandidateListError` for a broken list (nothing drawn, nothing written) and
    :class:`AuditDataError` when the cycle's ``cases.csv`` already lists cases and
    ``force`` is not set.
    """
    cycle = normalise_cycle(cycle)
    if isinstance(per_priority, bool) or not isinstance(per_priority, int) or per_priority < 1:
        raise AuditDataError(
            "the cases to draw per priority theme must be 1 or more", value=per_priority
        )
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise AuditDataError("the seed must be a whole number from 0", value=seed)
    data_dir = Path(data_dir)
    if data_dir.exists() and not data_dir.is_dir():
        raise AuditDataError("not a folder", file=str(data_dir))
    try:
        folder = find_cycle_folder(data_dir, cycle)
    except CycleNotFoundError:
        folder = data_dir / cycle
    cases_file = folder / CASES_FILE
    if _lists_cases(cases_file) and not force:
        raise AuditDataError(
            "already lists cases; pass --force to replace it with a new draw",
            file=str(cases_file),
        )
    labels = load_labels(data_dir)  # the partnership's themes: DATA/labels.yaml
    priorities, named = themes_of(labels)
    criteria = read_criteria(folder, labels) if folder.is_dir() else None
    criteria = criteria or Criteria()
    path = Path(candidates)
    header, rows, problems = read_candidates(path)
    pool, ids, carried = _parse(header, rows, problems, criteria, priorities, named)
    if problems:
        raise CandidateListError(problems, file=str(path))

    seed_given = seed is not None
    if seed is None:
        seed = secrets.randbelow(_SEED_LIMIT)
    steps: list[tuple[str, dict[str, int]]] = [("candidate list", _count(pool, priorities))]
    if criteria.exclude_earlier_cycles:
        steps += _exclude_earlier(data_dir, cycle, header, ids, pool, priorities)
    steps += _apply_criteria(criteria, header, pool, seed, priorities)
    eligible = _count(pool, priorities)

    drawn: dict[str, list[_Candidate]] = {}
    reserve: dict[str, list[_Candidate]] = {}
    shortfalls = []
    for number, priority in enumerate(priorities):  # a theme's number: its place
        members = [c for c in pool if c.out is None and c.priority == priority]
        ranked = [members[i] for i in drawing_order(len(members), seed, number)]
        drawn[priority], reserve[priority] = ranked[:per_priority], ranked[per_priority:]
        if len(members) < per_priority:
            shortfalls.append(
                f"{priority.replace('_', ' ')}: only {len(members)} eligible "
                f"candidate{'s' if len(members) != 1 else ''}, fewer than {per_priority}: "
                "all of them drawn, no reserve"
            )

    total = sum(len(v) for v in drawn.values())
    width = max(2, len(str(total)))
    names = [header[j] for j in carried]
    case_rows: list[list[object]] = [["case_ref", "priority", "age", *names]]
    reserve_rows: list[list[object]] = [["priority", "order", "age", *names]]
    k = 0
    for priority in priorities:
        for c in drawn[priority]:
            k += 1
            case_rows.append([f"C{k:0{width}d}", priority, c.age, *(c.cell(j) for j in carried)])
        for i, c in enumerate(reserve[priority], 1):
            reserve_rows.append([priority, i, c.age, *(c.cell(j) for j in carried)])

    digest = hashlib.sha256()
    with open_plain(path) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    record = {
        "cycle": cycle,
        "method": (
            "simple random sample without replacement within each priority theme "
            "(stratified); numpy PCG64 seeded with [seed, theme number "
            f"0-{len(priorities) - 1}], one permutation per theme: the first per_priority "
            "drawn, the rest the reserve list in order"
        ),
        "seed": seed,
        "seed_given": seed_given,
        "per_priority": per_priority,
        "candidates_file": path.name,
        "candidates_sha256": digest.hexdigest(),
        "criteria": criteria.as_record(priorities),
        "identifier_columns": [header[j] for j in ids],
        "steps": [{"step": name, **counts} for name, counts in steps],
        "eligible": eligible,
        "drawn": {p: len(drawn[p]) for p in priorities},
        "reserves": {p: len(reserve[p]) for p in priorities},
        "drawn_by": f"audit-analysis {__version__}",
        "numpy": np.__version__,
    }
    body = yaml.safe_dump(
        record, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
    )
    text = _RECORD_HEADER.format(cycle=cycle, name=path.name, n=per_priority, seed=seed) + body

    folder.mkdir(parents=True, exist_ok=True)
    reserve_file, record_file = folder / RESERVE_FILE, folder / RECORD_FILE
    for target, content in (
        (reserve_file, _csv_text(reserve_rows)),
        (record_file, text),
        (cases_file, _csv_text(case_rows)),  # last: a cases.csv means the draw is complete
    ):
        temporary = target.with_name(f".{target.name}.tmp")
        write_file(temporary, content)  # owner-only (it names children), never via a link
        os.replace(temporary, target)
    return Selection(
        cycle=cycle,
        folder=folder,
        cases_file=cases_file,
        reserve_file=reserve_file,
        record_file=record_file,
        seed=seed,
        seed_given=seed_given,
        per_priority=per_priority,
        eligible=eligible,
        drawn={p: len(drawn[p]) for p in priorities},
        reserves={p: len(reserve[p]) for p in priorities},
        candidates=len(pool),
        shortfalls=shortfalls,
    )
