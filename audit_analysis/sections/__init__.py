"""The report sections, each built as data by its own module: ``data_quality``,
``by_kloe``, ``trends``, ``consistency``, ``executive`` (which reads the other four's
results) and ``casepack``; ``words`` holds the wording they share. Imports the layers
below; shows nothing (``audit_analysis.render.present.Report.show`` renders a section).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audit_analysis.render.section import Section
    from audit_analysis.sections.base import Session

__all__ = ["build_all"]


def build_all(session: Session) -> dict[str, Section]:
    """Every annual section of ``session``'s cycle, by name, in the report's order; each
    result computed once, the executive summary taking the others' results."""
    # imported here, not with the package: a notebook, or the explorer, importing one
    # section (or the shared wording) does not import all five (issue 25)
    from audit_analysis.sections.by_kloe import KloeFindings
    from audit_analysis.sections.consistency import Consistency
    from audit_analysis.sections.data_quality import DataQuality
    from audit_analysis.sections.executive import Executive
    from audit_analysis.sections.trends import Trends

    quality, kloes = DataQuality(session), KloeFindings(session)
    trends, consistency = Trends(session), Consistency(session)
    executive = Executive(
        session, quality=quality, kloes=kloes, trends=trends, consistency=consistency
    )
    return {b.name: b.build() for b in (quality, kloes, trends, consistency, executive)}
