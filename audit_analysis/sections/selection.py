"""How the cases were chosen, in words for the Executive Group's page, and what the
shares therefore describe (issue 26; docs/selecting-cases.md).

With a selection record (``audit-analysis select-cases``)::

    24 cases were drawn at random, 8 from each priority theme, from 412 eligible
    children.

followed by what the shares describe and the overall share weighted to the eligible
children. Without one::

    The cases were chosen by hand, not drawn at random: the figures describe these 24
    cases only, not the partnership's work with children as a whole.

Only counts of cases and of eligible children, and an overall share: never a case
reference or an identifier.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from audit_analysis.analysis.design import DEFAULT_WEIGHTING, WEIGHTINGS, overall_share
from audit_analysis.exceptions import AuditDataError
from audit_analysis.io.labels import current
from audit_analysis.io.selection import RECORD_FILE, SelectionRecord, read_record
from audit_analysis.render.labels import good_did
from audit_analysis.sections.base import Session
from audit_analysis.sections.words import and_list, label, pct, plural

__all__ = ["chosen_sentence", "selection_sentences", "shares_sentence"]


def _cases(n: int) -> str:
    return f"{n} {plural(n, 'case')}"


def chosen_sentence(record: SelectionRecord | None, audited: int) -> str:
    """One sentence saying how the cycle's cases were chosen. ``audited``: the cases the
    cycle lists (``len(data.cases)``)."""
    if record is None:
        return (
            f"The {_cases(audited)} were chosen by hand, not drawn at random: the figures "
            f"describe these {_cases(audited)} only, not the partnership's work with "
            "children as a whole."
        )
    drawn, eligible = record.total_drawn, record.total_population
    counts = {p: n for p, n in record.drawn.items()}
    themes = len(counts)
    if len(set(counts.values())) == 1 and themes > 1:
        each = next(iter(counts.values()))
        sentence = (
            f"{_cases(drawn)} were drawn at random, {each} from each priority theme, "
            f"from {eligible} eligible children"
        )
    else:
        parts = [f"{n} {label(p)}" for p, n in counts.items()]
        sentence = (
            f"{_cases(drawn)} were drawn at random from {eligible} eligible children, "
            f"by priority theme: {and_list(parts)}"
        )
        short = [label(p) for p, n in counts.items() if n < record.per_priority]
        if short:
            sentence += f" (every eligible child of {and_list(short)})"
    if audited != drawn:
        sentence += f"; the cycle lists {_cases(audited)}"
    return sentence + "."


def shares_sentence(
    record: SelectionRecord | None,
    audited: int,
    weighted: Mapping | pd.Series | None = None,
    *,
    weighted_page: bool = False,
) -> str:
    """What the page's shares describe. ``weighted``: the overall share weighted to the
    draw (a row of :func:`audit_analysis.analysis.design.overall_share`), quoted when
    given; ``weighted_page``: True when the page's own shares are the weighted ones."""
    if record is None:
        return ""
    if weighted_page:
        return (
            "Every theme has the same number of cases however many children it holds, so "
            "the shares are weighted to each theme's eligible children: they describe the "
            f"{record.total_population} eligible children, not only the {_cases(audited)}."
        )
    text = (
        f"The shares on this page describe these {_cases(audited)}, each priority theme "
        "counting the same whatever its size"
    )
    if weighted is not None and pd.notna(weighted["share"]):
        text += (
            f"; weighted to the {record.total_population} eligible children they were drawn "
            f"from, {pct(weighted['share'])} of ratings {good_did()}"
        )
        if pd.notna(weighted["low"]):
            text += (
                f" (95% interval by case within themes: {pct(weighted['low'])} to "
                f"{pct(weighted['high'])})"
            )
    return text + "."


def selection_sentences(session: Session, weighting: str = DEFAULT_WEIGHTING) -> list[str]:
    """The page's sentences on how the cases were chosen, from the cycle's selection
    record (:func:`chosen_sentence`, then :func:`shares_sentence` with the weighted
    overall share when ``weighting`` is ``design``, the default). A record that cannot be
    read, or cases that cannot be weighted, are said so in the words, never raised."""
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {', '.join(WEIGHTINGS)}; got {weighting!r}")
    data = session.data
    audited = len(data.cases)
    try:
        record = read_record(data.folder, current())  # the loaded data folder's themes
    except AuditDataError as exc:
        return [
            f"The selection record ({RECORD_FILE}) cannot be read ({exc.reason}): the figures "
            f"describe these {_cases(audited)} only."
        ]
    sentences = [chosen_sentence(record, audited)]
    if record is None:
        return sentences
    weighted = None
    if weighting == "design" and len(data.ratings):
        try:
            weighted = overall_share(data.ratings, data.cases, record.population).iloc[0]
        except ValueError as exc:
            sentences.append(
                f"The shares describe these {_cases(audited)} only: they cannot be weighted "
                f"to the draw ({exc})."
            )
            return sentences
    sentences.append(shares_sentence(record, audited, weighted))
    return sentences
