"""Plain words for the codes the data uses, for everything a reader looks at.

The analysis works in codes (``early_help``, ``16-17``, ``partially_met``, ``CSC-SW``,
``met_or_better``); a reader sees words. The words are data, not code:
``data/labels.yaml`` (priority themes, age bands, table headings), ``data/ratings.yaml``
(``labels:``) and the agency register ``data/agencies.csv`` (``name``). Charts and tables
on the pages use these; the CSV files beside them keep the codes, for other programs.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

import pandas as pd
import yaml

from audit_analysis.io.labels import current as current_labels
from audit_analysis.io.ratings import BUILTIN, Scale

__all__ = [
    "agency_key",
    "agency_name",
    "cap",
    "column_label",
    "display_table",
    "good",
    "good_adj",
    "good_did",
    "good_short",
    "not_good",
    "rating_label",
    "shown_scale",
    "show_scale",
    "value_label",
    "worst",
]

_SHOWN: list[Scale] = [BUILTIN]


def show_scale(scale: Scale) -> None:
    """Words and headings from now on are ``scale``'s (a session sets the scale of the
    cycle it shows: :class:`audit_analysis.sections.base.Session`)."""
    _SHOWN[0] = scale


def shown_scale() -> Scale:
    """The scale whose words the pages show now (the built-in one unless a session set
    another)."""
    return _SHOWN[0]


@lru_cache(maxsize=1)
def _labels() -> dict:
    path = resources.files("audit_analysis") / "data" / "labels.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _rating_labels() -> dict[str, str]:
    return dict(_SHOWN[0].labels)


@lru_cache(maxsize=1)
def _agency_names() -> dict[str, str]:
    from audit_analysis.io.agencies import agencies

    register = agencies()
    return dict(zip(register["code"], register["name"], strict=True))


def rating_label(category: str) -> str:
    """``partially_met`` -> ``Partially met`` (the shown scale's ``labels:``)."""
    return _rating_labels().get(str(category), str(category))


def agency_name(code: object) -> str:
    """An agency's full name from the register; an unknown code as it is."""
    return _agency_names().get(str(code), str(code))


def agency_key(codes: Iterable[object]) -> str:
    """``Key: CCG Birmingham & Solihull ...; WMP West Midlands Police.``: the full names
    behind the codes a chart shows where full names do not fit. Codes not in the
    register (``(unattributed)``) are left out; empty when none remain."""
    names = _agency_names()
    known = [str(c) for c in dict.fromkeys(codes) if str(c) in names]
    if not known:
        return ""
    return "Key: " + "; ".join(f"{c} {names[c]}" for c in known) + "."


def value_label(kind: str | None, value: object) -> str:
    """A value of a column of kind ``kind`` (``priority``, ``age_band``, ``rating``,
    ``agency``) in words; anything else as text."""
    if kind == "rating":
        return rating_label(str(value))
    if kind == "agency":
        return agency_name(value)
    if kind in ("priority", "age_band"):  # a data folder's labels.yaml, else the package's
        used = current_labels()
        words = used.priorities if kind == "priority" else used.age_bands
        return str(words.get(str(value), value))
    return str(value)


def column_label(column: object) -> str:
    """A table heading: ``met_or_better`` -> ``Met or exceeded``; a rating category's
    label for its count column; any other heading as it is."""
    name = str(column)
    scale = _SHOWN[0]
    if name == "met_or_better":
        return cap(scale.good_as)
    if name == "share":
        return f"Share {scale.good_as}"
    headings = _labels()["columns"]
    if name in headings:
        return str(headings[name])
    if name in _rating_labels():
        return rating_label(name)
    return name


def cap(text: str) -> str:
    """``met or exceeded`` -> ``Met or exceeded``: the first letter only."""
    return text[:1].upper() + text[1:]


def good() -> str:
    """ "met or exceeded" on the built-in scale; "rated Yes" on a Yes / No scale: what
    follows "share" (the shown scale's words, docs/own-scale.md)."""
    return _SHOWN[0].good_as


def good_did() -> str:
    """ "met or exceeded the standard"; "were rated Yes": what follows "ratings"."""
    return _SHOWN[0].good_did


def good_adj() -> str:
    """ "met or exceeded"; "Yes": what comes before "ratings"."""
    return _SHOWN[0].good_adj


def good_short() -> str:
    """The good side of a disagreement: "met"; "Yes"."""
    return _SHOWN[0].good_short


def not_good() -> str:
    """The levels not counted good: "not or partly met"; "rated No"."""
    return _SHOWN[0].not_good_as


def worst() -> str:
    """The worst level in a sentence: "unmet"; "No"."""
    return _SHOWN[0].worst_as


def display_table(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as a reader sees it: headings in words, priority themes, age bands and
    agencies in words, shares as whole percentages (``73%``, as the sentences write
    them: the CSV keeps the precision). Suppressed cells (``c``) and
    other text are kept as they are. The frame saved as CSV is not changed."""
    out = frame.copy()
    percent = set(_labels().get("percent", []))
    for column in out.columns:
        kind = str(column)
        if kind in ("priority", "age_band", "agency", "rating"):
            out[column] = [
                v if v is None or (isinstance(v, float) and pd.isna(v)) else value_label(kind, v)
                for v in out[column].astype(object)
            ]
        elif kind in percent:
            out[column] = [_percent(v) for v in out[column].astype(object)]
    out.columns = [column_label(c) for c in out.columns]
    return out


def _percent(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return value
    if pd.isna(value):
        return None
    return f"{float(value):.0%}"  # as every sentence writes it: a table never says more
