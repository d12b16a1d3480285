"""A report section as data: what a section builder returns and the renderer shows.

A section (data quality, findings by KLOE, trends, agency consistency, the executive
summary) is a :class:`Section`: named parts, each a list of blocks, in reading order.
A block is a sentence (:class:`Text`), a list of sentences (:class:`Bullets`), a table
(:class:`Table`), a chart (:class:`Figure`: title, subtitle, alt text, the table behind
it and how to draw it) or a KLOE's learning-event feedback (:class:`Learning`).
Building a section draws nothing, writes nothing and shows nothing, so a section can
be tested, compared or reused without a kernel; one renderer
(:meth:`audit_analysis.render.present.Report.show`) turns blocks into the escaped HTML a
notebook displays and nbconvert exports, and writes each chart's PNG, SVG and CSV.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # drawing is the renderer's business: nothing here imports matplotlib
    from matplotlib.figure import Figure as MplFigure

__all__ = ["Block", "Bullets", "Figure", "Learning", "Section", "Table", "Text"]


@dataclass(frozen=True)
class Text:
    """One sentence or paragraph of plain text (escaped when rendered)."""

    text: str


@dataclass(frozen=True)
class Bullets:
    """Sentences shown as a list (``css``: the list's class, such as ``headlines``)."""

    items: tuple[str, ...]
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
    the chart with the source line); ``table_caption`` defaults to the title."""

    name: str
    title: str
    subtitle: str
    alt: str
    data: pd.DataFrame
    draw: Callable[[], MplFigure]
    key: str = ""
    table_caption: str | None = None


@dataclass(frozen=True)
class Learning:
    """The learning event's three columns for one KLOE (nothing if it has none)."""

    frame: pd.DataFrame | None
    kloe: int


Block = Text | Bullets | Table | Figure | Learning


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
        return [b for b in self.blocks() if isinstance(b, Figure)]

    def tables(self) -> list[Table]:
        return [b for b in self.blocks() if isinstance(b, Table)]

    def sentences(self) -> list[str]:
        """Every sentence of the section, headlines included, in order."""
        out: list[str] = []
        for block in self.blocks():
            if isinstance(block, Text):
                out.append(block.text)
            elif isinstance(block, Bullets):
                out.extend(block.items)
        return out
