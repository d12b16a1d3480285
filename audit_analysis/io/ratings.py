"""Rating words and the ordered rating scale (docs/data-contract.md, "Ratings")."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import pandas as pd
import yaml

from audit_analysis.io.text import cell_text, is_blank

__all__ = [
    "CATEGORIES",
    "MET_OR_BETTER",
    "NOT_APPLICABLE",
    "NOT_RECORDED",
    "RATING_DTYPE",
    "SCALE",
    "parse_rating",
    "rating_words",
    "spelling_key",
]


NOT_RECORDED = "not_recorded"
NOT_APPLICABLE = "not_applicable"
SCALE = ("unmet", "partially_met", "met", "exceeded")
CATEGORIES = (NOT_RECORDED, NOT_APPLICABLE, *SCALE)
RATING_DTYPE = pd.CategoricalDtype(list(CATEGORIES), ordered=True)
MET_OR_BETTER = ("met", "exceeded")


@lru_cache(maxsize=1)
def _spellings() -> dict[str, str]:
    path = resources.files("audit_analysis") / "data" / "ratings.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        spelling_key(word): category
        for category, words in raw["spellings"].items()
        for word in words
    }


def spelling_key(value: object) -> str:
    text = cell_text(value).replace("\xa0", " ").strip().casefold()
    text = text.removesuffix(".").strip()
    text = re.sub(r"[-_]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def parse_rating(value: object) -> str | None:
    """The rating category a cell holds; ``not_recorded`` for a blank cell; None when
    the text is no known rating (the caller rejects it, keeping the raw text)."""
    if is_blank(value):
        return NOT_RECORDED
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return _parse_text(value)
    return _spellings().get(spelling_key(value))


@lru_cache(maxsize=4096)
def _parse_text(value: str) -> str | None:
    return _spellings().get(spelling_key(value))


def rating_words() -> dict[str, list[str]]:
    """Category -> accepted spellings, as the data file lists them."""
    path = resources.files("audit_analysis") / "data" / "ratings.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["spellings"]
