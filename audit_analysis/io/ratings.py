"""Rating words and the ordered rating scale (docs/data-contract.md, "Ratings";
docs/own-scale.md).

The package's ``data/ratings.yaml`` is the built-in scale (Exceeded / Met / Partially met /
Not met). A partnership may bring its own: a ``ratings.yaml`` of the same form at the top
of its data folder, or in one audit's folder where it changed its scale for that audit
(:func:`scale_for`). A :class:`Scale` says the levels in order, worst to best, the words a
reader sees for each, the spellings auditors write, and which top levels count as *good*.

The ``rating`` column of a loaded ``ratings`` table is an ordered categorical over
``(not_recorded, not_applicable, *levels)``; :func:`scale_of` finds the scale again from
that column, so every summary counts "rated good" as the scale that rated it defines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from audit_analysis.exceptions import AuditDataError
from audit_analysis.io.text import cell_text, is_blank, or_list

__all__ = [
    "BUILTIN",
    "CATEGORIES",
    "MET_OR_BETTER",
    "NOT_APPLICABLE",
    "NOT_RECORDED",
    "RATINGS_FILE",
    "RATING_DTYPE",
    "SCALE",
    "Scale",
    "parse_rating",
    "rating_words",
    "read_scale",
    "scale_for",
    "scale_of",
    "spelling_key",
]


NOT_RECORDED = "not_recorded"
NOT_APPLICABLE = "not_applicable"
OUTSIDE = (NOT_RECORDED, NOT_APPLICABLE)
RATINGS_FILE = "ratings.yaml"
MIN_LEVELS, MAX_LEVELS = 2, 7
_WORDS = {"good", "good_verb", "good_short", "not_good", "worst"}
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


def spelling_key(value: object) -> str:
    text = cell_text(value).replace("\xa0", " ").strip().casefold()
    text = text.removesuffix(".").strip()
    text = re.sub(r"[-_]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True, eq=False)
class Scale:
    """An ordered rating scale. ``levels`` worst to best; ``good`` the top levels counted
    as a good outcome; ``labels`` the words a reader sees (levels and the two outside
    the scale); ``spellings`` category -> the words auditors may write for it."""

    levels: tuple[str, ...]
    good: tuple[str, ...]
    labels: Mapping[str, str]
    spellings: Mapping[str, tuple[str, ...]]
    source: str = "built-in"
    words: Mapping[str, str] = field(default_factory=dict)
    _lookup: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        lookup = {
            spelling_key(word): category
            for category, words in self.spellings.items()
            for word in words
        }
        for category in self.levels:  # a level's key and its words are spellings too
            lookup.setdefault(spelling_key(self.label(category)), category)
            lookup.setdefault(spelling_key(category), category)
        lookup.setdefault(spelling_key(self.label(NOT_APPLICABLE)), NOT_APPLICABLE)
        self._lookup.update(lookup)
        # The scale a ratings table's categories stand for (:func:`scale_of`): the latest
        # one read, in this process or unpickled from a cache or another process.
        _REGISTRY[self.categories] = self

    def __reduce__(self):
        # Rebuilt through __init__, so a scale unpickled in a notebook's kernel (from the
        # load cache) is registered there too.
        fields = (self.levels, self.good, dict(self.labels), dict(self.spellings))
        return (_rebuild, (*fields, self.source, dict(self.words)))

    @property
    def categories(self) -> tuple[str, ...]:
        return (NOT_RECORDED, NOT_APPLICABLE, *self.levels)

    @property
    def dtype(self) -> pd.CategoricalDtype:
        return pd.CategoricalDtype(list(self.categories), ordered=True)

    @property
    def best_first(self) -> tuple[str, ...]:
        return tuple(reversed(self.levels))

    @property
    def not_good(self) -> tuple[str, ...]:
        return tuple(c for c in self.levels if c not in self.good)

    @property
    def worst(self) -> str:
        return self.levels[0]

    def label(self, category: str) -> str:
        return self.labels.get(category, category.replace("_", " ").capitalize())

    @property
    def name(self) -> str:
        """The scale in words, best first: "Exceeded / Met / Partially met / Not met"."""
        return " / ".join(self.label(c) for c in self.best_first)

    @property
    def good_words(self) -> str:
        """What "rated good" means, in the scale's own words: "Met or Exceeded"."""
        return or_list([self.label(c) for c in self.good])

    @property
    def good_as(self) -> str:
        """How a sentence says a rating was good, after "share": "met or exceeded" on the
        built-in scale (its ``words: good:``), else "rated Good or Outstanding"."""
        return self.words.get("good") or f"rated {self.good_words}"

    @property
    def good_did(self) -> str:
        """The same as a verb, after "ratings": "met or exceeded the standard" on the
        built-in scale (``words: good_verb:``), else "were rated Good or Outstanding"."""
        return self.words.get("good_verb") or f"were rated {self.good_words}"

    @property
    def good_adj(self) -> str:
        """The good levels before "ratings": "met or exceeded"; "Good or Outstanding"."""
        return self.words.get("good") or self.good_words

    @property
    def good_short(self) -> str:
        """The good side of a disagreement: "met" on the built-in scale
        (``words: good_short:``), else the good levels' words."""
        return self.words.get("good_short") or self.good_words

    @property
    def not_good_as(self) -> str:
        """The levels not counted good, in a sentence: "not or partly met" on the built-in
        scale (``words: not_good:``), else "rated Requires improvement or Inadequate"."""
        if "not_good" in self.words:
            return self.words["not_good"]
        return "rated " + or_list([self.label(c) for c in reversed(self.not_good)])

    @property
    def worst_as(self) -> str:
        """How a sentence names the worst level: "unmet" on the built-in scale
        (``words: worst:``), else its label."""
        return self.words.get("worst") or self.label(self.worst)

    @property
    def ordinal(self) -> bool:
        """Agreement is ordinal over three or more levels, nominal over two."""
        return len(self.levels) > 2

    def parse(self, value: object) -> str | None:
        """The category a cell holds; ``not_recorded`` for a blank cell; None when the
        text is no known rating (the caller rejects it, keeping the raw text)."""
        if is_blank(value):
            return NOT_RECORDED
        if isinstance(value, bool):
            return None
        return self._lookup.get(spelling_key(value))

    def same_levels(self, other: Scale) -> bool:
        return self.levels == other.levels


_REGISTRY: dict[tuple[str, ...], Scale] = {}


def _rebuild(levels, good, labels, spellings, source, words) -> Scale:
    if source == _BUILTIN_SOURCE:
        _REGISTRY[BUILTIN.categories] = BUILTIN
        return BUILTIN  # one built-in scale per process: ``scale is BUILTIN`` holds
    return Scale(levels, good, labels, spellings, source, words=words)


def _fail(reason: str, source: str, value: object = None) -> AuditDataError:
    return AuditDataError(reason, file=source, value=value)


def _words(raw: object, what: str, source: str) -> list[str]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise _fail(f"{what} must be a list", source, raw)
    out = []
    for item in raw:
        if isinstance(item, bool) or item is None or not str(item).strip():
            raise _fail(f"{what} holds a blank or yes/no value (quote it)", source, item)
        out.append(str(item).strip())
    return out


def scale_from_mapping(raw: object, source: str) -> Scale:
    """A :class:`Scale` from a ratings.yaml's content, checked; :class:`AuditDataError`
    (one line naming ``source`` and the value) when it is not a usable scale."""
    if not isinstance(raw, dict):
        raise _fail("is not a mapping of scale, good, labels and spellings", source)
    unknown = set(raw) - {"scale", "good", "outside_scale", "labels", "spellings", "words"}
    if unknown:
        raise _fail("has an unknown key", source, sorted(map(str, unknown))[0])
    if "scale" not in raw:
        raise _fail("lacks scale: (the levels, worst to best)", source)
    levels = _words(raw["scale"], "scale", source)
    for level in levels:
        if not _KEY.match(level):
            raise _fail("scale level must be a lower-case key (letters, digits, _)", source, level)
        if level in OUTSIDE:
            raise _fail("scale level is outside any scale", source, level)
    if len(set(levels)) != len(levels):
        raise _fail(
            "scale names a level twice", source, next(x for x in levels if levels.count(x) > 1)
        )
    if not MIN_LEVELS <= len(levels) <= MAX_LEVELS:
        raise _fail(f"scale must have {MIN_LEVELS} to {MAX_LEVELS} levels", source, len(levels))
    if "good" not in raw:
        raise _fail("lacks good: (the top levels counted as a good outcome)", source)
    good = _words(raw["good"], "good", source)
    for level in good:
        if level not in levels:
            raise _fail("good names a level not on the scale", source, level)
    top = levels[len(levels) - len(set(good)) :]
    if set(good) != set(top) or len(set(good)) == len(levels):
        raise _fail("good must be the top levels of the scale, and not all of them", source, good)
    outside = raw.get("outside_scale", list(OUTSIDE))
    if sorted(_words(outside, "outside_scale", source)) != sorted(OUTSIDE):
        raise _fail("outside_scale must be [not_recorded, not_applicable]", source, outside)
    labels_raw = raw.get("labels") or {}
    if not isinstance(labels_raw, dict):
        raise _fail("labels must map each level to its words", source, labels_raw)
    labels: dict[str, str] = {}
    for key, text in labels_raw.items():
        if key not in (*levels, *OUTSIDE):
            raise _fail("labels names a level not on the scale", source, key)
        if text is None or isinstance(text, bool) or not str(text).strip():
            raise _fail("label is blank or a yes/no value (quote it)", source, key)
        labels[str(key)] = str(text).strip()
    for text in labels.values():
        if "," in text or '"' in text:  # a template's drop-down lists them between commas
            raise _fail("label holds a comma or a double quote", source, text)
    labels.setdefault(NOT_APPLICABLE, "N/A")
    labels.setdefault(NOT_RECORDED, "Not recorded")
    for level in levels:
        labels.setdefault(level, level.replace("_", " ").capitalize())
    shown = ",".join(labels[c] for c in (*levels, NOT_APPLICABLE))
    if len(shown) > 250:  # Excel's limit on a drop-down's list
        raise _fail("labels too long for a template's drop-down (250 characters)", source, shown)
    spellings_raw = raw.get("spellings") or {}
    if not isinstance(spellings_raw, dict):
        raise _fail("spellings must map each level to a list of words", source, spellings_raw)
    spellings: dict[str, tuple[str, ...]] = {}
    seen: dict[str, str] = {}
    for key, words in spellings_raw.items():
        if key not in (*levels, *OUTSIDE):
            raise _fail("spellings names a level not on the scale", source, key)
        spellings[str(key)] = tuple(_words(words, f"spellings of {key}", source))
    for category in (*levels, NOT_APPLICABLE):
        own = (labels[category], category) if category in levels else (labels[category],)
        for word in (*spellings.get(category, ()), *own):
            key = spelling_key(word)
            if seen.setdefault(key, category) != category:
                raise _fail(
                    f"spelling maps to two levels ({seen[key]} and {category})", source, word
                )
    words_raw = raw.get("words") or {}
    if not isinstance(words_raw, dict) or set(words_raw) - _WORDS:
        raise _fail(f"words may give only {', '.join(sorted(_WORDS))}", source, words_raw)
    words = {str(k): str(v).strip() for k, v in words_raw.items() if v and str(v).strip()}
    order = {c: i for i, c in enumerate(levels)}
    return Scale(
        levels=tuple(levels),
        good=tuple(sorted(set(good), key=order.__getitem__)),
        labels=labels,
        spellings=spellings,
        source=source,
        words=words,
    )


def read_scale(path: str | Path) -> Scale:
    """The scale a ratings.yaml file defines, checked (see :func:`scale_from_mapping`)."""
    # the frameworks' strict reader: a key given twice, an anchor or alias, a link or an
    # oversized file is refused in one line naming the file (docs/mistakes.md)
    from audit_analysis.io.frameworks import load_yaml

    return scale_from_mapping(load_yaml(path), str(path))


_BUILTIN_SOURCE = "audit_analysis/data/ratings.yaml"


@lru_cache(maxsize=1)
def _builtin() -> Scale:
    path = resources.files("audit_analysis") / "data" / RATINGS_FILE
    return scale_from_mapping(yaml.safe_load(path.read_text(encoding="utf-8")), _BUILTIN_SOURCE)


BUILTIN: Scale = _builtin()
SCALE: tuple[str, ...] = BUILTIN.levels
CATEGORIES: tuple[str, ...] = BUILTIN.categories
RATING_DTYPE = BUILTIN.dtype
MET_OR_BETTER: tuple[str, ...] = BUILTIN.good


def scale_for(data_dir: str | Path | None, folder: str | Path | None = None) -> Scale:
    """The scale an audit was rated on: its own folder's ratings.yaml, else the data
    folder's, else the built-in one."""
    for where in (folder, data_dir):
        if where is None:
            continue
        path = Path(where) / RATINGS_FILE
        if path.is_file():
            return _read_cached(str(path), path.stat().st_mtime_ns, path.stat().st_size)
    return BUILTIN


@lru_cache(maxsize=32)
def _read_cached(path: str, _mtime: int, _size: int) -> Scale:
    scale = read_scale(path)
    _REGISTRY[scale.categories] = scale  # the one read last, were it cached before
    return scale


def scale_of(rating: object = None) -> Scale:
    """The scale a ``rating`` column (or a ratings table) was loaded on: from its
    categorical's categories; the built-in scale for anything else."""
    if isinstance(rating, pd.DataFrame):
        rating = rating["rating"] if "rating" in rating.columns else None
    dtype = getattr(rating, "dtype", None)
    if isinstance(dtype, pd.CategoricalDtype):
        found = _REGISTRY.get(tuple(str(c) for c in dtype.categories))
        if found is not None:
            return found
    return BUILTIN


def parse_rating(value: object) -> str | None:
    """The built-in scale's category for a cell (see :meth:`Scale.parse`)."""
    if isinstance(value, str):
        return _parse_text(value)
    return BUILTIN.parse(value)


@lru_cache(maxsize=4096)
def _parse_text(value: str) -> str | None:
    return BUILTIN.parse(value)


def rating_words(scale: Scale | None = None) -> dict[str, list[str]]:
    """Category -> accepted spellings, as the scale's file lists them."""
    scale = scale or BUILTIN
    return {k: list(v) for k, v in scale.spellings.items()}
