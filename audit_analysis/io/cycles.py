"""Audit cycle names and the data folder that holds one folder per cycle.

``2018-19``, ``2018/19``, ``2018/2019`` and ``2018-2019`` typed anywhere name one cycle
(:func:`parse_cycle`). A cycle's *folder*, though, is found by its canonical name alone:
:class:`DataFolder` is the one rule every reader uses (the loader, the runner, the
development record, the explorer) to say which cycles a data folder holds, in what
order, which of their names are symbolic links (never followed) and which folders are
near misses (``2018-2019``, ``2018-19-old``: named, never read instead).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from audit_analysis.exceptions import AuditDataError, CycleNotFoundError, UnknownCycleError

__all__ = ["DataFolder", "next_cycle", "normalise_cycle", "parse_cycle"]


_CYCLE = re.compile(r"(?<!\d)(\d{4})\s*[-/_\u2013]\s*(\d{4}|\d{2})(?!\d)")
_CANONICAL = re.compile(r"\d{4}-\d{2}")


def parse_cycle(text: object) -> str | None:
    """The canonical ``YYYY-YY`` name of a cycle written in ``text``, or None."""
    if text is None:
        return None
    match = _CYCLE.search(str(text).strip())
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
    """Like :func:`parse_cycle` but raises :class:`UnknownCycleError` for a non-cycle."""
    cycle = parse_cycle(text)
    if cycle is None:
        raise UnknownCycleError(
            "not an audit cycle; write it as YYYY-YY, for example 2018-19", value=text
        )
    return cycle


def next_cycle(cycle: str) -> str:
    first = int(normalise_cycle(cycle)[:4]) + 1
    return f"{first}-{(first + 1) % 100:02d}"


def _canonical_name(name: str) -> bool:
    return bool(_CANONICAL.fullmatch(name)) and parse_cycle(name) == name


@dataclass(frozen=True)
class DataFolder:
    """What a data folder holds, by one rule.

    - ``cycles``: canonical name -> folder, oldest first, for every entry named exactly
      ``YYYY-YY`` (a valid cycle) that is a real folder (not a link).
    - ``links``: canonical name -> path, for such names that are symbolic links: never
      followed, never read.
    - ``near_misses``: cycle -> names of the folders whose name spells that cycle
      otherwise (``2018-2019``, ``2018-19-old``, ``2018-19 (copy)``): never read.
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
            cycle = parse_cycle(name)
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
        return cls(path, dict(sorted(cycles.items())), links, near)

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
        return [c for c in self.cycles if c < cycle]

    def after(self, cycle: str) -> list[str]:
        return [c for c in self.cycles if c > cycle]

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
                lines.append(
                    f"{miss}/ is not read: a cycle's folder is named exactly YYYY-YY ({name})"
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
