"""Audit names and the data folder that holds one folder per audit.

An audit is named for a year (``2018-19``: an annual audit, a *year cycle*) or for a
dated theme (``2019-06-neglect``: a thematic audit, its year and month and a theme slug
of lower-case letters, digits and hyphens, starting with a letter). ``2018-19``,
``2018/19``, ``2018/2019`` and ``2018-2019`` typed anywhere name one year cycle, and
``2019-06-Neglect`` typed names ``2019-06-neglect`` (:func:`parse_cycle`).

Audits are ordered by date (:func:`audit_key`): a thematic audit by its year and month,
a year cycle by its *end*, March of its second year (``2018-19`` is dated 2019-03), since
an annual audit's findings are known when the year closes; a year cycle comes after the
thematic audits of the month it closes. So ``2018-10-neglect`` (held during 2018-19)
comes before ``2018-19``, and ``2019-06-neglect`` after it.

An audit's *folder*, though, is found by its canonical name alone:
:class:`DataFolder` is the one rule every reader uses (the loader, the runner, the
development record, the explorer) to say which cycles a data folder holds, in what
order, which of their names are symbolic links (never followed) and which folders are
near misses (``2018-2019``, ``2018-19-old``, ``2019-6-neglect``, ``2019-06_Neglect``:
named, never read instead).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from audit_analysis.exceptions import AuditDataError, CycleNotFoundError, UnknownCycleError

__all__ = [
    "AUDIT_NAME",
    "DataFolder",
    "audit_date",
    "audit_key",
    "audit_series",
    "audit_theme",
    "earlier_audits",
    "is_thematic",
    "next_cycle",
    "normalise_cycle",
    "parse_cycle",
    "same_series",
    "sort_audits",
]


_CYCLE = re.compile(r"(?<!\d)(\d{4})\s*[-/_\u2013]\s*(\d{4}|\d{2})(?!\d)")
_CANONICAL = re.compile(r"\d{4}-\d{2}")
#: The longest theme slug of a thematic audit's name.
MAX_THEME = 40
_SLUG = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*"
#: A thematic audit's name written in text (any case): year, month 01-12, theme.
_DATED = re.compile(rf"(?<![\d\w])(\d{{4}})-(0[1-9]|1[0-2])-({_SLUG})(?![\w-])", re.IGNORECASE)
_DATED_CANONICAL = re.compile(rf"(\d{{4}})-(0[1-9]|1[0-2])-({_SLUG})")
#: A folder name that looks like a dated theme written otherwise (``2019-6-neglect``,
#: ``2019_06 Neglect``): a near miss, named and never read.
_DATED_LOOSE = re.compile(r"\s*(\d{4})\s*[-_/. \u2013]\s*(\d{1,2})\s*[-_/. \u2013]+\s*(.*\w.*)")
#: The regular expression (a string) of every canonical audit name: a year cycle or a
#: dated theme. The one pattern the output folders' staging names are matched with.
AUDIT_NAME = rf"(?:\d{{4}}-\d{{2}}|\d{{4}}-(?:0[1-9]|1[0-2])-{_SLUG})"

#: What the message says an audit name is.
NAME_RULE = (
    "write a year as YYYY-YY (2018-19) or a thematic audit as YYYY-MM-theme "
    "(2019-06-neglect: year, month, a theme in lower-case letters, digits and hyphens)"
)


def _dated(text: str) -> str | None:
    match = _DATED.search(text)
    if not match:
        return None
    year, month, theme = match.groups()
    if len(theme) > MAX_THEME:
        return None
    return f"{year}-{month}-{theme.lower()}"


def parse_cycle(text: object) -> str | None:
    """The canonical name of the audit written in ``text`` (``YYYY-YY`` for a year
    cycle, ``YYYY-MM-theme`` for a thematic audit), or None."""
    if text is None:
        return None
    return _parse_cycle_text(text if text.__class__ is str else str(text))


@lru_cache(maxsize=1024)
def _parse_cycle_text(text: str) -> str | None:
    """:func:`parse_cycle` of a text, remembered (every return names its cycle twice)."""
    text = text.strip()
    dated = _dated(text)
    if dated is not None:
        return dated
    match = _CYCLE.search(text)
    if not match:
        return None
    start, end = match.groups()
    first = int(start)
    last = int(end) if len(end) == 4 else (first // 100) * 100 + int(end)
    if len(end) == 2 and last < first:
        last += 100
    if last != first + 1:
        return None
    return f"{first}-{last % 100:02d}"


def normalise_cycle(text: object) -> str:
    """Like :func:`parse_cycle` but raises :class:`UnknownCycleError` (one line) for a
    name that is neither a year cycle nor a dated theme."""
    cycle = parse_cycle(text)
    if cycle is None:
        raise UnknownCycleError(f"not an audit cycle; {NAME_RULE}", value=text)
    return cycle


def is_thematic(cycle: str) -> bool:
    """Whether ``cycle`` names a thematic audit (``2019-06-neglect``), not a year."""
    return _DATED_CANONICAL.fullmatch(normalise_cycle(cycle)) is not None


def audit_theme(cycle: str) -> str | None:
    """The theme slug of a thematic audit (``neglect``), None for a year cycle."""
    match = _DATED_CANONICAL.fullmatch(normalise_cycle(cycle))
    return match.group(3) if match else None


def audit_date(cycle: str) -> tuple[int, int]:
    """(year, month) an audit is dated by: a thematic audit's own, a year cycle's end
    (March of its second year: ``2018-19`` is (2019, 3))."""
    name = normalise_cycle(cycle)
    match = _DATED_CANONICAL.fullmatch(name)
    if match:
        return int(match.group(1)), int(match.group(2))
    return int(name[:4]) + 1, 3


def audit_key(cycle: str) -> tuple[int, int, int, str]:
    """The sort key of an audit: by date (:func:`audit_date`), a year cycle after the
    thematic audits of the month it closes, then by name."""
    if cycle.__class__ is str:
        return _audit_key_text(cycle)  # remembered: the loader asks twice a return
    return _audit_key(cycle)


def _audit_key(cycle: str) -> tuple[int, int, int, str]:
    name = normalise_cycle(cycle)
    year, month = audit_date(name)
    return year, month, 0 if is_thematic(name) else 1, name


_audit_key_text = lru_cache(maxsize=1024)(_audit_key)


def sort_audits(cycles) -> list[str]:
    """``cycles`` (canonical names) oldest first, by :func:`audit_key`."""
    return sorted(cycles, key=audit_key)


def audit_series(cycle: str) -> str:
    """The series an audit belongs to: ``annual`` for a year cycle, ``theme:<slug>`` for a
    thematic audit. A run compares, by default, with the earlier audits of its series:
    the same framework (an annual audit's framework carries its standards' keys from
    year to year; a thematic audit's tool is its theme's)."""
    theme = audit_theme(cycle)
    return "annual" if theme is None else f"theme:{theme}"


def same_series(cycle: str, other: str) -> bool:
    return audit_series(cycle) == audit_series(other)


def earlier_audits(cycles, cycle: str, *, series: bool = True) -> list[str]:
    """Of ``cycles``, those dated before ``cycle``, oldest first; with ``series`` (the
    default comparison of a run, the explorer and the commentary skeleton) only those of
    the same series (:func:`audit_series`)."""
    key = audit_key(cycle)
    return [
        c
        for c in sort_audits(cycles)
        if audit_key(c) < key and (not series or same_series(c, cycle))
    ]


def next_cycle(cycle: str) -> str:
    """The year cycle after ``cycle``; a thematic audit has no next by rule, so the new
    audit's name must be given (one line)."""
    name = normalise_cycle(cycle)
    if is_thematic(name):
        raise UnknownCycleError(
            f"{name} is a thematic audit: name the new audit (--to), a year (YYYY-YY) or "
            "a dated theme (YYYY-MM-theme)",
            value=cycle,
        )
    first = int(name[:4]) + 1
    return f"{first}-{(first + 1) % 100:02d}"


def _canonical_name(name: str) -> bool:
    if _DATED_CANONICAL.fullmatch(name):
        return parse_cycle(name) == name
    return bool(_CANONICAL.fullmatch(name)) and parse_cycle(name) == name


def _dated_near_miss(name: str) -> str | None:
    """The dated theme a folder name spells otherwise (``2019-6-Neglect`` ->
    ``2019-06-neglect``), or None."""
    match = _DATED_LOOSE.fullmatch(name)
    if not match:
        return None
    year, month, rest = match.groups()
    if not 1 <= int(month) <= 12:
        return None
    theme = re.sub(r"[^a-z0-9]+", "-", rest.lower()).strip("-")
    if not theme or not theme[0].isalpha():
        return None
    return f"{year}-{int(month):02d}-{theme[:MAX_THEME]}"


@dataclass(frozen=True)
class DataFolder:
    """What a data folder holds, by one rule.

    - ``cycles``: canonical name -> folder, oldest first (:func:`audit_key`), for every
      entry named exactly ``YYYY-YY`` (a valid cycle) or ``YYYY-MM-theme`` (a thematic
      audit) that is a real folder (not a link).
    - ``links``: canonical name -> path, for such names that are symbolic links: never
      followed, never read.
    - ``near_misses``: cycle -> names of the folders whose name spells that cycle
      otherwise (``2018-2019``, ``2018-19-old``, ``2018-19 (copy)``, ``2019-6-neglect``,
      ``2019-06 Neglect``): never read.
    """

    path: Path
    cycles: dict[str, Path] = field(default_factory=dict)
    links: dict[str, Path] = field(default_factory=dict)
    near_misses: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def scan(cls, path: str | os.PathLike) -> DataFolder:
        """Read the entries of ``path`` once (never following a link). A missing folder
        holds nothing."""
        path = Path(path)
        cycles: dict[str, Path] = {}
        links: dict[str, Path] = {}
        near: dict[str, list[str]] = {}
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError:
            entries = []
        for entry in entries:
            name = entry.name
            cycle = parse_cycle(name) or _dated_near_miss(name)
            if cycle is None:
                continue
            try:
                mode = os.lstat(entry.path).st_mode
            except OSError:
                continue
            if _canonical_name(name):
                if stat.S_ISLNK(mode):
                    links[name] = Path(entry.path)
                elif stat.S_ISDIR(mode):
                    cycles[name] = Path(entry.path)
            elif stat.S_ISDIR(mode) or stat.S_ISLNK(mode):
                near.setdefault(cycle, []).append(name)
        ordered = {name: cycles[name] for name in sort_audits(cycles)}
        return cls(path, ordered, links, near)

    # -- which cycles
    @property
    def order(self) -> list[str]:
        """The cycles, oldest first."""
        return list(self.cycles)

    def with_cases(self, cases_file: str = "cases.csv") -> list[str]:
        """The cycles whose folder holds a plain ``cases_file``, oldest first."""
        found = []
        for name, folder in self.cycles.items():
            try:
                if stat.S_ISREG(os.lstat(folder / cases_file).st_mode):
                    found.append(name)
            except OSError:
                continue
        return found

    def before(self, cycle: str) -> list[str]:
        """The audits dated before ``cycle`` (:func:`audit_key`), oldest first."""
        key = audit_key(cycle)
        return [c for c in self.cycles if audit_key(c) < key]

    def after(self, cycle: str) -> list[str]:
        key = audit_key(cycle)
        return [c for c in self.cycles if audit_key(c) > key]

    def folder(self, cycle: str) -> Path:
        """The folder of ``cycle``, or :class:`CycleNotFoundError` in one line that names
        a link or the near misses found instead."""
        cycle = normalise_cycle(cycle)
        if not self.path.is_dir():
            raise CycleNotFoundError("no such data folder", file=str(self.path))
        if cycle in self.cycles:
            return self.cycles[cycle]
        expected = self.path / cycle
        if cycle in self.links:
            raise CycleNotFoundError(
                f"the folder of cycle {cycle} is a symbolic link: not followed, so that "
                "nothing outside the data folder is read; put the folder itself there",
                file=str(expected),
            )
        misses = self.near_misses.get(cycle)
        if misses:
            shown = ", ".join(repr(m) for m in misses)
            raise CycleNotFoundError(
                f"no folder for cycle {cycle} (expected {expected}); found {shown}, which "
                f"is not read: rename the cycle's folder to exactly {cycle!r}",
                file=str(self.path),
            )
        raise CycleNotFoundError(
            f"no folder for cycle {cycle} (expected {expected})", file=str(self.path)
        )

    def notes(self, cycle: str | None = None) -> list[str]:
        """One line for each near miss and link (of ``cycle``, or of any cycle): what
        ``validate`` says it did not read."""
        lines = []
        for name, misses in sorted(self.near_misses.items()):
            if cycle is not None and name != cycle:
                continue
            for miss in misses:
                rule = "YYYY-MM-theme" if is_thematic(name) else "YYYY-YY"
                lines.append(
                    f"{miss}/ is not read: a cycle's folder is named exactly {rule} ({name})"
                )
        for name in sorted(self.links):
            if cycle is None or name == cycle:
                lines.append(f"{name}/ is a symbolic link: not followed, not read")
        return lines

    # -- where outputs may go
    def inputs(self) -> list[Path]:
        """Every folder of this data folder that holds inputs (the cycles, near misses
        and links, resolved), to keep outputs out of."""
        found = [*self.cycles.values(), *self.links.values()]
        found += [self.path / m for misses in self.near_misses.values() for m in misses]
        resolved = []
        for path in found:
            resolved.append(path.absolute())
            with contextlib.suppress(OSError):
                resolved.append(path.resolve())
        return list(dict.fromkeys(resolved))

    def overlap(self, target: str | os.PathLike) -> Path | None:
        """The input folder that ``target`` (resolved) is, contains or lies inside."""
        where = Path(target).resolve()
        for folder in self.inputs():
            if where == folder or folder in where.parents or where in folder.parents:
                return folder
        return None

    def refuse_output(self, target: str | os.PathLike, option: str = "--out") -> None:
        """Refuse, in one line and before anything is written, an output path that is,
        contains or lies inside a cycle folder of this data folder."""
        folder = self.overlap(target)
        if folder is not None:
            raise AuditDataError(
                f"{option} {os.fspath(target)} overlaps the input folder {folder}: outputs "
                "are never written into, around or over a cycle's folder; choose a folder "
                "outside the data folder's cycles. Nothing was written",
                file=None,
            )
