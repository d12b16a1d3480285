"""How a cycle's cases were chosen: the QA group's criteria (``selection.yaml``) and the
record ``audit-analysis select-cases`` writes (``selection_record.yaml``), read back.

Both sit in the cycle's folder beside ``cases.csv``. The draw itself is
:mod:`audit_analysis.admin.selection`; this module only reads, so that the analysis and the
report pages can say how the cases were chosen and weight their figures to it
(docs/selecting-cases.md).

``selection.yaml`` (every key optional)::

    ages:                    # whole years, both ends included, per priority theme
      early_help: [0, 11]
      exploitation: [11, 17]
    required: [carefirst_id] # columns that must hold a value
    one_per_family: family_id # at most one child per family (column of the candidate list)
    identifiers: [carefirst_id, tribal_id]  # default: every column named ..._id
    exclude_earlier_cycles: true            # default true

The priority themes both files name are the data folder's (``labels.yaml``,
:func:`audit_analysis.io.labels.load_labels`); the readers take those labels, the package's
three themes when none are given.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from audit_analysis.exceptions import AuditDataError
from audit_analysis.io.frameworks import StrictLoader
from audit_analysis.io.labels import LABELS_FILE, Labels, package_labels
from audit_analysis.io.returns import open_plain, special_file_reason
from audit_analysis.io.schemas import PRIORITIES
from audit_analysis.io.text import header_key

__all__ = [
    "CRITERIA_FILE",
    "identifier_like",
    "RECORD_FILE",
    "RESERVE_FILE",
    "Criteria",
    "SelectionRecord",
    "normalise_priority",
    "read_criteria",
    "read_record",
    "themes_of",
]

CRITERIA_FILE = "selection.yaml"
RECORD_FILE = "selection_record.yaml"
RESERVE_FILE = "reserve.csv"

_SHARED = ("family", "household", "sibling")
_ID_WORD = re.compile(r"(?:^|[\s_.\-])[iI][dD]$|[a-z0-9]ID$")
_CRITERIA_KEYS = ("ages", "required", "one_per_family", "identifiers", "exclude_earlier_cycles")


def normalise_priority(value: object) -> str:
    """A priority theme as the loader reads it: ``Early help``, ``early-help`` and
    ``early_help`` are ``early_help``; blank is ``""``."""
    return str(value or "").strip().casefold().replace(" ", "_").replace("-", "_")


def themes_of(labels: Labels | None) -> tuple[tuple[str, ...], str]:
    """The priority themes of ``labels`` (None: the package's), in page order, and the
    words a message adds after naming them: `` (labels.yaml)`` when a data folder's
    ``labels.yaml`` named them, else nothing."""
    if labels is None or labels.priorities is package_labels().priorities:
        return PRIORITIES, ""  # no labels.yaml, or one naming age bands only
    return tuple(labels.priorities), f" ({LABELS_FILE})"


@dataclass(frozen=True)
class Criteria:
    """The QA group's criteria for a draw (``selection.yaml``)."""

    ages: dict[str, tuple[int, int]] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    one_per_family: str | None = None
    identifiers: tuple[str, ...] | None = None  # None: every column named ..._id
    exclude_earlier_cycles: bool = True

    def as_record(self, priorities: tuple[str, ...] = PRIORITIES) -> dict:
        """The criteria as the selection record states them, ``ages`` in the order of
        ``priorities`` (the data folder's themes)."""
        return {
            "ages": {p: list(self.ages[p]) for p in priorities if p in self.ages},
            "required": list(self.required),
            "one_per_family": self.one_per_family,
            "identifiers": None if self.identifiers is None else list(self.identifiers),
            "exclude_earlier_cycles": self.exclude_earlier_cycles,
        }


def _load(path: Path) -> object:
    special = special_file_reason(path)
    if special is not None:
        raise AuditDataError(f"not read: {special}", file=str(path))
    try:
        with open_plain(path, "r", encoding="utf-8-sig") as fh:
            # the frameworks' loader: no anchors or aliases, no key given twice
            return yaml.load(fh, Loader=StrictLoader)  # noqa: S506 - a safe loader, stricter
    except AuditDataError as exc:  # a key given twice, naming its lines
        raise AuditDataError(exc.reason, file=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise AuditDataError(f"not readable YAML{where}", file=str(path)) from None
    except UnicodeDecodeError:
        raise AuditDataError("not UTF-8 text", file=str(path)) from None


def _names(value: object, key: str, path: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise AuditDataError(f"{key!r} must be a list of column names", file=str(path))
    return tuple(v.strip() for v in value)


def parse_criteria(
    raw: object, source: str = CRITERIA_FILE, labels: Labels | None = None
) -> Criteria:
    """:class:`Criteria` from the parsed YAML, ``ages`` keyed by ``labels``' themes (None:
    the package's); :class:`AuditDataError` naming the key."""
    priorities, named = themes_of(labels)
    path = Path(source)
    if raw is None:
        return Criteria()
    if not isinstance(raw, dict):
        raise AuditDataError("expected keys such as ages, required, one_per_family", file=source)
    unknown = [str(k) for k in raw if k not in _CRITERIA_KEYS]
    if unknown:
        raise AuditDataError(
            f"unknown key {unknown[0]!r}; the keys are {', '.join(_CRITERIA_KEYS)}", file=source
        )
    ages: dict[str, tuple[int, int]] = {}
    given = raw.get("ages") or {}
    if not isinstance(given, dict):
        raise AuditDataError(
            "'ages' must map each priority theme to [lowest, highest]", file=source
        )
    for name, span in given.items():
        priority = normalise_priority(name)
        if priority not in priorities:
            raise AuditDataError(
                f"ages: {name!r} is not a priority theme ({', '.join(priorities)}{named})",
                file=source,
            )
        if (
            not isinstance(span, list)
            or len(span) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in span)
            or not 0 <= span[0] <= span[1] <= 30
        ):
            raise AuditDataError(
                f"ages: {name} must be [lowest, highest], whole years from 0 to 30", file=source
            )
        ages[priority] = (span[0], span[1])
    family = raw.get("one_per_family")
    if family is not None and (not isinstance(family, str) or not family.strip()):
        raise AuditDataError("'one_per_family' must name a column", file=source)
    exclude = raw.get("exclude_earlier_cycles", True)
    if not isinstance(exclude, bool):
        raise AuditDataError("'exclude_earlier_cycles' must be true or false", file=source)
    identifiers = raw.get("identifiers")
    return Criteria(
        ages=ages,
        required=_names(raw.get("required"), "required", path),
        one_per_family=family.strip() if family else None,
        identifiers=None if identifiers is None else _names(identifiers, "identifiers", path),
        exclude_earlier_cycles=exclude,
    )


def read_criteria(folder: str | Path, labels: Labels | None = None) -> Criteria | None:
    """The criteria in ``folder/selection.yaml`` on ``labels``' themes (the data folder's,
    :func:`~audit_analysis.io.labels.load_labels`); None when there is none."""
    path = Path(folder) / CRITERIA_FILE
    if not os.path.lexists(path):
        return None
    return parse_criteria(_load(path), str(path), labels)


@dataclass(frozen=True)
class SelectionRecord:
    """What a selection record says, as the analysis and the pages need it."""

    cycle: str
    per_priority: int
    drawn: dict[str, int]  # cases drawn per priority theme
    population: dict[str, int]  # eligible candidates per priority theme
    seed: int | None
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def total_drawn(self) -> int:
        return sum(self.drawn.values())

    @property
    def total_population(self) -> int:
        return sum(self.population.values())


def _counts(
    raw: dict, key: str, source: str, priorities: tuple[str, ...], named: str
) -> dict[str, int]:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise AuditDataError(f"no {key!r} counts per priority theme", file=source)
    out: dict[str, int] = {}
    for name, count in value.items():
        priority = normalise_priority(name)
        if priority not in priorities:
            raise AuditDataError(
                f"{key}: {name!r} is not a priority theme ({', '.join(priorities)}{named})",
                file=source,
            )
        if not isinstance(count, int) or count < 0:
            raise AuditDataError(
                f"{key}: expected a whole number for each priority theme", file=source
            )
        out[priority] = count
    return {p: out[p] for p in priorities if p in out}


def parse_record(
    raw: object, source: str = RECORD_FILE, labels: Labels | None = None
) -> SelectionRecord:
    """A selection record on ``labels``' themes (None: the package's)."""
    if not isinstance(raw, dict):
        raise AuditDataError("not a selection record", file=source)
    priorities, named = themes_of(labels)
    drawn = _counts(raw, "drawn", source, priorities, named)
    population = _counts(raw, "eligible", source, priorities, named)
    for priority, count in drawn.items():
        if count > population.get(priority, 0):
            raise AuditDataError(
                f"{priority}: more cases drawn ({count}) than eligible", file=source
            )
    seed = raw.get("seed")
    per = raw.get("per_priority")
    return SelectionRecord(
        cycle=str(raw.get("cycle", "")),
        per_priority=per if isinstance(per, int) else max(drawn.values(), default=0),
        drawn=drawn,
        population=population,
        seed=seed if isinstance(seed, int) else None,
        raw=raw,
    )


def read_record(folder: str | Path, labels: Labels | None = None) -> SelectionRecord | None:
    """The selection record in ``folder``, on ``labels``' themes (the data folder's); None
    when the cases were not drawn by ``select-cases`` (no record). A record that cannot be
    read is an :class:`AuditDataError` naming it."""
    path = Path(folder) / RECORD_FILE
    if not os.path.lexists(path):
        return None
    return parse_record(_load(path), str(path), labels)


def identifier_like(name: str) -> bool:
    """A column the draw treats as a child's identifier by default: its name ends in
    the word ``id`` (``carefirst_id``, ``Tribal ID``, ``CareFirstID``; not ``paid``) and
    names no family, household or sibling group (which several children share)."""
    text = name.replace("\xa0", " ").strip()
    return bool(_ID_WORD.search(text)) and not header_key(text).startswith(_SHARED)
