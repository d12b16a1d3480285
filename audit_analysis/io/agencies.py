"""The agency register (docs/data-contract.md, "Agencies"), kept as data in
``data/agencies.csv``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pandas as pd

from audit_analysis.io.text import name_key

__all__ = ["Agency", "agencies", "agency_codes", "resolve_agency"]


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    abbreviation: str
    sector: str


@lru_cache(maxsize=1)
def _register() -> tuple[tuple[Agency, ...], dict[str, str]]:
    path = resources.files("audit_analysis") / "data" / "agencies.csv"
    with path.open(encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype=str, keep_default_na=False)
    agencies, lookup = [], {}
    for row in table.itertuples(index=False):
        agencies.append(Agency(row.code, row.name, row.abbreviation, row.sector))
        names = [row.code, row.name, row.abbreviation, *row.aliases.split(";")]
        for name in names:
            if name.strip():
                lookup.setdefault(name_key(name), row.code)
    return tuple(agencies), lookup


def agencies() -> pd.DataFrame:
    """The register: ``code``, ``name``, ``abbreviation``, ``sector``."""
    return pd.DataFrame([a.__dict__ for a in _register()[0]])


def agency_codes() -> list[str]:
    return [a.code for a in _register()[0]]


def resolve_agency(name: object) -> str | None:
    """The code of the agency named by its code, full name or abbreviation, or None."""
    return _register()[1].get(name_key(name))
