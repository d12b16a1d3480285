"""audit-analysis: a partnership's multi-agency case audit, from returns to findings.

The public API, and all the README promises:

- :func:`load_cycle` and :class:`CycleData`: one cycle's returns read into tidy tables;
- :func:`open_session` and :func:`build_sections`: a cycle and the cycles it is compared
  with, opened as a notebook opens them, and every report section built from it as data
  (text, tables, figure specifications) for ``session.report.show`` to render;
- :func:`run_annual` and :func:`run_case_packs`: the annual run and the deep-dive case
  packs (these four imported on first use, so that ``import audit_analysis`` stays light);
- the errors: :class:`AuditError` (the one base), :class:`AuditDataError`,
  :class:`RunFailedError`, and :class:`RejectionCode`, the code of every rejection.

Everything else lives in the layers (``io``, ``analysis``, ``render``, ``sections``,
``admin``, ``pipeline``), each importing only those below it.
"""

from audit_analysis.exceptions import AuditDataError, AuditError, RejectionCode, RunFailedError
from audit_analysis.io.dataset import CycleData, load_cycle

__version__ = "0.1.0"
__all__ = [
    "AuditDataError",
    "AuditError",
    "CycleData",
    "RejectionCode",
    "RunFailedError",
    "__version__",
    "build_sections",
    "load_cycle",
    "open_session",
    "run_annual",
    "run_case_packs",
]


def __getattr__(name: str):
    if name in ("run_annual", "run_case_packs"):
        from audit_analysis.pipeline import runner

        return getattr(runner, name)
    if name == "open_session":
        from audit_analysis.pipeline.notebook import open_session

        return open_session
    if name == "build_sections":
        from audit_analysis.sections import build_all

        return build_all
    raise AttributeError(f"module 'audit_analysis' has no attribute {name!r}")
