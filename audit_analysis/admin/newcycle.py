"""Starting the next audit cycle: its framework copied from the last one for the QA
group to edit, and its folder with an empty ``cases.csv`` and a ``returns/`` folder.

The copied framework keeps every standard's key: a key is what lets trends compare a
standard across years (docs/analyst.md, "Editing a framework").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from audit_analysis.exceptions import AuditDataError, CycleNotFoundError
from audit_analysis.io.cycles import audit_key, next_cycle, normalise_cycle
from audit_analysis.io.dataset import CASES_FILE, RETURNS_DIR, find_cycle_folder
from audit_analysis.io.development import PROGRESS_FILE, history, open_items
from audit_analysis.io.frameworks import (
    FRAMEWORK_FILE,
    Framework,
    framework_path,
    load_framework,
    load_yaml,
    parse_framework,
)
from audit_analysis.io.returns import ReturnFileError, read_table_csv
from audit_analysis.io.text import header_key
from audit_analysis.paths import write_file

__all__ = ["CARRY_COLUMNS", "DEFAULT_ID_COLUMNS", "NewCycle", "carry_forward", "start_cycle"]

#: Identifier columns of a new ``cases.csv`` when the cycle it follows has none to copy.
DEFAULT_ID_COLUMNS = ("carefirst_id", "tribal_id", "initials")
_COHORT_COLUMNS = ("case_ref", "priority", "age")

_HEADER = """\
# The {to} audit framework: its KLOEs and numbered standards.
# Copied from the {src} framework by `audit-analysis new-cycle`, for the QA group to edit.
#   number  the standard's number on this year's toolkit; renumber freely.
#   key     the standard's name across years: trends match standards by key. Keep it
#           when a standard is renumbered, moved or lightly reworded; give a new key to
#           a new standard; delete a dropped standard with its key. Never reuse a key
#           for a standard that measures something else.
#   text    the wording printed on the toolkit.
# Then set `note` to say what changed. docs/analyst.md, "Editing a framework", says more.
"""


@dataclass(frozen=True)
class NewCycle:
    """What :func:`start_cycle` made."""

    cycle: str
    copied_from: str
    folder: Path
    framework_file: Path
    cases_file: Path
    returns_dir: Path
    id_columns: tuple[str, ...]
    kept_cases: bool = False
    progress_file: Path | None = None  # the open areas and recommendations carried forward
    carried: int = 0


def _id_columns(data_dir: Path, cycle: str) -> tuple[str, ...]:
    """The identifier columns of ``cycle``'s cases.csv, as written there; the defaults
    when it has no folder or cases.csv."""
    try:
        path = find_cycle_folder(data_dir, cycle) / CASES_FILE
    except CycleNotFoundError:
        return DEFAULT_ID_COLUMNS
    if not path.is_file():
        return DEFAULT_ID_COLUMNS
    try:
        header, _ = read_table_csv(path)
    except (ReturnFileError, OSError):
        return DEFAULT_ID_COLUMNS
    cohort = {header_key(c) for c in _COHORT_COLUMNS}
    return tuple(h.strip() for h in header if header_key(h) and header_key(h) not in cohort)


def _has_cases(path: Path) -> bool:
    try:
        _, rows = read_table_csv(path)
        return next(rows, None) is not None
    except (ReturnFileError, OSError):
        return True  # unreadable: keep it rather than guess


def framework_text(source_cycle: str, cycle: str, data_dir: str | Path | None = None) -> str:
    """The YAML of ``source_cycle``'s framework renamed ``cycle``, for editing."""
    path = framework_path(source_cycle, data_dir)
    if path is None:
        load_framework(source_cycle, data_dir)  # raises UnknownCycleError, naming the known
    raw = load_yaml(path)
    note = (
        f"Copied from the {source_cycle} framework by audit-analysis new-cycle: the QA group "
        f"edits it for {cycle} (add, remove or reword standards, keeping each standard's key "
        "while it measures the same thing) and then replaces this note with what changed."
    )
    rest = {k: v for k, v in raw.items() if k not in ("cycle", "reconstructed", "note")}
    copied = {"cycle": cycle, "reconstructed": False, "note": note, **rest}
    body = yaml.safe_dump(copied, sort_keys=False, allow_unicode=True, width=100)
    text = _HEADER.format(to=cycle, src=source_cycle) + body
    parse_framework(yaml.safe_load(text), source=str(path))  # what we write must load
    return text


def start_cycle(
    data_dir: str | Path,
    from_cycle: str,
    to_cycle: str | None = None,
    *,
    force: bool = False,
) -> NewCycle:
    """Start ``to_cycle`` (default: the cycle after ``from_cycle``) under ``data_dir``.

    Writes ``DATA/<to>/framework.yaml`` (``from_cycle``'s framework, the partnership's
    own or the built-in one, renamed, ``reconstructed: false`` and a note saying it was
    copied), an empty ``cases.csv`` whose header is ``case_ref,priority,age`` and the
    identifier columns of ``from_cycle``'s cases.csv (else ``carefirst_id,tribal_id,
    initials``), an empty ``returns/`` folder, and a ``progress.csv`` listing every area
    for development and recommendation still open up to ``from_cycle``, with its text,
    for the QA group to fill in (:func:`carry_forward`; an
    existing ``progress.csv`` is kept unless ``force``). Refuses (:class:`AuditDataError`) when
    the folder already holds a ``cases.csv`` or ``framework.yaml``, unless ``force``;
    even then a ``cases.csv`` that lists cases is kept, never emptied.
    """
    source = normalise_cycle(from_cycle)
    cycle = next_cycle(source) if to_cycle is None else normalise_cycle(to_cycle)
    if audit_key(cycle) <= audit_key(source):
        raise AuditDataError(f"the new cycle must come after {source}; got {cycle}", value=to_cycle)
    data_dir = Path(data_dir)
    if data_dir.exists() and not data_dir.is_dir():
        raise AuditDataError("not a folder", file=str(data_dir))
    text = framework_text(source, cycle, data_dir)
    try:
        folder = find_cycle_folder(data_dir, cycle)
    except CycleNotFoundError:
        folder = data_dir / cycle
    for path in (folder, folder / RETURNS_DIR):
        if path.is_symlink():  # never written through: it may lead out of the data folder
            raise AuditDataError(
                "is a symbolic link: not written through, so that nothing outside the data "
                "folder is changed; remove the link first",
                file=str(path),
            )
    framework_file, cases_file = folder / FRAMEWORK_FILE, folder / CASES_FILE
    present = [p.name for p in (cases_file, framework_file) if p.exists()]
    if present and not force:
        raise AuditDataError(
            f"the {cycle} folder already holds {' and '.join(present)}; pass --force to "
            "replace them (a cases.csv that lists cases is kept even then)",
            file=str(folder),
        )
    columns = _id_columns(data_dir, source)
    kept = cases_file.is_file() and _has_cases(cases_file)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RETURNS_DIR).mkdir(exist_ok=True)
    write_file(framework_file, text)  # never through a link left in the data folder
    if not kept:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([*_COHORT_COLUMNS, *columns])
        write_file(cases_file, buf.getvalue())
    progress_file, carried = carry_forward(
        data_dir, source, folder, lambda c: load_framework(c, data_dir), force=force
    )
    return NewCycle(
        cycle=cycle,
        copied_from=source,
        folder=folder,
        framework_file=framework_file,
        cases_file=cases_file,
        returns_dir=folder / RETURNS_DIR,
        id_columns=columns,
        kept_cases=kept,
        progress_file=progress_file,
        carried=carried,
    )


CARRY_COLUMNS = [
    "area_id", "kind", "raised_in", "kloe", "kloe_title", "text", "owner", "due", "last_status",
    "progress", "status",
]  # fmt: skip


def carry_forward(
    data_dir: Path,
    from_cycle: str,
    folder: Path,
    frameworks: Callable[[str], Framework],
    force: bool = False,
) -> tuple[Path | None, int]:
    """Write ``folder/progress.csv`` listing every area and recommendation still open up
    to ``from_cycle`` (latest status not ``met`` or ``dropped``), with its text, for the
    QA group to fill in ``progress`` and ``status`` (KLOEs numbered as ``from_cycle``'s
    framework numbers them). An existing ``progress.csv`` is
    kept unless ``force``. Returns the file written (None if kept or nothing is open)
    and how many items it lists."""
    items = open_items(history(data_dir, from_cycle, frameworks))
    path = folder / PROGRESS_FILE
    if not items or (path.exists() and not force):
        return None, len(items)
    from audit_analysis.render.outputs import write_csv

    try:
        kloes = {k.key: k for k in frameworks(from_cycle).kloes}
    except Exception:  # noqa: BLE001 - numbers as raised, then
        kloes = {}
    rows = [
        (
            item.id,
            item.kind,
            item.raised_in,
            kloes[item.kloe_key].number if item.kloe_key in kloes else item.kloe,
            kloes[item.kloe_key].title if item.kloe_key in kloes else None,
            item.text,
            item.owner,
            item.due,
            status,
            None,
            None,
        )
        for item, status in items
    ]
    frame = pd.DataFrame(rows, columns=CARRY_COLUMNS).astype({"kloe": "Int64"})
    write_csv(frame, path)
    return path, len(items)
