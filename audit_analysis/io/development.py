"""Areas for development carried from year to year, with their progress (the report's
Appendix II) and the cycle's recommendations (its section 4.3.3).

``DATA/<cycle>/`` may hold three optional files, read like ``deep_dive.csv`` (headers
ignoring case, spaces and underscores; UTF-8 or Windows-1252; every bad row a rejection
with file, row, reason and value; the rest of the file still loads):

- ``development_areas.csv``: the areas for development this cycle raised: ``area_id``
  (stable, never reused), ``kloe`` (number, ``KLOE 3`` or key), ``standards`` (numbers
  or keys of this cycle's framework, several separated by ``;`` or ``,``; may be blank),
  ``area`` (the text), and optionally ``owner`` (a team or role, never a person's name)
  and ``due``.
- ``progress.csv``: this cycle's progress against areas and recommendations raised in
  earlier cycles: ``area_id`` (the earlier area's or recommendation's id), ``progress``
  (what this year's audit noted) and ``status`` (``open``, ``met``, ``carried forward``
  or ``dropped``). ``audit-analysis new-cycle`` writes it with every item still open,
  for the QA group to fill in; its other columns (``kind``, ``raised_in``, ``kloe``,
  ``text``, ``owner``) are there to read and are ignored.
- ``recommendations.csv``: the cycle's recommendations: ``id``, ``recommendation``,
  ``owner``, ``due``; a row whose ``id`` names an earlier cycle's recommendation is an
  update instead, with ``progress`` and ``status`` as in ``progress.csv``.

A cycle without these files is normal: it has no areas for development recorded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from audit_analysis.exceptions import RejectionCode
from audit_analysis.io.cycles import DataFolder, audit_key
from audit_analysis.io.frameworks import Framework
from audit_analysis.io.records import read_optional_table
from audit_analysis.io.schemas import rejection

__all__ = [
    "AREAS_FILE",
    "AREA_COLUMNS",
    "PROGRESS_COLUMNS",
    "PROGRESS_FILE",
    "RECOMMENDATIONS_FILE",
    "RECOMMENDATION_COLUMNS",
    "STATUSES",
    "Development",
    "earlier_items",
    "history",
    "latest_status",
    "later_ids",
    "open_items",
    "read_development",
]

AREAS_FILE = "development_areas.csv"
PROGRESS_FILE = "progress.csv"
RECOMMENDATIONS_FILE = "recommendations.csv"

STATUSES = ("open", "met", "carried forward", "dropped")
"""What ``status`` may say; ``met`` and ``dropped`` close an item."""
CLOSED = frozenset({"met", "dropped"})

AREA_COLUMNS = ["area_id", "kloe", "kloe_key", "standards", "area", "owner", "due"]
PROGRESS_COLUMNS = ["area_id", "kind", "raised_in", "progress", "status"]
RECOMMENDATION_COLUMNS = ["id", "recommendation", "owner", "due"]

_MAX_TEXT = 4000  # characters kept of one text cell; longer is rejected


@dataclass(frozen=True)
class Development:
    """A cycle's development record. ``areas.standards`` holds standard keys of the
    cycle's framework as a tuple; ``progress`` holds the updates of both areas and
    recommendations (``kind`` says which, ``raised_in`` the cycle that raised it)."""

    areas: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=AREA_COLUMNS))
    progress: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROGRESS_COLUMNS))
    recommendations: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=RECOMMENDATION_COLUMNS)
    )

    @property
    def empty(self) -> bool:
        return self.areas.empty and self.progress.empty and self.recommendations.empty


@dataclass(frozen=True)
class Item:
    """An area or a recommendation as an earlier cycle raised it."""

    id: str
    kind: str  # "area" or "recommendation"
    raised_in: str
    text: str
    kloe: int | None = None
    kloe_key: str | None = None
    standards: tuple[str, ...] = ()
    owner: str | None = None
    due: str | None = None


Reject = Callable[[int | None, str, object], None]


def _status(text: str) -> str | None:
    key = re.sub(r"[\s_\-]+", " ", text.strip().casefold()).rstrip(".")
    return key if key in STATUSES else None


def _text(row: dict[str, str], key: str, reject: Reject, number: int, what: str) -> str | None:
    value = row.get(key, "")
    if len(value) > _MAX_TEXT:
        reject(number, f"{what} is longer than {_MAX_TEXT} characters", value[:60] + "…")
        return None
    return value


def _kloe(raw: str, framework: Framework):
    match = re.fullmatch(r"(?:kloe)?\s*(\d+)", raw.strip(), flags=re.I)
    if match:
        return next((k for k in framework.kloes if k.number == int(match.group(1))), None)
    return next((k for k in framework.kloes if k.key == raw.strip().casefold()), None)


def _standards(raw: str, framework: Framework) -> tuple[tuple[str, ...], str | None]:
    """Standard keys for ``1; 2`` or ``smart-plans, 14``; the first unknown one, if any."""
    keys = []
    for part in re.split(r"[;,]", raw):
        part = part.strip()
        if not part:
            continue
        match = re.fullmatch(r"(?:s|standard)?\s*(\d+)(?:\.0)?", part, flags=re.I)
        standard = None
        if match:
            standard = next(
                (s for s in framework.standards if s.number == int(match.group(1))), None
            )
        else:
            standard = next((s for s in framework.standards if s.key == part.casefold()), None)
        if standard is None:
            return (), part
        if standard.key not in keys:
            keys.append(standard.key)
    return tuple(keys), None


def _cycle_folders(data_dir: Path, keep: Callable[[str], bool]) -> list[tuple[str, Path]]:
    """The cycle folders of ``data_dir`` whose cycle ``keep`` accepts, oldest first
    (links are never followed out of the data folder)."""
    return [(name, path) for name, path in DataFolder.scan(data_dir).cycles.items() if keep(name)]


def earlier_items(data_dir: Path, cycle: str, frameworks: Callable[[str], Framework]) -> dict:
    """Every area and recommendation raised by a cycle before ``cycle`` in ``data_dir``,
    by id (the first cycle to raise an id wins), from their :func:`history` (an
    unreadable row is that cycle's own rejection, reported when that cycle is loaded)."""
    items: dict[str, Item] = {}
    for name, record in history(data_dir, cycle, frameworks, before=True):
        for item in _raised(record, name):
            items.setdefault(item.id, item)
    return items


def later_ids(data_dir: Path, cycle: str) -> dict[str, str]:
    """Ids raised by cycles after ``cycle``: id -> cycle (for a clear rejection)."""
    out: dict[str, str] = {}
    for name, folder in _cycle_folders(data_dir, lambda c: audit_key(c) > audit_key(cycle)):
        for file, column in ((AREAS_FILE, "areaid"), (RECOMMENDATIONS_FILE, "id")):
            for _, row in read_optional_table(folder / file, [], lambda *a: None):
                value = row.get(column, "").strip()
                if value:
                    out.setdefault(value.casefold(), name)
    return out


def _raised(record: Development, cycle: str) -> list[Item]:
    items = [
        Item(
            id=r.area_id,
            kind="area",
            raised_in=cycle,
            text=r.area,
            kloe=r.kloe,
            kloe_key=r.kloe_key,
            standards=tuple(r.standards),
            owner=r.owner,
            due=r.due,
        )
        for r in record.areas.itertuples()
    ]
    items += [
        Item(
            id=r.id,
            kind="recommendation",
            raised_in=cycle,
            text=r.recommendation,
            owner=r.owner,
            due=r.due,
        )
        for r in record.recommendations.itertuples()
    ]
    return items


def read_development(
    folder: Path,
    framework: Framework,
    rejections: list[dict],
    known: dict[str, Item],
    later: dict[str, str] | None = None,
) -> Development:
    """Read a cycle folder's development record, logging every rejected row.

    Args:
        known: the areas and recommendations of earlier cycles, by id
            (:func:`earlier_items`): what ``progress.csv`` and recommendation updates
            may name.
        later: ids raised only by later cycles (for the reason of a rejection).
    """
    later = later or {}
    by_id = {k.casefold(): item for k, item in known.items()}

    def rejecter(name: str) -> Reject:
        def reject(row: int | None, reason: str, value: object) -> None:
            rejections.append(rejection(name, row, RejectionCode.DEVELOPMENT, reason, value))

        return reject

    # -- areas raised this cycle
    reject = rejecter(AREAS_FILE)
    areas, seen = [], {}
    for number, row in read_optional_table(
        folder / AREAS_FILE, ["area_id", "kloe", "area"], reject
    ):
        area_id = row.get("areaid", "")
        if not area_id:
            reject(number, "no area_id", None)
            continue
        if area_id.casefold() in seen:
            reject(
                number,
                f"area_id {area_id} is given twice (first on row {seen[area_id.casefold()]})",
                area_id,
            )
            continue
        if area_id.casefold() in by_id:
            first = by_id[area_id.casefold()]
            reject(
                number,
                f"area_id {area_id} was already raised in {first.raised_in}: an id names "
                "one area for good; record its progress in progress.csv",
                area_id,
            )
            continue
        kloe = _kloe(row.get("kloe", ""), framework)
        if kloe is None:
            reject(
                number,
                f"unknown KLOE: the {framework.cycle} framework has KLOEs 1 to "
                f"{len(framework.kloes)}",
                row.get("kloe"),
            )
            continue
        standards, unknown = _standards(row.get("standards", ""), framework)
        if unknown is not None:
            reject(number, f"unknown standard: not in the {framework.cycle} framework", unknown)
            continue
        text = _text(row, "area", reject, number, "area")
        if text is None:
            continue
        if not text:
            reject(number, "no area text", None)
            continue
        seen[area_id.casefold()] = number
        areas.append(
            {
                "area_id": area_id,
                "kloe": kloe.number,
                "kloe_key": kloe.key,
                "standards": standards,
                "area": text,
                "owner": row.get("owner", "") or None,
                "due": row.get("due", "") or None,
            }
        )

    # -- recommendations: new ones, and updates of earlier ones
    reject = rejecter(RECOMMENDATIONS_FILE)
    recommendations, updates, seen_rec = [], [], {}
    for number, row in read_optional_table(folder / RECOMMENDATIONS_FILE, ["id"], reject):
        rec_id = row.get("id", "")
        if not rec_id:
            reject(number, "no id", None)
            continue
        if rec_id.casefold() in seen_rec or rec_id.casefold() in seen:
            reject(number, f"id {rec_id} is given twice", rec_id)
            continue
        earlier = by_id.get(rec_id.casefold())
        if earlier is not None:
            update = _update(row, number, reject, earlier, "recommendation")
            if update is not None:
                seen_rec[rec_id.casefold()] = number
                updates.append(update)
            continue
        if rec_id.casefold() in later:
            reject(
                number,
                f"id {rec_id} is raised only in a later cycle ({later[rec_id.casefold()]})",
                rec_id,
            )
            continue
        text = _text(row, "recommendation", reject, number, "recommendation")
        if text is None:
            continue
        if not text:
            reject(
                number, "no recommendation text (and no earlier recommendation has this id)", rec_id
            )
            continue
        seen_rec[rec_id.casefold()] = number
        recommendations.append(
            {
                "id": rec_id,
                "recommendation": text,
                "owner": row.get("owner", "") or None,
                "due": row.get("due", "") or None,
            }
        )

    # -- progress against earlier areas (and recommendations)
    reject = rejecter(PROGRESS_FILE)
    progress, seen_progress = [], {}
    for number, row in read_optional_table(folder / PROGRESS_FILE, ["area_id", "status"], reject):
        item_id = row.get("areaid", "")
        if not item_id:
            reject(number, "no area_id", None)
            continue
        if item_id.casefold() in seen_progress:
            reject(
                number,
                f"area_id {item_id} is given twice (first on row "
                f"{seen_progress[item_id.casefold()]})",
                item_id,
            )
            continue
        earlier = by_id.get(item_id.casefold())
        if earlier is None:
            if item_id.casefold() in seen or item_id.casefold() in seen_rec:
                reason = (
                    f"area_id {item_id} is raised in this cycle ({framework.cycle}): its "
                    "progress is recorded from the next cycle on"
                )
            elif item_id.casefold() in later:
                reason = (
                    f"area_id {item_id} is raised only in a later cycle "
                    f"({later[item_id.casefold()]})"
                )
            else:
                reason = f"unknown area_id: no earlier cycle raised {item_id}"
            reject(number, reason, item_id)
            continue
        update = _update(row, number, reject, earlier, earlier.kind)
        if update is not None:
            seen_progress[item_id.casefold()] = number
            progress.append(update)

    return Development(
        areas=pd.DataFrame(areas, columns=AREA_COLUMNS),
        progress=pd.DataFrame(progress + updates, columns=PROGRESS_COLUMNS),
        recommendations=pd.DataFrame(recommendations, columns=RECOMMENDATION_COLUMNS),
    )


def _update(row: dict, number: int, reject: Reject, earlier: Item, kind: str) -> dict | None:
    status = _status(row.get("status", ""))
    if status is None:
        reject(
            number,
            "status must be one of: " + ", ".join(STATUSES),
            row.get("status") or None,
        )
        return None
    text = _text(row, "progress", reject, number, "progress")
    if text is None:
        return None
    return {
        "area_id": earlier.id,
        "kind": kind,
        "raised_in": earlier.raised_in,
        "progress": text or None,
        "status": status,
    }


def latest_status(
    history: Sequence[tuple[str, Development]], kind: str | None = None, now: str | None = None
) -> tuple[dict[str, str], dict[str, str | None]]:
    """The latest recorded status of every area and recommendation (of ``kind`` only,
    when given) in ``history`` (cycles oldest first, each with its record), keyed by its
    id casefolded; and what cycle ``now``'s record noted of each (its ``progress``)."""
    status: dict[str, str] = {}
    noted: dict[str, str | None] = {}
    for cycle, record in history:
        for r in record.progress.itertuples():
            if kind is not None and r.kind != kind:
                continue
            status[r.area_id.casefold()] = r.status
            if cycle == now:
                noted[r.area_id.casefold()] = r.progress
    return status, noted


def open_items(history: Sequence[tuple[str, Development]]) -> list[tuple[Item, str]]:
    """Every area and recommendation raised in ``history`` (cycles oldest first, each
    with its record) whose latest status is not ``met`` or ``dropped``, with that
    status (``open`` when none was ever recorded)."""
    items: dict[str, Item] = {}
    for cycle, record in history:
        for item in _raised(record, cycle):
            items.setdefault(item.id.casefold(), item)
    status, _ = latest_status(history)
    return [
        (item, status.get(key, "open"))
        for key, item in items.items()
        if status.get(key, "open") not in CLOSED
    ]


def history(
    data_dir: Path,
    up_to: str,
    frameworks: Callable[[str], Framework],
    *,
    before: bool = False,
) -> list[tuple[str, Development]]:
    """Every cycle's development record in ``data_dir`` up to and including ``up_to``
    (only those before it, with ``before``), oldest first, each read against the cycles
    before it (rejected rows left out)."""
    last = audit_key(up_to)
    found = _cycle_folders(
        data_dir, (lambda c: audit_key(c) < last) if before else (lambda c: audit_key(c) <= last)
    )
    out: list[tuple[str, Development]] = []
    known: dict[str, Item] = {}
    for name, folder in found:
        try:
            framework = frameworks(name)
        except Exception:  # noqa: BLE001 - that cycle's own problem, reported there
            continue
        record = read_development(folder, framework, [], known=dict(known))
        for item in _raised(record, name):
            known.setdefault(item.id, item)
        out.append((name, record))
    return out
