"""What every section builder shares: the session it reads, and ``build``.

A builder computes its results once, as cached properties, so the executive summary can
take them from the other sections' builders instead of computing them again
(:func:`audit_analysis.sections.build_all`); ``build`` returns the section as data
(:class:`~audit_analysis.render.section.Section`) and shows nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from audit_analysis.render.section import Block, Section

__all__ = ["SectionBuilder"]


if TYPE_CHECKING:  # the session is the pipeline's: sections only read it
    from audit_analysis.pipeline.notebook import Session


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
