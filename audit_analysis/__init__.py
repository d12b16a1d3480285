"""audit-analysis: a partnership's multi-agency case audit, from returns to findings.

The public API, and all the README promises:

- :func:`load_cycle` and :class:`CycleData`: one cycle's returns read into tidy tables;
- :func:`run_annual` and :func:`run_case_packs`: the annual run and the deep-dive case
  packs (imported on first use, so that ``import audit_analysis`` stays light);
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
    "load_cycle",
    "run_annual",
    "run_case_packs",
]


def __getattr__(name: str):
    if name in ("run_annual", "run_case_packs"):
        from audit_analysis.pipeline import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'audit_analysis' has no attribute {name!r}")
