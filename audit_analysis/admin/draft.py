"""``audit-analysis draft-commentary``: a skeleton of the QA group's commentary for a
cycle (``DATA/<cycle>/commentary.md``), with every heading, each KLOE's figures as
references, and, as Markdown comments that never reach a page, the phrases that most
distinguish the auditors' evidence where standards were not or partly met from where
they were rated good (:mod:`audit_analysis.analysis.phrases`), with counts and
short quotes.

The format is the commentary's contract (docs/draft-commentary.md): YAML front matter
``status: draft``; level-2 headings ``Summary``, ``What worked well``, ``What needs to
improve``, ``KLOE <key>`` for each KLOE of the cycle's framework, ``Deep dive``,
``Family feedback``, ``Learning event``, ``Conclusions``. Quotes carry no case reference
and no value of the cycle's case identifiers, and nothing in them can close the comment
they stand in or be read as a heading or a figure reference.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from audit_analysis.analysis import phrases
from audit_analysis.exceptions import AuditDataError
from audit_analysis.io.cycles import DataFolder, earlier_audits, normalise_cycle
from audit_analysis.io.dataset import CASES_FILE, CycleData, case_identifiers, load_cycle
from audit_analysis.io.frameworks import Framework, load_framework
from audit_analysis.io.text import printable
from audit_analysis.paths import write_file
from audit_analysis.render.labels import cap, good, good_adj, not_good, show_scale

__all__ = [
    "COMMENTARY_FILE",
    "Draft",
    "HEADINGS_AFTER",
    "HEADINGS_BEFORE",
    "comment_safe",
    "draft_commentary",
    "skeleton",
]


COMMENTARY_FILE = "commentary.md"
HEADINGS_BEFORE = ("Summary", "What worked well", "What needs to improve")
HEADINGS_AFTER = ("Deep dive", "Family feedback", "Learning event", "Conclusions")
#: Phrases listed per direction under each KLOE, and overall under what worked well and
#: what needs to improve.
TOP = 8

_HINTS = {
    "Summary": "The top of the Executive Group's page: the few sentences a board member must read.",
    "What worked well": "Strengths the evidence shows, across the KLOEs.",
    "What needs to improve": "What the evidence says must change, across the KLOEs; "
    "where children were not safe, what was done.",
    "Deep dive": "The deep dive's themes and what the round table found.",
    "Family feedback": "What the families who responded said.",
    "Learning event": "What practitioners said at the learning event.",
    "Conclusions": "What the QA group concludes and asks the Executive Group to do.",
}


@dataclass(frozen=True)
class Draft:
    """What :func:`draft_commentary` wrote: the file, the cycle, its KLOE keys, the
    earlier cycles it refers to, and what it could not refer to (one line each)."""

    path: Path
    cycle: str
    kloes: tuple[str, ...]
    earlier: tuple[str, ...]
    warnings: tuple[str, ...]


def comment_safe(text: str) -> str:
    """``text`` on one line, safe inside an HTML comment of a Markdown file: control
    characters escaped, no ``--`` (so no ``-->`` or ``--!>`` closes the comment and no
    ``<!--`` opens one), no ``{{`` or ``}}`` (never read as a figure reference)."""
    text = printable(re.sub(r"\s+", " ", str(text)).strip(), keep_newlines=False)
    text = re.sub(r"-(?=-)", "- ", text)
    text = re.sub(r"\{(?=\{)", "{ ", text)
    return re.sub(r"\}(?=\})", "} ", text)


def _direction_words(direction: str) -> str:
    """A phrase table's direction (a code) in the shown scale's words."""
    return not_good() if direction == phrases.NOT_MET else good_adj()


def _phrase_note(table: pd.DataFrame, directions: tuple[str, ...], top: int) -> list[str]:
    """The lines of a comment listing ``table``'s phrases (from
    :func:`~audit_analysis.analysis.phrases.distinctive_phrases`), each with its counts,
    ``z`` and quotes; every line indented, so none reads as a heading."""
    lines = []
    for direction in directions:
        rows = table[table["direction"] == direction].head(top)
        lines.append(f"  More often where standards were {_direction_words(direction)}:")
        if rows.empty:
            lines.append("    (no phrase stands out)")
        for row in rows.itertuples():
            lines.append(
                f"    - {comment_safe(row.phrase)}: {row.not_met} times in not or partly "
                f"met evidence, {row.met} in {good()} (z {row.z:+.1f})"
            )
            for q in row.quotes:
                lines.append(f'        "{comment_safe(q)}"')
    return lines


def _method() -> str:
    return (
        "  Phrases: words and two-word phrases ranked by the weighted log-odds ratio with an "
        "informative Dirichlet prior (Monroe, Colaresi and Quinn 2008), evidence "
        f"{not_good()} against {good()}; z beyond 1.96 each way, in 3 or more cases. A "
        "reading aid, not a finding: read the quotes before using a phrase. Quotes are "
        "evidence text for the QA group (identifiers shown as [id]); this note never reaches "
        "a page."
    )


def skeleton(
    data: CycleData,
    earlier: dict[str, Framework],
    identifiers: frozenset[str] | set[str] = frozenset(),
    *,
    top: int = TOP,
) -> str:
    """The commentary skeleton of ``data``'s cycle as Markdown: headings in order, figure
    references (``{{ change KEY vs CYCLE }}`` for each earlier cycle in ``earlier`` whose
    framework has the KLOE's key) and the distinctive phrases in comments."""
    cycle = data.cycle
    ratings = data.ratings
    show_scale(data.scale)  # the skeleton's words are the cycle's scale's
    out = [
        "---",
        "status: draft",
        "---",
        "",
        f"<!-- Commentary on the {comment_safe(cycle)} audit: a skeleton written by "
        f"audit-analysis draft-commentary on {date.today().isoformat()}. Write the QA "
        "group's words under each heading; keep the headings. Figures go in as references "
        "such as {{ share overall }}, never typed by hand. Notes in comment marks like "
        "this one never reach a page. When the agencies have ratified the findings, change "
        "status to ratified and add ratified_by and ratified_on. -->",
        "",
    ]
    overall = phrases.distinctive_phrases(ratings, identifiers=identifiers, top=top)
    for heading in HEADINGS_BEFORE:
        out += [f"## {heading}", "", f"<!-- {_HINTS[heading]} -->", ""]
        if heading == "Summary":
            out += [f"Cases audited: {{{{ cases }}}}. {cap(good())}: {{{{ share overall }}}}.", ""]
        elif heading == "What worked well":
            out += ["<!--", _method(), *_phrase_note(overall, (phrases.MET,), top), "-->", ""]
        else:
            out += ["<!--", _method(), *_phrase_note(overall, (phrases.NOT_MET,), top), "-->", ""]
    for kloe in data.framework.kloes:
        refs = [f"{cap(good())}: {{{{ share {kloe.key} }}}}."]
        for other in sorted(earlier, reverse=True):
            if any(k.key == kloe.key for k in earlier[other].kloes):
                refs.append(f"Since {other}: {{{{ change {kloe.key} vs {other} }}}}.")
        part = ratings[ratings["kloe"] == kloe.number]
        table = phrases.distinctive_phrases(part, identifiers=identifiers, top=top)
        out += [
            f"## KLOE {kloe.key}",
            "",
            " ".join(refs),
            "",
            "<!--",
            f"  KLOE {kloe.number}, {comment_safe(kloe.title)}: the QA group's paragraph "
            "goes above this note.",
            _method(),
            *_phrase_note(table, (phrases.NOT_MET, phrases.MET), top),
            "-->",
            "",
        ]
    for heading in HEADINGS_AFTER:
        out += [f"## {heading}", "", f"<!-- {_HINTS[heading]} -->", ""]
    return "\n".join(out)


def earlier_frameworks(
    data_dir: Path, cycle: str, warnings: list[str] | None = None
) -> dict[str, Framework]:
    """The frameworks of the cycles before ``cycle`` with a folder holding a
    ``cases.csv`` in ``data_dir`` (the cycles the annual run compares by default); one
    that cannot be read is a line of ``warnings``."""
    found: dict[str, Framework] = {}
    cycles = DataFolder.scan(data_dir).with_cases(CASES_FILE)  # the run's one rule
    for other in earlier_audits(cycles, cycle):
        try:
            found[other] = load_framework(other, data_dir)
        except AuditDataError as exc:
            if warnings is not None:
                warnings.append(f"no change since {other} referred to: {exc}")
    return found


def draft_commentary(
    data_dir: str | Path,
    cycle: str,
    out: str | Path | None = None,
    *,
    force: bool = False,
    top: int = TOP,
) -> Draft:
    """Write the commentary skeleton of ``cycle`` to ``out`` (default
    ``DATA/<cycle>/commentary.md``). Refuses (:class:`AuditDataError`) to replace an
    existing file unless ``force``."""
    data_dir = Path(data_dir)
    cycle = normalise_cycle(cycle)
    data = load_cycle(data_dir, cycle)
    path = Path(out) if out is not None else data.folder / COMMENTARY_FILE
    if path.is_dir():
        raise AuditDataError("is a folder: give the commentary file's name", file=str(path))
    if (path.exists() or path.is_symlink()) and not force:
        raise AuditDataError(
            "a commentary is already there: it is kept (pass --force to replace it)",
            file=str(path),
        )
    warnings: list[str] = []
    earlier = earlier_frameworks(data_dir, cycle, warnings)
    text = skeleton(data, earlier, case_identifiers(data.folder), top=top)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():  # replaced, never written through
        path.unlink()
    tmp = path.with_name(f".{path.name}.tmp")
    write_file(tmp, text)  # owner-only (it quotes evidence), never through a link
    os.replace(tmp, path)
    return Draft(
        path=path,
        cycle=cycle,
        kloes=tuple(k.key for k in data.framework.kloes),
        earlier=tuple(sorted(earlier, reverse=True)),
        warnings=tuple(warnings),
    )
