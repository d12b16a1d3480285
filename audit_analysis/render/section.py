"""A report section as data: what a section builder returns and the renderer shows.

A section (data quality, findings by KLOE, trends, agency consistency, the executive
summary) is a :class:`Section`: named parts, each a list of blocks, in reading order.
A block is a sentence (:class:`Text`), a list of sentences (:class:`Bullets`), a table
(:class:`Table`), a chart (:class:`Figure`: title, subtitle, alt text, the table behind
it and how to draw it), a KLOE's learning-event feedback (:class:`Learning`), a heading
(:class:`Heading`), a table of labelled rows in titled groups (:class:`Grid`) or blocks
kept together as one (:class:`Group`). A sentence or list item is plain text, or a
tuple of runs (:data:`Runs`) where some words are :class:`Strong` or :class:`Emphasis`:
every block holds text, never markup.
Building a section draws nothing, writes nothing and shows nothing, so a section can
be tested, compared or reused without a kernel; one renderer
(:meth:`audit_analysis.render.present.Report.show`) turns blocks into the escaped HTML a
notebook displays and nbconvert exports, and writes each chart's PNG, SVG and CSV.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # drawing is the renderer's business: nothing here imports matplotlib
    from matplotlib.figure import Figure as MplFigure

__all__ = [
    "Block",
    "Bullets",
    "Emphasis",
    "Figure",
    "Grid",
    "Group",
    "Heading",
    "Learning",
    "Row",
    "RowGroup",
    "Runs",
    "Section",
    "Strong",
    "Table",
    "Text",
    "plain",
]


@dataclass(frozen=True)
class Strong:
    """Words in bold within a sentence or list item (plain text, escaped when rendered)."""

    text: str


@dataclass(frozen=True)
class Emphasis:
    """Words in italics within a sentence or list item (plain text, escaped when rendered)."""

    text: str


# A sentence with some words in bold or italics: its runs, in order.
Runs = tuple[str | Strong | Emphasis, ...]


def plain(text: str | Runs) -> str:
    """A sentence's words without their bold or italics."""
    if isinstance(text, str):
        return text
    return "".join(run if isinstance(run, str) else run.text for run in text)


@dataclass(frozen=True)
class Text:
    """One sentence or paragraph (escaped when rendered); ``css``: its class, such as
    ``note``."""

    text: str | Runs
    css: str = ""


@dataclass(frozen=True)
class Bullets:
    """Sentences shown as a list (``css``: the list's class, such as ``headlines``;
    ``ordered``: numbered)."""

    items: tuple[str | Runs, ...]
    css: str = ""
    ordered: bool = False


@dataclass(frozen=True)
class Heading:
    """A heading of the page, ``level`` 1 to 6 (``<h1>`` to ``<h6>``)."""

    text: str
    level: int

    def __post_init__(self) -> None:
        if self.level not in range(1, 7):
            raise ValueError(f"a heading's level is 1 to 6, not {self.level!r}")


@dataclass(frozen=True)
class Row:
    """A row of a :class:`Grid`: its label (the row's heading, ``mark`` before it), one
    cell per column after the first, and its class (``css``)."""

    label: str
    cells: tuple[str, ...]
    css: str = ""
    mark: str = ""


@dataclass(frozen=True)
class RowGroup:
    """Rows of a :class:`Grid` under a title that spans the grid (``css``: the title
    row's class)."""

    title: str
    rows: tuple[Row, ...]
    css: str = ""


@dataclass(frozen=True)
class Grid:
    """A table of labelled rows in titled groups, such as every standard (grouped by
    KLOE) against every agency. ``columns``: the headings, the first over the rows'
    labels; ``css``: the table's class."""

    columns: tuple[str, ...]
    groups: tuple[RowGroup, ...]
    css: str = ""


@dataclass(frozen=True)
class Table:
    """A table with its caption. ``name``: saved as ``tables/<name>.csv`` (None: shown
    only); ``show=False``: saved only (a CSV for analysts, too wide for the page)."""

    frame: pd.DataFrame
    caption: str
    name: str | None = None
    show: bool = True


@dataclass(frozen=True)
class Figure:
    """A chart as a specification: ``draw()`` makes the matplotlib figure from ``data``
    only when rendered. ``name`` names its files (``figures/<name>.png|svg``,
    ``tables/<name>.csv``); ``key`` explains codes the chart uses (plain text, under
    the chart with the source line); ``table_caption`` defaults to the title;
    ``narrow``, where given, draws the same chart for a phone's width (shown instead on
    a narrow screen, saved as ``figures/<name>-narrow.png``)."""

    name: str
    title: str
    subtitle: str
    alt: str
    data: pd.DataFrame
    draw: Callable[[], MplFigure]
    key: str = ""
    table_caption: str | None = None
    narrow: Callable[[], MplFigure] | None = None


@dataclass(frozen=True)
class Learning:
    """The learning event's three columns for one KLOE (nothing if it has none)."""

    frame: pd.DataFrame | None
    kloe: int


@dataclass(frozen=True)
class Group:
    """Blocks kept together, shown as one with nothing between them (a heading and the
    list under it)."""

    blocks: tuple[Block, ...]


Block = Text | Bullets | Table | Figure | Learning | Heading | Grid | Group


def _within(blocks: Iterable[Block]) -> Iterator[Block]:
    """``blocks`` with the blocks of each :class:`Group` in its place, in order."""
    for block in blocks:
        if isinstance(block, Group):
            yield from _within(block.blocks)
        else:
            yield block


@dataclass
class Section:
    """A report section: ``parts`` in reading order, each a list of blocks, named so a
    notebook can put its narrative between them (``report.show(section, "evidence")``)."""

    name: str
    title: str
    parts: dict[str, list[Block]] = field(default_factory=dict)

    def __getitem__(self, part: str) -> list[Block]:
        return self.parts[part]

    def blocks(self, *parts: str) -> Iterator[Block]:
        """The blocks of ``parts`` (every part when none is named), in order."""
        for name in parts or self.parts:
            yield from self.parts[name]

    def figures(self) -> list[Figure]:
        return [b for b in _within(self.blocks()) if isinstance(b, Figure)]

    def tables(self) -> list[Table]:
        return [b for b in _within(self.blocks()) if isinstance(b, Table)]

    def sentences(self) -> list[str]:
        """Every sentence of the section, headlines included, in order, as plain text."""
        out: list[str] = []
        for block in _within(self.blocks()):
            if isinstance(block, Text):
                out.append(plain(block.text))
            elif isinstance(block, Bullets):
                out.extend(plain(item) for item in block.items)
        return out
