"""The tidy tables' shapes (docs/data-contract.md, "What load_cycle gives back"), checked by pandera
before ``load_cycle`` returns them, so a bug in a reader can never reach an analysis."""

from __future__ import annotations

import dataclasses
import re

import pandas as pd
import pandera.pandas as pa
from pandera.engines import pandas_engine

from audit_analysis.exceptions import RejectionCode
from audit_analysis.io.cycles import AUDIT_NAME
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
_CYCLE_LABEL = re.compile(rf"^{AUDIT_NAME}$")


@dataclasses.dataclass(frozen=True)
class _Text(pandas_engine.Engine.dtype(str).__class__):  # type: ignore[misc]
    """pandera's ``str`` for a column already of pandas' text dtype, decided by the dtype
    alone: such a column holds only text or missing values, so pandera's check of every
    value (and the report of no failures it then formats) is skipped. Any other dtype
    is judged by pandera's own check, unchanged."""

    def check(self, pandera_dtype, data_container=None):  # noqa: D102
        if data_container is not None and getattr(pandera_dtype, "type", None) == self.type:
            return True
        return super().check(pandera_dtype, data_container)


_STR = pandas_engine.Engine.dtype(str)
TEXT = _Text(**{f.name: getattr(_STR, f.name) for f in dataclasses.fields(_STR) if f.init})


def _cycle_labels(series: pd.Series) -> pd.Series | bool:
    """Labels like ``2018-19`` (what ``Check.str_matches`` with ``_CYCLE_LABEL`` checks),
    matching each distinct value once: a cycle's ratings all carry the same label (then
    one True stands for every row; else the rows are marked one by one)."""
    matches = {value: _CYCLE_LABEL.match(value) is not None for value in series.unique()}
    if all(matches.values()):
        return True
    return series.map(matches).astype(bool)


RATINGS = pa.DataFrameSchema(
    {
        "cycle": pa.Column(TEXT, pa.Check(_cycle_labels, name="cycle_label")),
        "agency": pa.Column(TEXT),
        "case_ref": pa.Column(TEXT),
        "kloe": pa.Column("int64", pa.Check.ge(1)),
        "standard": pa.Column("int64", pa.Check.ge(1)),
        "standard_key": pa.Column(TEXT),
        "rating": pa.Column(RATING_DTYPE, pa.Check.isin(list(CATEGORIES))),
        "evidence": pa.Column(TEXT, nullable=True),
        "source_file": pa.Column(TEXT),
        "source_row": pa.Column("int64", pa.Check.ge(1)),
    },
    unique=["agency", "case_ref", "standard"],
    strict=True,
    ordered=True,
    name="ratings",
)


def cases_schema(priorities: tuple[str, ...]) -> pa.DataFrameSchema:
    """:data:`CASES` with ``priorities`` (a data folder's labels.yaml) the themes allowed."""
    if priorities == PRIORITIES:
        return CASES
    return CASES.update_column("priority", checks=[pa.Check.isin(list(priorities))], nullable=True)


def ratings_schema(scale: Scale = BUILTIN) -> pa.DataFrameSchema:
    """:data:`RATINGS` with the rating column on ``scale``'s categories."""
    if scale is BUILTIN:
        return RATINGS
    return RATINGS.update_column(
        "rating", dtype=scale.dtype, checks=[pa.Check.isin(list(scale.categories))]
    )


CASES = pa.DataFrameSchema(
    {
        "case_ref": pa.Column(TEXT, unique=True),
        "priority": pa.Column(TEXT, pa.Check.isin(list(PRIORITIES)), nullable=True),
        "age": pa.Column("Int64", pa.Check.in_range(0, 30), nullable=True),
    },
    strict=True,
    ordered=True,
    name="cases",
)

RETURNS = pa.DataFrameSchema(
    {
        "source_file": pa.Column(TEXT, unique=True),
        "agency": pa.Column(TEXT, nullable=True),
        "case_ref": pa.Column(TEXT, nullable=True),
        "form": pa.Column(TEXT, pa.Check.isin(list(FORMS))),
        "template_version": pa.Column(TEXT, nullable=True),
        "status": pa.Column(TEXT, pa.Check.isin(list(STATUSES))),
        "rows": pa.Column("int64", pa.Check.ge(0)),
    },
    strict=True,
    ordered=True,
    name="returns",
)

REJECTIONS = pa.DataFrameSchema(
    {
        "source_file": pa.Column(TEXT),
        "source_row": pa.Column("Int64", pa.Check.ge(1), nullable=True),
        "code": pa.Column(TEXT, pa.Check.isin([c.value for c in RejectionCode])),
        "reason": pa.Column(TEXT),
        "raw_value": pa.Column(TEXT, nullable=True),
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
