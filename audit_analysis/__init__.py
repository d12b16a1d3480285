"""audit-analysis: a partnership's multi-agency case audit, from returns to findings.

The public API, and all the documentation (docs/index.md) promises:

- :func:`load_cycle` and :class:`CycleData`: one cycle's returns read into tidy tables;
- :func:`open_session` and :func:`build_sections`: a cycle and the cycles it is compared
  with, opened as a notebook opens them, and every report section built from it as data
  (text, tables, figure specifications) for ``session.report.show`` to render;
- :func:`run_annual` and :func:`run_case_packs`: the annual run and the deep-dive case
  packs;
- the errors: :class:`AuditError` (the one base), :class:`AuditDataError`,
  :class:`RunFailedError`, and :class:`RejectionCode`, the code of every rejection.

Everything else lives in the layers (``io``, ``analysis``, ``render``, ``sections``,
``admin``, ``pipeline``), each importing only those below it.
"""

from audit_analysis.exceptions import AuditDataError, AuditError, RejectionCode, RunFailedError


def _version() -> str:
    """The installed package's version (set from git when it was built: pyproject.toml,
    ``[tool.setuptools_scm]``); the manifest adds the commit when run from a clone."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("audit-analysis")
    except PackageNotFoundError:  # imported from a source tree that was never installed
        return "0.0.0+unknown"


__version__ = _version()
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


# name -> (module, attribute), imported on first use: `import audit_analysis` (and
# `audit-analysis --version`) stays light; pandas comes with the first load.
_LAZY = {
    "CycleData": ("audit_analysis.io.dataset", "CycleData"),
    "load_cycle": ("audit_analysis.io.dataset", "load_cycle"),
    "open_session": ("audit_analysis.pipeline.notebook", "open_session"),
    "build_sections": ("audit_analysis.sections", "build_all"),
    "run_annual": ("audit_analysis.pipeline.runner", "run_annual"),
    "run_case_packs": ("audit_analysis.pipeline.runner", "run_case_packs"),
}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        module, attribute = _LAZY[name]
        return getattr(import_module(module), attribute)
    raise AttributeError(f"module 'audit_analysis' has no attribute {name!r}")
