"""Every error a user can cause, under one base, and the typed codes of rejections.

- :class:`AuditError` is the one base: the CLI catches it once and prints one line.
- :class:`AuditDataError`: a problem with the user's data, located by file, sheet, row
  and value; :class:`CycleNotFoundError` and :class:`UnknownCycleError` narrow it.
- :class:`RunFailedError`: a notebook of a run failed; it carries the notebook, the cell,
  the error's name and value, the failed attempt's folder and its logs as attributes
  (as papermill's ``PapermillExecutionError`` does), not only as a message.
- :class:`RejectionCode`: what a rejected row or file is about. Every rejection carries
  one (the ``code`` column of ``rejections``) beside its human ``reason``; whatever
  classifies rejections reads the code, never the reason's words.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

__all__ = [
    "AuditDataError",
    "AuditError",
    "CycleNotFoundError",
    "RejectionCode",
    "RunFailedError",
    "UnknownCycleError",
]


class AuditError(Exception):
    """The base of every error a user can cause (bad data, a failed run, an output that
    cannot be written). ``str(err)`` is one line."""

    def __reduce__(self):  # survive pickling between processes with every attribute
        return (_rebuild, (type(self), self.__dict__.copy(), self.args))


class AuditDataError(AuditError):
    """A problem with the user's data, located as precisely as we can.

    ``str(err)`` is one line naming the file, sheet, row and raw value where known.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        value: object = None,
    ) -> None:
        self.reason = reason
        self.file = file
        self.sheet = sheet
        self.row = row
        self.value = value
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.sheet:
            where.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        prefix = ", ".join(where)
        text = f"{prefix}: {self.reason}" if prefix else self.reason
        if self.value is not None and self.value != "":
            text += f" (value: {self.value!r})"
        return text


class CycleNotFoundError(AuditDataError):
    """The cycle's folder, or its cases.csv, is missing: nothing usable can be read."""


class UnknownCycleError(AuditDataError):
    """A cycle name that is not a cycle, or a cycle with no framework."""


class RunFailedError(AuditError):
    """A notebook of the annual run (or a case pack) raised.

    Attributes: ``notebook`` (its file name), ``cell`` (the execution count of the cell
    that failed, or None), ``ename`` and ``evalue`` (the error's name and value, as
    papermill reports them), ``folder`` (the failed attempt, kept for inspection, once
    the run knows it) and ``logs`` (its folder of kernel messages).
    """

    def __init__(
        self,
        notebook: str,
        cell: int | None,
        ename: str,
        evalue: str,
        *,
        folder: Path | None = None,
        logs: Path | None = None,
    ) -> None:
        self.notebook = notebook
        self.cell = cell
        self.ename = ename
        self.evalue = evalue
        self.folder = folder
        self.logs = logs
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"in cell {self.cell}" if self.cell is not None else "before any cell ran"
        return f"notebook {self.notebook} failed {where}: {self.ename}: {self.evalue}"

    def __str__(self) -> str:
        return self.message


def _rebuild(cls: type, state: dict, args: tuple = ()) -> AuditError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, *args)
    return error


class RejectionCode(StrEnum):
    """What a rejection is about. Its :attr:`kind` is the group the data-quality tables
    count it under."""

    UNKNOWN_RATING = "unknown-rating"
    CASE_ID = "case-id"
    AGENCY = "agency"
    STANDARD = "standard"
    DUPLICATE = "duplicate"
    TEMPLATE = "template"
    WRONG_CYCLE = "wrong-cycle"  # a return of a later cycle, in an earlier cycle's folder
    FILE = "file"  # a whole file unreadable, refused or holding no standards table
    ROW = "row"  # a line of a table that cannot be read as a row
    CASE_LEFT_OUT = "case-left-out"  # a cases.csv row whose case is left out
    CASE_FIELD = "case-field"  # a cases.csv field blanked; the case is kept
    CASE_LOOKALIKE = "case-lookalike"  # a case_ref that looks like another, or mixes scripts; kept
    RECORD = "record"  # deep dive, learning event, family feedback
    DEVELOPMENT = "development"  # areas for development, progress, recommendations

    def kind(self, whole_file: bool = False) -> str:
        """The group of :data:`audit_analysis.analysis.quality.REJECTION_KINDS` it counts under."""
        return _KINDS.get(self, "whole file" if whole_file else "other")


_KINDS = {
    RejectionCode.UNKNOWN_RATING: "unknown rating",
    RejectionCode.CASE_ID: "case ID",
    RejectionCode.AGENCY: "agency",
    RejectionCode.STANDARD: "standard",
    RejectionCode.DUPLICATE: "duplicate",
    RejectionCode.TEMPLATE: "template",
    RejectionCode.WRONG_CYCLE: "template",
    RejectionCode.FILE: "whole file",
    RejectionCode.CASE_LEFT_OUT: "cases file",
    RejectionCode.CASE_FIELD: "cases file",
    RejectionCode.CASE_LOOKALIKE: "cases file",
}
