"""The tidy tables' shapes (docs/data-contract.md, "What load_cycle gives back"), checked by pandera
before ``load_cycle`` returns them, so a bug in a reader can never reach an analysis."""

from __future__ import annotations

import re

import pandas as pd
import pandera.pandas as pa

from audit_analysis.exceptions import RejectionCode
from audit_analysis.io.ratings import BUILTIN, CATEGORIES, RATING_DTYPE, Scale
from audit_analysis.io.text import cell_text, excerpt

__all__ = [
    "CASES",
    "FORMS",
    "PRIORITIES",
    "RATINGS",
    "REJECTIONS",
    "RETURNS",
    "STATUSES",
    "rejection",
]


PRIORITIES = ("early_help", "neglect", "exploitation")
FORMS = ("toolkit", "bulk", "skipped")
STATUSES = ("loaded", "partial", "rejected", "skipped")

_text = {"nullable": False, "coerce": False}
_CYCLE_LABEL = re.compile(r"^\d{4}-\d{2}$")


def _cycle_labels(series: pd.Series) -> pd.Series:
    """Labels like ``2018-19`` (what ``Check.str_matches`` with ``_CYCLE_LABEL`` checks),
    matching each distinct value once: a cycle's ratings all carry the same label."""
    matches = {value: _CYCLE_LABEL.match(value) is not None for value in series.unique()}
    return series.map(matches).astype(bool)


RATINGS = pa.DataFrameSchema(
    {
        "cycle": pa.Column(str, pa.Check(_cycle_labels, name="cycle_label")),
        "agency": pa.Column(str),
        "case_ref": pa.Column(str),
        "kloe": pa.Column("int64", pa.Check.ge(1)),
        "standard": pa.Column("int64", pa.Check.ge(1)),
        "standard_key": pa.Column(str),
        "rating": pa.Column(RATING_DTYPE, pa.Check.isin(list(CATEGORIES))),
        "evidence": pa.Column(str, nullable=True),
        "source_file": pa.Column(str),
        "source_row": pa.Column("int64", pa.Check.ge(1)),
    },
    unique=["agency", "case_ref", "standard"],
    strict=True,
    ordered=True,
    name="ratings",
)


def ratings_schema(scale: Scale = BUILTIN) -> pa.DataFrameSchema:
    """:data:`RATINGS` with the rating column on ``scale``'s categories."""
    if scale is BUILTIN:
        return RATINGS
    return RATINGS.update_column(
        "rating", dtype=scale.dtype, checks=[pa.Check.isin(list(scale.categories))]
    )


CASES = pa.DataFrameSchema(
    {
        "case_ref": pa.Column(str, unique=True),
        "priority": pa.Column(str, pa.Check.isin(list(PRIORITIES)), nullable=True),
        "age": pa.Column("Int64", pa.Check.in_range(0, 30), nullable=True),
    },
    strict=True,
    ordered=True,
    name="cases",
)

RETURNS = pa.DataFrameSchema(
    {
        "source_file": pa.Column(str, unique=True),
        "agency": pa.Column(str, nullable=True),
        "case_ref": pa.Column(str, nullable=True),
        "form": pa.Column(str, pa.Check.isin(list(FORMS))),
        "template_version": pa.Column(str, nullable=True),
        "status": pa.Column(str, pa.Check.isin(list(STATUSES))),
        "rows": pa.Column("int64", pa.Check.ge(0)),
    },
    strict=True,
    ordered=True,
    name="returns",
)

REJECTIONS = pa.DataFrameSchema(
    {
        "source_file": pa.Column(str),
        "source_row": pa.Column("Int64", pa.Check.ge(1), nullable=True),
        "code": pa.Column(str, pa.Check.isin([c.value for c in RejectionCode])),
        "reason": pa.Column(str),
        "raw_value": pa.Column(str, nullable=True),
        # How many rejections the line stands for: 1, or, for the line closing a file's
        # rows of one code beyond the first MAX_LISTED, how many rows it counts.
        "count": pa.Column("int64", pa.Check.ge(1)),
    },
    strict=True,
    ordered=True,
    name="rejections",
)

MAX_LISTED = 1000
"""Rejected rows listed one by one per file and code; the rest are counted on one line
(:class:`RejectionLog`), so that memory per rejected row stays bounded."""


class RejectionLog(list):
    """The rejection log as readers fill it (``append`` of :func:`rejection` rows): the
    first :data:`MAX_LISTED` row-level rejections of each file and code are kept; beyond
    them only their count and row span, closed into one line by :meth:`lines`."""

    def __init__(self, cap: int = MAX_LISTED) -> None:
        super().__init__()
        self.cap = cap
        self._listed: dict[tuple[str, str], int] = {}
        self._beyond: dict[tuple[str, str], list[int]] = {}

    def append(self, item: dict) -> None:  # noqa: D102
        row = item["source_row"]
        if row is None:
            super().append(item)
            return
        key = (item["source_file"], item["code"])
        listed = self._listed.get(key, 0)
        if listed < self.cap:
            self._listed[key] = listed + 1
            super().append(item)
            return
        beyond = self._beyond.get(key)
        if beyond is None:
            self._beyond[key] = [1, row, row]
        else:
            beyond[0] += 1
            beyond[1] = min(beyond[1], row)
            beyond[2] = max(beyond[2], row)

    def lines(self) -> list[dict]:
        """Every line of the log: the rows kept, then one line per file and code
        counting the rows beyond them."""
        out = list(self)
        for (source, code), (count, first, last) in self._beyond.items():
            line = rejection(
                source,
                first,
                RejectionCode(code),
                f"and {count:,} more rows of this file rejected with code {code}, rows "
                f"{first}-{last}: counted here, not listed one by one (the first "
                f"{self.cap:,} are)",
                None,
            )
            line["count"] = count
            out.append(line)
        return out


def rejection(
    source_file: str, source_row: int | None, code: RejectionCode, reason: str, value: object
) -> dict:
    """One row of the rejection log (:data:`REJECTIONS`), the value quoted as a short,
    clean excerpt (control characters escaped): the one way every reader logs a row."""
    return {
        "source_file": source_file,
        "source_row": source_row,
        "code": RejectionCode(code).value,
        "reason": reason,
        "raw_value": None if value is None else excerpt(cell_text(value)),
        "count": 1,
    }
