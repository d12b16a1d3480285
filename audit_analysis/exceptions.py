"""Errors a user's data can cause. Every one is an :class:`AuditDataError`."""

from __future__ import annotations


class AuditDataError(Exception):
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
