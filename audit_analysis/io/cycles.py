"""Audit cycle names: ``2018-19``, ``2018/19``, ``2018/2019`` and ``2018-2019`` are one cycle."""

from __future__ import annotations

import re

from audit_analysis.exceptions import UnknownCycleError

__all__ = ["next_cycle", "normalise_cycle", "parse_cycle"]


_CYCLE = re.compile(r"(?<!\d)(\d{4})\s*[-/_\u2013]\s*(\d{4}|\d{2})(?!\d)")


def parse_cycle(text: object) -> str | None:
    """The canonical ``YYYY-YY`` name of a cycle written in ``text``, or None."""
    if text is None:
        return None
    match = _CYCLE.search(str(text).strip())
    if not match:
        return None
    start, end = match.groups()
    first = int(start)
    last = int(end) if len(end) == 4 else (first // 100) * 100 + int(end)
    if len(end) == 2 and last < first:
        last += 100
    if last != first + 1:
        return None
    return f"{first}-{last % 100:02d}"


def normalise_cycle(text: object) -> str:
    """Like :func:`parse_cycle` but raises :class:`UnknownCycleError` for a non-cycle."""
    cycle = parse_cycle(text)
    if cycle is None:
        raise UnknownCycleError(
            "not an audit cycle; write it as YYYY-YY, for example 2018-19", value=text
        )
    return cycle


def next_cycle(cycle: str) -> str:
    first = int(normalise_cycle(cycle)[:4]) + 1
    return f"{first}-{(first + 1) % 100:02d}"
