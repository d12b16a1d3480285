"""The partnership's priority themes and age bands: ``labels.yaml``.

A ``labels.yaml`` at the top of a data folder may name the partnership's priority themes
(the codes ``cases.csv``'s ``priority`` column takes, in the order the pages list them,
each with its display words) and its age bands (``0-4: 0 to 4 years``, ..., the last
open, ``18+``)::

    priority:
      neglect: Neglect
      domestic_abuse: Domestic abuse
      cse: Child sexual exploitation
    age_band:
      "0-10": 0 to 10 years
      "11+": 11 and over

Either key may be left out: the package's ``audit_analysis/data/labels.yaml`` gives what
is missing, and is the whole default. :func:`load_labels` checks the file and refuses a
bad one in one line naming the file and the value; :func:`load_cycle
<audit_analysis.io.dataset.load_cycle>` checks ``cases.csv``'s priorities against it and
makes it the labels in use (:func:`current`) for the summaries, the pages and the
explorer of that run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from audit_analysis.exceptions import AuditDataError

__all__ = ["LABELS_FILE", "Labels", "activate", "current", "load_labels", "priority_code"]

LABELS_FILE = "labels.yaml"
#: The most priority themes (or age bands) a partnership may name.
MAX_ITEMS = 12
_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_BAND = re.compile(r"(\d{1,2})-(\d{1,2})|(\d{1,2})\+")
_KEYS = ("priority", "age_band")


def priority_code(text: object) -> str:
    """How a ``priority`` cell (or a theme's words) is read: case folded, spaces and
    hyphens as underscores (``Early help`` -> ``early_help``)."""
    return str(text).strip().casefold().replace(" ", "_").replace("-", "_")


@dataclass(frozen=True)
class Labels:
    """Priority themes and age bands: code -> display words, in the pages' order."""

    priorities: dict[str, str]
    age_bands: dict[str, str]
    source: str = ""

    @property
    def edges(self) -> tuple[int, ...]:
        """The first age of each band, ascending (``(0, 5, 11, 16, 18)``)."""
        return tuple(int(re.match(r"\d+", band).group()) for band in self.age_bands)

    def theme(self, cell: object) -> str | None:
        """The theme a ``priority`` cell names, by its code or its display words, or
        None."""
        key = priority_code(cell)
        if key in self.priorities:
            return key
        for code, words in self.priorities.items():
            if priority_code(words) == key:
                return code
        return None


def _fail(reason: str, source: str, value: object = None) -> AuditDataError:
    return AuditDataError(f"labels: {reason}", file=source or None, value=value)


def _priorities(raw: object, source: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        raise _fail("'priority' must map each theme's code to its words", source, raw)
    if len(raw) > MAX_ITEMS:
        raise _fail(f"'priority' names {len(raw)} themes; at most {MAX_ITEMS}", source)
    out: dict[str, str] = {}
    for code, words in raw.items():
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            raise _fail(
                "a theme's code is lower-case letters, digits and underscores, starting "
                "with a letter (neglect, domestic_abuse)",
                source,
                code,
            )
        if not isinstance(words, str) or not words.strip() or len(words) > 80:
            raise _fail(f"theme {code!r} needs its words (up to 80 characters)", source, words)
        out[code] = words.strip()
    return out


def _age_bands(raw: object, source: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        raise _fail("'age_band' must map each band (0-4, ..., 18+) to its words", source, raw)
    if len(raw) > MAX_ITEMS:
        raise _fail(f"'age_band' names {len(raw)} bands; at most {MAX_ITEMS}", source)
    out: dict[str, str] = {}
    expected = 0
    bands = list(raw.items())
    for index, (band, words) in enumerate(bands):
        match = _BAND.fullmatch(str(band).strip())
        last = index == len(bands) - 1
        if not match:
            raise _fail("an age band is written 5-10 (ages 5 to 10) or 18+", source, band)
        start = int(match.group(1) or match.group(3))
        if start != expected:
            raise _fail(
                f"age bands run from 0 upwards with no gap or overlap: expected a band "
                f"starting at {expected}",
                source,
                band,
            )
        if match.group(3) is not None and not last:
            raise _fail("only the last age band is open (18+)", source, band)
        if match.group(3) is None:
            end = int(match.group(2))
            if end < start:
                raise _fail("an age band ends before it starts", source, band)
            if last:
                raise _fail("the last age band is open (for example 18+)", source, band)
            expected = end + 1
        if not isinstance(words, str) or not words.strip() or len(words) > 80:
            raise _fail(f"age band {band!r} needs its words (up to 80 characters)", source, words)
        out[str(band).strip()] = words.strip()
    return out


def parse_labels(raw: object, source: str = "", base: Labels | None = None) -> Labels:
    """Check a ``labels.yaml``'s structure; what it leaves out comes from ``base``."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise _fail("expected a mapping with 'priority' and/or 'age_band'", source, raw)
    if base is not None:  # a partnership's file: no other keys, so a typo is not ignored
        unknown = [k for k in raw if k not in _KEYS]
        if unknown:
            raise _fail(
                f"unknown key {unknown[0]!r}; a data folder's labels.yaml may name "
                "'priority' and 'age_band'",
                source,
                unknown[0],
            )
    priorities = _priorities(raw["priority"], source) if "priority" in raw or base is None else None
    bands = _age_bands(raw["age_band"], source) if "age_band" in raw or base is None else None
    return Labels(
        priorities if priorities is not None else base.priorities,
        bands if bands is not None else base.age_bands,
        source,
    )


@lru_cache(maxsize=1)
def package_labels() -> Labels:
    """The package's ``audit_analysis/data/labels.yaml``: the default."""
    import yaml

    path = resources.files("audit_analysis") / "data" / LABELS_FILE
    return parse_labels(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))


def load_labels(data_dir: str | Path | None = None) -> Labels:
    """``DATA/labels.yaml`` over the package's labels, or the package's alone when the
    data folder has none. A bad file is refused in one line (:class:`AuditDataError`)."""
    default = package_labels()
    if data_dir is None:
        return default
    path = Path(data_dir) / LABELS_FILE
    if not (path.is_file() or path.is_symlink()):
        return default
    from audit_analysis.io.frameworks import load_yaml

    return parse_labels(load_yaml(path), str(path), base=default)


_active: list[Labels] = []


def activate(labels: Labels) -> None:
    """Make ``labels`` the ones in use: the last data folder loaded in this process (and
    the notebook kernels a run starts from it) names the themes and age bands."""
    _active[:] = [labels]


def current() -> Labels:
    """The labels in use: those of the data folder last loaded, else the package's."""
    return _active[0] if _active else package_labels()
