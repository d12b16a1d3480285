"""The QA group's commentary beside the live figures: its figure references resolved
with the same numbers, rounding and words as the computed sections, and its Markdown
turned into blocks the one renderer escapes.

``{{ share KEY }}`` is the share rated good (as the scale defines it) with its 95% interval by
case; ``{{ change KEY vs CYCLE }}`` the change since ``CYCLE`` with its interval and the
verdict word the trends page gives; ``{{ cases }}`` and ``{{ agencies }}`` how many were
audited and auditing. ``KEY`` is ``overall``, a KLOE key or a standard key. A figure the
executive page suppresses is suppressed here too, saying what is hidden and why.

Only a subset of Markdown is shown (paragraphs, lists, emphasis, headings below level
2, quotes, code as plain text); links are shown as their words with their address in
brackets, never as links; images are named, never fetched; raw HTML is text. Every text
becomes a :class:`~audit_analysis.render.section.Text`, :class:`Bullets` or
:class:`Heading`: the renderer escapes it on the page and in the PDF alike.
"""

from __future__ import annotations

from functools import cached_property

import pandas as pd
from markdown_it import MarkdownIt

from audit_analysis.analysis import summaries
from audit_analysis.analysis import trends as trend_stats
from audit_analysis.io.commentary import (
    COMMENTARY_FILE,
    HEADINGS,
    REFERENCE,
    Commentary,
    Problem,
    Reference,
    find_references,
    read_commentary,
)
from audit_analysis.io.cycles import parse_cycle
from audit_analysis.render.section import Block, Bullets, Emphasis, Heading, Runs, Strong, Text
from audit_analysis.sections.base import Session
from audit_analysis.sections.words import pct, points, verdict_words

__all__ = [
    "COMMENTARY_FILE",
    "NO_COMMENTARY",
    "CommentaryFigures",
    "check_references",
    "checked_commentary",
    "commentary_problems",
    "load",
    "markdown_blocks",
    "part_title",
    "refuse_unsound",
    "suppressed_words",
]

_MD = MarkdownIt("commonmark", {"html": False})


def suppressed_words(reason: str, least: int) -> str:
    """What a suppressed figure says in its place."""
    if reason == "few":
        return f"not shown: it rests on fewer than {least} cases"
    return f"not shown: it would reveal a number under {least}"


def load(session: Session) -> Commentary | None:
    """The session's cycle's commentary (None: the cycle has none)."""
    keys = [k.key for k in session.data.framework.kloes]
    return read_commentary(session.data.folder, keys)


def check_references(commentary: Commentary, framework, compared: list[str]) -> list[Problem]:
    """The references that cannot be resolved against this cycle's framework and the
    cycles it is compared with: one error each, naming its line. (Whether a resolvable
    figure is suppressed is known only with the figures; it is then shown as such.)"""
    keys = {"overall"} | {k.key for k in framework.kloes} | {s.key for s in framework.standards}
    problems = []
    for ref in commentary.references:
        if ref.kind in ("share", "change") and ref.key not in keys:
            problems.append(
                Problem(
                    ref.line,
                    f"{ref.text!r}: {ref.key!r} is not 'overall', a KLOE key or a standard key "
                    f"of the {framework.cycle} framework",
                )
            )
        elif ref.kind == "change":
            versus = parse_cycle(ref.versus)
            if versus is None or versus not in compared:
                which = ", ".join(compared) if compared else "none"
                problems.append(
                    Problem(
                        ref.line,
                        f"{ref.text!r}: {ref.versus!r} is not a cycle this run compares with "
                        f"(compared: {which})",
                    )
                )
    return problems


class CommentaryFigures:
    """Resolves a commentary's references against the cycle's figures.

    ``standards``: the per-standard summary the pages show (``KloeFindings.standards``);
    ``trend``: the per-standard trend table (``Trends.table``, None with nothing to
    compare); ``hidden_kloes``: KLOEs the executive page hides for small numbers."""

    def __init__(
        self,
        session: Session,
        standards: pd.DataFrame,
        trend: pd.DataFrame | None,
        hidden_kloes: set | None = None,
        overall: pd.Series | None = None,
    ) -> None:
        self.session = session
        self.data = session.data
        self.least = session.min_cell_count
        self.standards = standards
        if trend is not None or not session.earlier:
            self.trend = trend
        self.hidden_kloes = hidden_kloes or set()
        if overall is not None:  # the page's own, computed once
            self.overall = overall

    @cached_property
    def overall(self) -> pd.Series:
        return summaries.overall_summary(self.data.ratings).iloc[0]

    @cached_property
    def trend(self) -> pd.DataFrame | None:
        """The per-standard trend table, computed only when a reference needs it and the
        caller had none (the findings-by-KLOE page)."""
        return trend_stats.trend_table(self.data, self.session.earlier)

    @cached_property
    def kloes(self) -> pd.DataFrame:
        return summaries.kloe_summary(self.data.ratings, self.data.framework)

    @cached_property
    def kloe_trend(self) -> pd.DataFrame | None:
        if not self.session.earlier:
            return None
        return trend_stats.kloe_trend_table(
            self.data, self.session.earlier, common_standards_only=True
        )

    @cached_property
    def overall_trend(self) -> pd.Series | None:
        if not self.session.earlier:
            return None
        return trend_stats.overall_trend(
            self.data, self.session.earlier, common_standards_only=True
        ).iloc[0]

    def _level(self, key: str) -> str:
        if key == "overall":
            return "overall"
        if any(k.key == key for k in self.data.framework.kloes):
            return "kloe"
        return "standard"

    def _share_row(self, key: str) -> pd.Series | None:
        level = self._level(key)
        if level == "overall":
            return self.overall
        table, column = (
            (self.kloes, "kloe_key") if level == "kloe" else (self.standards, "standard_key")
        )
        rows = table[table[column] == key]
        return rows.iloc[0] if len(rows) else None

    def _suppressed(self, key: str) -> str:
        """Why ``key``'s figures are not shown ("" when they are)."""
        if key in self.hidden_kloes:
            return suppressed_words("reveal", self.least)
        row = self._share_row(key)
        if row is not None and 0 < int(row["cases"]) < self.least:
            return suppressed_words("few", self.least)
        return ""

    def share(self, key: str) -> str:
        if hidden := self._suppressed(key):
            return f"({hidden})"
        row = self._share_row(key)
        if row is None or pd.isna(row["share"]):
            return "(no ratings)"
        text = pct(row["share"])
        if pd.notna(row["low"]):
            text += f" (95% interval by case: {pct(row['low'])} to {pct(row['high'])})"
        else:
            text += " (too few cases for an interval)"
        return text

    def change(self, key: str, versus: str) -> str:
        if hidden := self._suppressed(key):
            return f"({hidden})"
        level = self._level(key)
        if level == "overall":
            row = self.overall_trend
        else:
            table, column = (
                (self.kloe_trend, "kloe_key") if level == "kloe" else (self.trend, "standard_key")
            )
            rows = table[table[column] == key] if table is not None else table
            row = rows.iloc[0] if rows is not None and len(rows) else None
        if row is None or f"diff_vs_{versus}" not in row.index:
            return f"(no comparison with {versus})"
        diff, low, high = (row[f"{p}_vs_{versus}"] for p in ("diff", "diff_low", "diff_high"))
        verdict = row[f"verdict_vs_{versus}"]
        if pd.isna(diff):
            return f"(no comparison with {versus}: too few ratings in one of the years)"
        text = f"{points(diff)} points"
        if pd.notna(low):
            text += f" (95% interval by case: {points(low)} to {points(high)})"
        if self.session.small:  # a small audit: the figure, no verdict of change
            return f"{text}: no change judged in a small audit"
        return f"{text}: {verdict_words(verdict)}"

    def resolve(self, ref: Reference) -> str:
        if ref.kind == "cases":
            return f"{len(self.data.cases):,}"
        if ref.kind == "agencies":
            return f"{int(self.overall['agencies']):,}"
        if ref.kind == "share":
            return self.share(ref.key)
        versus = parse_cycle(ref.versus) or ref.versus
        return self.change(ref.key, versus)

    def substitute(self, text: str) -> str:
        """``text`` with every reference replaced by its figure (an unresolvable one,
        which ``validate`` and the run refuse, is shown as written)."""

        def one(match) -> str:
            found = find_references(match.group(0))
            return self.resolve(found[0]) if found else match.group(0)

        return REFERENCE.sub(one, text)


def _inline(token, substitute) -> Runs:
    """An inline token's children as runs: bold and italics kept, links as their words
    and address, images named, code as text; references substituted."""
    runs: list[str | Strong | Emphasis] = []
    strong = emphasis = 0
    link: list[str] = []

    def add(text: str) -> None:
        text = substitute(text)
        if strong:
            runs.append(Strong(text))
        elif emphasis:
            runs.append(Emphasis(text))
        else:
            runs.append(text)

    for child in token.children or []:
        kind = child.type
        if kind in ("text", "code_inline"):
            add(child.content)
        elif kind in ("softbreak", "hardbreak"):
            add(" ")
        elif kind == "strong_open":
            strong += 1
        elif kind == "strong_close":
            strong -= 1
        elif kind == "em_open":
            emphasis += 1
        elif kind == "em_close":
            emphasis -= 1
        elif kind == "link_open":
            link.append(str(child.attrs.get("href", "")))
        elif kind == "link_close":
            href = link.pop() if link else ""
            if href:
                add(f" ({href})")
        elif kind == "image":
            alt = child.content or "an image"
            add(f"[image not shown: {alt} ({child.attrs.get('src', '')})]")
        else:  # html_inline cannot occur (html off); anything else as its text
            add(child.content)
    merged: list[str | Strong | Emphasis] = []
    for run in runs:  # join neighbouring plain runs, dropping empty ones
        if isinstance(run, str) and not run:
            continue
        if merged and isinstance(run, str) and isinstance(merged[-1], str):
            merged[-1] += run
        elif merged and type(run) is type(merged[-1]) and not isinstance(run, str):
            merged[-1] = type(run)(merged[-1].text + run.text)
        else:
            merged.append(run)
    return tuple(merged)


def _simple(runs: Runs) -> str | Runs:
    return runs[0] if len(runs) == 1 and isinstance(runs[0], str) else runs


def markdown_blocks(text: str, substitute=lambda s: s, css: str = "qa-words") -> list[Block]:
    """The Markdown subset of a commentary part as blocks (plain text, escaped when
    rendered): paragraphs, lists (nested items flattened, marked with a dash), headings
    (levels 3 to 6), quotes and code as paragraphs."""
    blocks: list[Block] = []
    lists: list[tuple[bool, list]] = []  # open lists: (ordered, items)
    depth = 0  # list nesting
    quote = 0
    heading = 0
    tokens = _MD.parse(text)
    for token in tokens:
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            depth += 1
            if depth == 1:
                lists.append((kind == "ordered_list_open", []))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
            if depth == 0:
                ordered, items = lists.pop()
                if items:
                    blocks.append(Bullets(tuple(items), css, ordered=ordered))
        elif kind == "heading_open":
            heading = max(3, min(6, int(token.tag[1])))
        elif kind == "heading_close":
            heading = 0
        elif kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote -= 1
        elif kind == "inline":
            runs = _inline(token, substitute)
            if not "".join(r if isinstance(r, str) else r.text for r in runs).strip():
                continue
            if heading:
                blocks.append(
                    Heading("".join(r if isinstance(r, str) else r.text for r in runs), heading)
                )
            elif depth:
                prefix = "– " * (depth - 1)
                if prefix and runs and isinstance(runs[0], str):
                    runs = (prefix + runs[0], *runs[1:])
                elif prefix:
                    runs = (prefix, *runs)
                lists[-1][1].append(_simple(runs))
            else:
                blocks.append(Text(_simple(runs), f"{css} quote" if quote else css))
        elif kind in ("fence", "code_block"):
            content = substitute(token.content.rstrip("\n"))
            if content.strip():
                blocks.append(Text(content, f"{css} code"))
    return blocks


def part_title(pid: str, framework=None) -> str:
    """The heading a part is shown under."""
    if pid.startswith("kloe:") and framework is not None:
        key = pid.split(":", 1)[1]
        kloe = next((k for k in framework.kloes if k.key == key), None)
        return f"KLOE {kloe.number}: {kloe.title}" if kloe else key
    return HEADINGS.get(pid, pid)


NO_COMMENTARY = (
    "The QA group has supplied no commentary for this cycle ({file} in the cycle's "
    "folder): the figures below stand without its words."
)


def commentary_problems(data, compared: list[str]) -> list[Problem]:
    """Everything wrong with ``data``'s cycle's commentary, errors and warnings, in line
    order ([] when it has none or it is sound): its own contract
    (:func:`~audit_analysis.io.commentary.parse_commentary`) and the references that
    cannot be resolved against the framework and the cycles compared. A file that cannot
    be read raises :class:`~audit_analysis.exceptions.AuditDataError`."""
    return checked_commentary(data, compared)[1]


def checked_commentary(data, compared: list[str]) -> tuple[Commentary | None, list[Problem]]:
    """The commentary read once, and everything wrong with it."""
    found = read_commentary(data.folder, [k.key for k in data.framework.kloes])
    if found is None:
        return None, []
    problems = [*found.problems, *check_references(found, data.framework, compared)]
    return found, sorted(problems, key=lambda p: (p.line, p.level != "error"))


def refuse_unsound(data, compared: list[str]) -> Commentary | None:
    """The cycle's commentary (None: it has none), read once; raise
    :class:`~audit_analysis.exceptions.AuditDataError`, in one line naming the file and
    the first error's line, when it has an error (the run then writes nothing); warnings
    pass. What it returns is sound: its ``ratified`` is what the pages' marking says."""
    from audit_analysis.exceptions import AuditDataError

    found, problems = checked_commentary(data, compared)
    errors = [p for p in problems if p.level == "error"]
    if errors:
        more = (
            f" ({len(errors) - 1} more: audit-analysis validate lists them)"
            if len(errors) > 1
            else ""
        )
        raise AuditDataError(
            f"commentary: {errors[0]}{more}", file=str(data.folder / COMMENTARY_FILE)
        )
    return found
