"""The QA group's commentary on a cycle: ``DATA/<cycle>/commentary.md``.

The report's words (what the auditors' evidence says about each line of enquiry, what
worked well, what needs to improve, the deep dive, the learning event, the
conclusions) are written by the QA group, not computed. They live with the cycle's
data as Markdown and are shown beside the live figures on the executive page and the
findings-by-KLOE page (``docs/commentary.md`` is the QA group's guide).

The contract, checked here and reported by ``audit-analysis validate``:

- **Front matter** (YAML between ``---`` lines) with ``status: draft`` or
  ``status: ratified``; a ratified commentary also names ``ratified_by`` and
  ``ratified_on`` (a date). Until it is ratified every page says DRAFT.
- **Level-2 headings** say where each text goes (:data:`HEADINGS`, and
  ``## KLOE <kloe key>`` for each line of enquiry of the cycle's framework). An unknown
  heading or KLOE key, a heading given twice, or text before the first heading is an
  error naming its line: nothing written is silently dropped.
- **Figures by reference**, never typed by hand: ``{{ share KEY }}``,
  ``{{ change KEY vs CYCLE }}``, ``{{ cases }}`` and ``{{ agencies }}``
  (:data:`REFERENCE`); ``KEY`` is ``overall``, a KLOE key or a standard key. Which
  references resolve is known only with the figures (``sections.commentary``); their
  form is checked here. A percentage or a count of cases typed by hand is a warning.
- **HTML comments** (``<!-- ... -->``) are notes for the QA group and never reach a
  page (``audit-analysis draft-commentary`` puts the evidence's distinctive phrases
  there).

This module reads and checks the text; it knows nothing of figures or HTML.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from audit_analysis.exceptions import AuditDataError

__all__ = [
    "COMMENTARY_FILE",
    "HEADINGS",
    "MAX_COMMENTARY_BYTES",
    "REFERENCE",
    "Commentary",
    "Part",
    "Problem",
    "Reference",
    "commentary_status",
    "find_references",
    "parse_commentary",
    "read_commentary",
]

COMMENTARY_FILE = "commentary.md"
MAX_COMMENTARY_BYTES = 1_000_000

# Each heading's part id, in the order the executive page shows them; KLOE headings
# (``## KLOE <key>``) come between "What needs to improve" and "Deep dive".
HEADINGS: dict[str, str] = {
    "summary": "Summary",
    "action-taken": "Action taken",
    "worked-well": "What worked well",
    "improve": "What needs to improve",
    "deep-dive": "Deep dive",
    "family-feedback": "Family feedback",
    "learning-event": "Learning event",
    "conclusions": "Conclusions",
}
_BY_TITLE = {" ".join(t.casefold().split()): pid for pid, t in HEADINGS.items()}
_KLOE = re.compile(r"^kloe\s+(?P<key>\S+)\s*$", re.IGNORECASE)

REFERENCE = re.compile(r"\{\{(?P<body>.*?)\}\}", re.DOTALL)
_SHARE = re.compile(r"^share\s+(?P<key>\S+)$")
_CHANGE = re.compile(r"^change\s+(?P<key>\S+)\s+vs\.?\s+(?P<versus>\S+)$")
_COUNTS = ("cases", "agencies")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
# a figure typed by hand: a percentage, or a count of the audit's units
_TYPED = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?\s?(?:%|per\s?cent\b))"
    r"|\b(\d+\s+(?:of\s+(?:the\s+)?\d+\s+)?(?:cases|children|ratings|agencies|standards)\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Problem:
    """Something wrong in the commentary: ``line`` (1-based, 0 for the whole file),
    ``message`` (one line) and ``level`` (``error`` stops the run, ``warning`` does
    not)."""

    line: int
    message: str
    level: str = "error"

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.message}"


@dataclass(frozen=True)
class Reference:
    """A figure asked for by ``{{ ... }}``: ``kind`` (``share``, ``change``, ``cases``,
    ``agencies``), ``key`` and ``versus`` where the kind takes them, the ``line`` it is
    on and its ``text`` as written."""

    kind: str
    key: str = ""
    versus: str = ""
    line: int = 0
    text: str = ""


@dataclass(frozen=True)
class Part:
    """The text under one heading: ``pid`` (``summary``, ``kloe:<key>``...), ``title`` as
    written, ``text`` (Markdown, comments removed) and the ``line`` of its heading."""

    pid: str
    title: str
    text: str
    line: int


@dataclass
class Commentary:
    """A cycle's commentary as read: its status, its parts by id, its references and
    what is wrong with it."""

    source: str
    status: str = "draft"
    ratified_by: str = ""
    ratified_on: str = ""
    parts: dict[str, Part] = field(default_factory=dict)
    references: list[Reference] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ratified(self) -> bool:
        return self.status == "ratified" and not self.errors

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]

    def text(self, pid: str) -> str:
        part = self.parts.get(pid)
        return part.text if part else ""


def _front_matter(lines: list[str], problems: list[Problem]) -> tuple[dict, int]:
    """The YAML front matter and the index of the first line after it."""
    if not lines or lines[0].strip() != "---":
        problems.append(
            Problem(1, "no front matter: start the file with '---', 'status: draft', '---'")
        )
        return {}, 0
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        problems.append(Problem(1, "the front matter opened with '---' is never closed"))
        return {}, len(lines)
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problems.append(Problem(line, "the front matter is not valid YAML"))
        return {}, end + 1
    if not isinstance(meta, dict):
        problems.append(Problem(2, "the front matter must be 'key: value' lines"))
        return {}, end + 1
    return meta, end + 1


def _check_meta(meta: dict, commentary: Commentary) -> None:
    status = str(meta.get("status", "")).strip().casefold()
    if status not in ("draft", "ratified"):
        commentary.problems.append(
            Problem(2, f"status must be 'draft' or 'ratified', not {meta.get('status')!r}")
        )
        status = "draft"
    commentary.status = status
    by, on = meta.get("ratified_by"), meta.get("ratified_on")
    if status == "ratified":
        if not by or not str(by).strip():
            commentary.problems.append(Problem(2, "a ratified commentary names 'ratified_by'"))
        if isinstance(on, dt.date):
            on = on.isoformat()
        elif on is not None:
            try:
                on = dt.date.fromisoformat(str(on).strip()).isoformat()
            except ValueError:
                commentary.problems.append(
                    Problem(2, f"ratified_on must be a date such as 2019-03-14, not {on!r}")
                )
                on = None
        if not on and not any("ratified_on" in p.message for p in commentary.problems):
            commentary.problems.append(
                Problem(2, "a ratified commentary gives 'ratified_on' (a date)")
            )
        commentary.ratified_by = " ".join(str(by or "").split())
        commentary.ratified_on = str(on or "")
    known = {"status", "ratified_by", "ratified_on", "title"}
    for key in meta:
        if str(key) not in known:
            commentary.problems.append(
                Problem(
                    2, f"unknown front-matter key {str(key)!r} (known: {', '.join(sorted(known))})"
                )
            )


def _strip_comments(text: str, first_line: int, problems: list[Problem]) -> str:
    """``text`` without its HTML comments; each comment leaves its line breaks, so line
    numbers stay true. An unclosed comment is an error (its text would vanish)."""

    def blank(match: re.Match) -> str:
        return "\n" * match.group(0).count("\n")

    out = _COMMENT.sub(blank, text)
    if "<!--" in out:
        line = first_line + out[: out.index("<!--")].count("\n")
        problems.append(Problem(line, "a comment opened with '<!--' is never closed with '-->'"))
        out = out[: out.index("<!--")]
    return out


def find_references(
    text: str, first_line: int = 1, problems: list[Problem] | None = None
) -> list[Reference]:
    """The figure references in ``text`` (its first line numbered ``first_line``); a
    ``{{ ... }}`` that is not one is a problem added to ``problems``."""
    problems = [] if problems is None else problems
    found = []
    for match in REFERENCE.finditer(text):
        line = first_line + text[: match.start()].count("\n")
        body = " ".join(match.group("body").split())
        if m := _SHARE.match(body):
            found.append(Reference("share", m["key"], line=line, text=match.group(0)))
        elif m := _CHANGE.match(body):
            found.append(Reference("change", m["key"], m["versus"], line, match.group(0)))
        elif body in _COUNTS:
            found.append(Reference(body, line=line, text=match.group(0)))
        else:
            problems.append(
                Problem(
                    line,
                    f"{match.group(0)!r} is not a figure reference: write {{{{ share KEY }}}}, "
                    "{{ change KEY vs CYCLE }}, {{ cases }} or {{ agencies }}",
                )
            )
    return found


def _typed_figures(text: str, first_line: int) -> list[Problem]:
    """A percentage or a count typed by hand (outside references): a warning each."""
    plain = REFERENCE.sub(lambda m: " " * len(m.group(0)), text)
    warnings = []
    for match in _TYPED.finditer(plain):
        line = first_line + plain[: match.start()].count("\n")
        typed = match.group(0)
        hint = (
            "{{ share KEY }} or {{ change KEY vs CYCLE }}"
            if "%" in typed or "cent" in typed.casefold()
            else "{{ cases }} or {{ agencies }}"
        )
        warnings.append(
            Problem(
                line,
                f"{typed!r} is typed by hand: use {hint}, so the page shows the figure "
                "the data gives",
                "warning",
            )
        )
    return warnings


def parse_commentary(text: str, kloe_keys: list[str], source: str = "") -> Commentary:
    """Read a commentary's text against the cycle's KLOE keys."""
    commentary = Commentary(source=source)
    problems = commentary.problems
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    meta, start = _front_matter(lines, problems)
    _check_meta(meta, commentary)
    kloes = {k.casefold(): k for k in kloe_keys}
    body = "\n".join(lines[start:])
    body = _strip_comments(body, start + 1, problems)
    body_lines = body.split("\n")
    headings: list[tuple[int, str, str]] = []  # (index in body_lines, pid, title)
    fenced = False
    for i, line in enumerate(body_lines):
        if _FENCE.match(line):
            fenced = not fenced
        if fenced or not re.match(r"^ {0,3}## ", line):
            continue
        title = line.strip()[3:].strip().rstrip("#").strip()
        number = start + i + 1
        key = " ".join(title.casefold().split())
        if key in _BY_TITLE:
            pid = _BY_TITLE[key]
        elif m := _KLOE.match(title):
            found = kloes.get(m["key"].casefold())
            if found is None:
                known = ", ".join(kloe_keys)
                problems.append(
                    Problem(number, f"'## {title}' names no KLOE of this cycle (its keys: {known})")
                )
                pid = ""
            else:
                pid = f"kloe:{found}"
        else:
            known = ", ".join(f"'## {t}'" for t in HEADINGS.values())
            problems.append(
                Problem(
                    number,
                    f"'## {title}' is not a heading the report knows: use {known} or "
                    "'## KLOE <kloe key>'",
                )
            )
            pid = ""
        if pid and any(p == pid for _, p, _ in headings):
            problems.append(Problem(number, f"'## {title}' is given twice: write it once"))
            pid = ""
        headings.append((i, pid, title))
    preamble = "\n".join(body_lines[: headings[0][0] if headings else len(body_lines)])
    if preamble.strip():
        offset = next(i for i, line in enumerate(body_lines) if line.strip())
        problems.append(
            Problem(
                start + offset + 1,
                "text before the first '## ' heading would not be shown: put it under "
                "'## Summary' or another heading",
            )
        )
    for n, (i, pid, title) in enumerate(headings):
        end = headings[n + 1][0] if n + 1 < len(headings) else len(body_lines)
        part_text = "\n".join(body_lines[i + 1 : end])
        first = start + i + 2
        commentary.references += find_references(part_text, first, problems)
        problems.extend(_typed_figures(part_text, first))
        if pid:
            commentary.parts[pid] = Part(pid, title, part_text.strip(), start + i + 1)
    problems.sort(key=lambda p: p.line)
    return commentary


def _read_text(cycle_dir: str | Path) -> tuple[Path, str | None]:
    """The commentary file's path and its text (None when the cycle has none). A file
    that cannot be read (a link, too large, not UTF-8) raises :class:`AuditDataError`
    naming it."""
    path = Path(cycle_dir) / COMMENTARY_FILE
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return path, None
    except OSError as exc:
        raise AuditDataError(
            f"cannot read the commentary: {exc.strerror}", file=str(path)
        ) from None
    if stat.S_ISLNK(info.st_mode):
        raise AuditDataError("a symbolic link: not followed; copy the file itself", file=str(path))
    if not stat.S_ISREG(info.st_mode):
        raise AuditDataError("not a plain file", file=str(path))
    if info.st_size > MAX_COMMENTARY_BYTES:
        raise AuditDataError(
            f"file is {info.st_size:,} bytes, over the {MAX_COMMENTARY_BYTES:,} a commentary "
            "may be",
            file=str(path),
        )
    try:
        return path, path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AuditDataError(
            f"not UTF-8 (byte {exc.start + 1}): save it as UTF-8", file=str(path)
        ) from None
    except OSError as exc:
        raise AuditDataError(
            f"cannot read the commentary: {exc.strerror}", file=str(path)
        ) from None


def read_commentary(cycle_dir: str | Path, kloe_keys: list[str]) -> Commentary | None:
    """``cycle_dir``'s commentary, or None when it has none. A file that cannot be read
    (a link, too large, not UTF-8) raises :class:`AuditDataError` naming it."""
    path, text = _read_text(cycle_dir)
    return None if text is None else parse_commentary(text, kloe_keys, source=str(path))


def commentary_status(cycle_dir: str | Path) -> str:
    """``ratified`` when the cycle's commentary says so in sound front matter (status,
    ratified_by and ratified_on), else ``draft`` (no commentary, a draft, or one that
    cannot be read): what the pages' marking says."""
    try:
        _, text = _read_text(cycle_dir)
    except AuditDataError:
        return "draft"
    if text is None:
        return "draft"
    found = Commentary(source="")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    meta, _ = _front_matter(lines, found.problems)
    _check_meta(meta, found)
    sound = not found.errors or all("front-matter key" in p.message for p in found.errors)
    return "ratified" if found.status == "ratified" and sound else "draft"
