"""What every section builder shares: the session it reads, and ``build``.

A builder computes its results once, as cached properties, so the executive summary can
take them from the other sections' builders instead of computing them again
(:func:`audit_analysis.sections.build_all`); ``build`` returns the section as data
(:class:`~audit_analysis.render.section.Section`) and shows nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from audit_analysis.io.dataset import CycleData
from audit_analysis.render.labels import show_scale
from audit_analysis.render.present import Report
from audit_analysis.render.section import Block, Section

__all__ = ["SectionBuilder", "Session"]


@dataclass
class Session:
    """What a section is built from: the cycle, the cycles it is compared with, the
    small-numbers threshold and where it came from; ``report`` is where a notebook
    renders it (:func:`audit_analysis.pipeline.notebook.open_session` opens one)."""

    data: CycleData
    earlier: list[CycleData]
    report: Report
    min_cell_count: int
    data_dir: Path
    output_dir: Path
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Every word, heading and colour the session's pages show is on its cycle's scale.
        show_scale(self.data.scale)

    @property
    def cycle(self) -> str:
        return self.data.cycle

    @property
    def cases(self) -> int:
        """The cases with a rating on the scale."""
        from audit_analysis.sections.small import rated_cases

        return rated_cases(self.data.ratings)

    @property
    def small(self) -> bool:
        """Whether the audit is small (:func:`audit_analysis.sections.small.is_small`):
        its pages lead with counts of cases and judge no change."""
        from audit_analysis.sections.small import is_small

        return is_small(self.cases, self.min_cell_count)


class SectionBuilder:
    """Base of the section builders. A subclass names its section and writes
    :meth:`parts`; its results are ``functools.cached_property`` attributes."""

    name: ClassVar[str]
    title: ClassVar[str]

    def __init__(self, session: Session) -> None:
        self.session = session
        self.data = session.data
        self.min_cell_count = session.min_cell_count

    def parts(self) -> dict[str, list[Block]]:  # pragma: no cover - every subclass has one
        raise NotImplementedError

    def build(self) -> Section:
        """The section: its parts, in reading order, as blocks."""
        return Section(self.name, self.title, self.parts())
