"""Audit frameworks as data: each cycle's KLOEs and numbered standards, with stable keys.

A framework lives in a YAML file. The suite ships the 2016-17, 2017-18 and 2018-19
frameworks in ``audit_analysis/data/frameworks/``; a partnership's own (for a new cycle)
lives beside its data as ``DATA/<cycle>/framework.yaml`` and takes precedence.
A standard's *key* never changes once given: it is what links a standard across cycles
when standards are renumbered, so trends compare like with like.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from audit_analysis.exceptions import AuditDataError, UnknownCycleError
from audit_analysis.io.cycles import DataFolder, normalise_cycle, parse_cycle, sort_audits

__all__ = [
    "StrictLoader",
    "FRAMEWORK_FILE",
    "Framework",
    "Kloe",
    "MAX_YAML_BYTES",
    "MAX_YAML_TEXT",
    "Standard",
    "available_cycles",
    "framework_path",
    "is_builtin",
    "load_framework",
    "load_yaml",
    "map_standard",
    "parse_framework",
    "standard_crosswalk",
]


FRAMEWORK_FILE = "framework.yaml"


@dataclass(frozen=True)
class Standard:
    number: int
    key: str
    kloe: int
    kloe_key: str
    text: str
    short: str = ""  # a short name for charts and headlines; "" gives the full wording

    @property
    def name(self) -> str:
        """What a page calls the standard: its short name, or else its full wording."""
        return self.short or self.text


@dataclass(frozen=True)
class Kloe:
    number: int
    key: str
    title: str
    question: str
    standards: tuple[Standard, ...]


@dataclass(frozen=True)
class Framework:
    cycle: str
    kloes: tuple[Kloe, ...]
    reconstructed: bool = False
    note: str = ""
    source: str = ""

    @property
    def standards(self) -> tuple[Standard, ...]:
        return tuple(s for k in self.kloes for s in k.standards)

    @cached_property
    def _by_number(self) -> dict[int, Standard]:
        return {s.number: s for s in self.standards}

    @cached_property
    def _by_key(self) -> dict[str, Standard]:
        return {s.key: s for s in self.standards}

    def by_number(self, number: int) -> Standard | None:
        return self._by_number.get(number)

    def by_key(self, key: str) -> Standard | None:
        return self._by_key.get(key)

    def kloe(self, number: int) -> Kloe | None:
        return next((k for k in self.kloes if k.number == number), None)

    def to_frame(self) -> pd.DataFrame:
        """One row per standard: ``kloe``, ``kloe_key``, ``kloe_title``, ``standard``,
        ``standard_key``, ``text`` and ``short`` (the short name, or the wording when the
        framework gives none)."""
        titles = {k.number: k.title for k in self.kloes}
        return pd.DataFrame(
            [
                {
                    "kloe": s.kloe,
                    "kloe_key": s.kloe_key,
                    "kloe_title": titles[s.kloe],
                    "standard": s.number,
                    "standard_key": s.key,
                    "text": s.text,
                    "short": s.name,
                }
                for s in self.standards
            ]
        )


def _builtin_dir() -> Path:
    return Path(str(resources.files("audit_analysis") / "data" / "frameworks"))


def framework_path(cycle: str, data_dir: str | Path | None = None) -> Path | None:
    """Where the framework of ``cycle`` is read from, or None if there is none."""
    cycle = normalise_cycle(cycle)
    if data_dir is not None:
        own = Path(data_dir) / cycle / FRAMEWORK_FILE
        if own.is_file() or own.is_symlink():  # a link is refused when read, not ignored
            return own
    builtin = _builtin_dir() / f"{cycle}.yaml"
    return builtin if builtin.is_file() else None


def is_builtin(framework: Framework) -> bool:
    """Whether ``framework`` was read from the suite's own files in
    ``audit_analysis/data/frameworks/``, not from a partnership's ``framework.yaml``."""
    if not framework.source:
        return False
    return Path(framework.source).resolve().parent == _builtin_dir().resolve()


def available_cycles(data_dir: str | Path | None = None) -> list[str]:
    """Cycles with a framework: the built-in ones plus any under ``data_dir``."""
    found = {p.stem for p in _builtin_dir().glob("*.yaml") if parse_cycle(p.stem)}
    if data_dir is not None:
        for name, folder in DataFolder.scan(data_dir).cycles.items():
            if (folder / FRAMEWORK_FILE).is_file():
                found.add(name)
    return sort_audits(found)


def load_framework(cycle: str, data_dir: str | Path | None = None) -> Framework:
    """The framework of ``cycle``; the partnership's own file under ``data_dir`` wins."""
    path = framework_path(cycle, data_dir)
    if path is None:
        raise UnknownCycleError(
            f"no framework for cycle {normalise_cycle(cycle)}; known: "
            + ", ".join(available_cycles(data_dir)),
            value=cycle,
        )
    try:
        stamp = path.lstat().st_mtime_ns
    except OSError as exc:
        raise AuditDataError(f"cannot read framework: {exc.strerror}", file=str(path)) from None
    framework = _load_file(str(path), stamp, normalise_cycle(cycle))
    if framework.cycle != normalise_cycle(cycle):
        raise AuditDataError(
            f"this framework says it is for {framework.cycle} but is the framework of "
            f"{normalise_cycle(cycle)} (its folder): correct its 'cycle:'",
            file=str(path),
            value=framework.cycle,
        )
    return framework


#: A framework file larger than this is refused unread (the built-in ones are 10 KB).
MAX_YAML_BYTES = 1024 * 1024
#: The longest text a framework may hold (a standard's wording, a note).
MAX_YAML_TEXT = 10_000


class StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader refusing anchors and aliases: a framework has no use for
    them, and nested aliases ("billion laughs") expand a small file into gigabytes."""

    def compose_node(self, parent, index):  # noqa: D102
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None,
                None,
                "anchors and aliases (& and *) are not allowed in this file; "
                "write each value out in full",
                event.start_mark,
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):  # noqa: D102
        # A key given twice (a second `kloes:`) would silently replace the first.
        if isinstance(node, yaml.MappingNode):
            seen: dict[object, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: the base loader says so
                    continue
                line = key_node.start_mark.line + 1
                if first is not None:
                    raise AuditDataError(
                        f"line {line}: the key {key!r} is given twice in one mapping (first "
                        f"on line {first}); the second would replace the first: keep one",
                    )
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _longest_text(value: object, depth: int = 0) -> int:
    if depth > 50:
        raise ValueError("nested more than 50 levels deep")
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = value
    else:
        return 0
    return max((_longest_text(v, depth + 1) for v in items), default=0)


def load_yaml(path: str | Path) -> object:
    """A YAML file read safely: a plain file (never through a link), at most
    :data:`MAX_YAML_BYTES`, no anchors or aliases, no text over :data:`MAX_YAML_TEXT`
    characters. Raises :class:`AuditDataError` naming the file."""
    import os
    import stat

    where = str(path)
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            raise AuditDataError("a symbolic link: not followed; copy the file itself", file=where)
        if not stat.S_ISREG(info.st_mode):
            raise AuditDataError("not a plain file", file=where)
        if info.st_size > MAX_YAML_BYTES:
            raise AuditDataError(
                f"file is {info.st_size:,} bytes, over the {MAX_YAML_BYTES:,} allowed",
                file=where,
            )
        text = Path(path).read_text(encoding="utf-8")
        raw = yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a safe loader, stricter
        longest = _longest_text(raw)
    except AuditDataError as exc:
        if exc.file is None:
            exc = AuditDataError(exc.reason, file=where)
        raise exc from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditDataError(f"cannot read: {exc}", file=where) from None
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())[:300]
        raise AuditDataError(f"cannot read: {detail}", file=where) from None
    except (RecursionError, ValueError):
        reason = "cannot read: its lists or mappings are nested too deep"
        raise AuditDataError(reason, file=where) from None
    if longest > MAX_YAML_TEXT:
        raise AuditDataError(
            f"a text in the file is {longest:,} characters long, over the "
            f"{MAX_YAML_TEXT:,} allowed",
            file=where,
        )
    return raw


@lru_cache(maxsize=32)
def _load_file(path: str, _mtime: int, cycle: str | None = None) -> Framework:
    return parse_framework(load_yaml(path), source=path, cycle=cycle)


def parse_framework(raw: object, source: str = "", cycle: str | None = None) -> Framework:
    """Build and check a :class:`Framework` from its YAML structure. ``cycle`` (the
    cycle whose folder holds the file) is the framework's when it has no ``cycle:`` key;
    a ``cycle:`` that names another cycle is for :func:`load_framework` to refuse."""

    def fail(reason: str, value: object = None) -> AuditDataError:
        return AuditDataError(f"framework: {reason}", file=source or None, value=value)

    if not isinstance(raw, dict) or "kloes" not in raw:
        raise fail("expected a mapping with 'cycle' and 'kloes'")
    if raw.get("cycle") is None and cycle is not None:
        named = parse_cycle(cycle)  # no `cycle:` (or an empty one): the folder's
    else:
        named = parse_cycle(raw.get("cycle"))
    if named is None:
        raise fail("'cycle' is not a cycle name", raw.get("cycle"))

    def number(value: object, what: str) -> int:
        # A return names a standard by 1 to 3 digits (dataset._STANDARD): a framework's
        # numbers are whole numbers from 1 to 999, or no return could name them.
        if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 3:
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 999:
            raise fail(f"{what} number must be a whole number from 1 to 999", value)
        return value

    kloes, numbers, keys = [], set(), set()
    for k in raw["kloes"] or []:
        try:
            knum, kkey = number(k["number"], "a KLOE"), str(k["key"])
            standards = []
            for s in k.get("standards") or []:
                snum, skey = number(s["number"], "a standard"), str(s["key"]).strip()
                if snum in numbers:
                    raise fail(f"standard number {snum} appears twice", snum)
                if not skey or skey in keys:
                    raise fail(f"standard key {skey!r} is empty or appears twice", skey)
                numbers.add(snum)
                keys.add(skey)
                text = str(s.get("text", "")).strip()
                short = " ".join(str(s.get("short") or "").split())
                standards.append(Standard(snum, skey, knum, kkey, text, short))
        except (KeyError, TypeError, ValueError) as exc:
            raise fail(f"malformed KLOE or standard entry ({exc})", k) from None
        kloes.append(
            Kloe(
                knum,
                kkey,
                str(k.get("title", kkey)),
                str(k.get("question", "")).strip(),
                tuple(standards),
            )
        )
    if not numbers:
        raise fail("no standards")
    return Framework(
        cycle=named,
        kloes=tuple(kloes),
        reconstructed=bool(raw.get("reconstructed", False)),
        note=str(raw.get("note", "")).strip(),
        source=source,
    )


def map_standard(
    number: int, from_cycle: str, to_cycle: str, data_dir: str | Path | None = None
) -> int | None:
    """The number in ``to_cycle`` of standard ``number`` of ``from_cycle``, by key;
    None when it has no counterpart."""
    src = load_framework(from_cycle, data_dir).by_number(int(number))
    if src is None:
        raise AuditDataError(f"standard {number} is not in the {from_cycle} framework")
    dst = load_framework(to_cycle, data_dir).by_key(src.key)
    return None if dst is None else dst.number


def standard_crosswalk(cycles: list[str], data_dir: str | Path | None = None) -> pd.DataFrame:
    """Every standard key across ``cycles``, with its number in each (missing when absent).

    Ordered by the last cycle's numbering, then keys found only in earlier cycles.
    """
    fws = [load_framework(c, data_dir) for c in cycles]
    order: list[str] = []
    for fw in reversed(fws):
        order += [s.key for s in fw.standards if s.key not in order]
    table = pd.DataFrame({"standard_key": order})
    for fw in fws:
        numbers = {s.key: s.number for s in fw.standards}
        table[fw.cycle] = pd.array([numbers.get(k) for k in order], dtype="Int64")
    return table
