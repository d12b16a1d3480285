"""What every notebook starts with: its parameters resolved and its data loaded.

Relative paths are anchored at the project root, never at the directory a notebook was
started from, so a notebook opened anywhere in JupyterLab runs on the demo data as is.
"""

from __future__ import annotations

from pathlib import Path

from audit_analysis.io import cache
from audit_analysis.io.cycles import normalise_cycle, sort_audits
from audit_analysis.paths import PROJECT_ROOT
from audit_analysis.render.present import Report
from audit_analysis.sections.base import Session

__all__ = ["PROJECT_ROOT", "Session", "open_session", "project_path"]


def project_path(path: str | Path) -> Path:
    """``path`` itself if absolute; else relative to the project root in a clone (so a
    notebook opened anywhere in it runs on the demo data as is), or to the current
    folder where the package is installed from a wheel."""
    path = Path(path).expanduser()
    if path.is_absolute():
        return path
    root = PROJECT_ROOT if (PROJECT_ROOT / "pyproject.toml").is_file() else Path.cwd()
    return root / path


def open_session(
    data_dir: str | Path,
    cycle: str,
    output_dir: str | Path,
    compare_cycles: list[str] | None = None,
    min_cell_count: int = 5,
) -> Session:
    """Load ``cycle`` and the cycles to compare it with (every earlier cycle found in
    ``data_dir`` when ``compare_cycles`` is None) and prepare the output folders."""
    from audit_analysis.pipeline.runner import earlier_cycles

    if int(min_cell_count) < 1:
        raise ValueError("min_cell_count must be at least 1")
    data_dir = project_path(data_dir)
    output_dir = project_path(output_dir)
    cycle = normalise_cycle(cycle)
    data = cache.cycle(data_dir, cycle)  # the annual run loads each cycle once for all
    if compare_cycles is None:
        compare_cycles = earlier_cycles(data_dir, cycle)
    named = sort_audits({normalise_cycle(c) for c in compare_cycles})
    earlier = [cache.cycle(data_dir, c) for c in named]
    return Session(
        data=data,
        earlier=earlier,
        report=Report(output_dir, cycle),
        min_cell_count=int(min_cell_count),
        data_dir=data_dir,
        output_dir=output_dir,
    )
