"""The explorer's responsiveness (issue 12): time to first render and the time each
control change takes to redraw, on the demo data and on a national-size cycle.

Run as ``python -m bench.explore demo|national [rounds]`` in a fresh process (so the
first render pays what it pays in a new kernel: imports, loading, the first chart); it
prints one line of JSON. The explorer runs headless, with its ipywidgets controls: a
control change is a value set on a control, as a click in JupyterLab sets it, and a
redraw is everything until the view's tables, HTML and PNG chart are in the widgets
(the browser's own drawing is not counted).

* ``demo``: ``explorer("data/demo", "2018-19")``, compared with 2016-17 and 2017-18,
  loaded from the files.
* ``national``: 150 partnerships of the benchmark's shape pooled into each of three
  cycles (:func:`bench.inputs.national_ratings`: 12 agencies, 24 cases each, 1.04
  million ratings a cycle), built in memory; the first render counts from the
  ratings in memory to the first view drawn.

Each round walks every control and every view (:func:`changes`); the first round
includes first-time costs (a cycle prepared, the disagreement register built). Charts
are not kept between changes (``chart_cache=0``), so a selection seen before is drawn
again: the figures are those of a new selection each time.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPORTS = ROOT / "outputs" / "bench" / "explore"  # nothing is exported; never data/

TARGETS = {
    "explore.demo_redraw_median_seconds": ("<=", 0.5),
    "explore.demo_redraw_worst_seconds": ("<=", 2.0),
    "explore.national_redraw_median_seconds": ("<=", 0.5),
    "explore.national_redraw_worst_seconds": ("<=", 2.0),
    "explore.national_change_redraw_median_seconds": ("<=", 0.5),
    "explore.national_change_redraw_worst_seconds": ("<=", 2.0),
}
FIRST_CELL = object()  # the change view's first listed cell, whatever it is then


def changes(ex) -> list[tuple[str, object]]:
    """A walk through every control and every view, ending where it started (the
    change view's controls last: :func:`change_steps`)."""
    cycle = ex.state.cycle
    compare = ex.state.compare
    fw = ex.current.data.framework
    kloe = fw.kloes[min(2, len(fw.kloes) - 1)]
    standard = kloe.standards[0]
    agencies = ex.current.agencies
    return [
        ("agency", agencies[0]),
        ("priority", "neglect"),
        ("age_band", "11-15"),
        ("scope", f"kloe:{kloe.key}"),
        ("scope", f"standard:{standard.key}"),
        ("age_band", ""),
        ("priority", ""),
        ("view", "agencies"),
        ("agency", ""),
        ("scope", f"kloe:{kloe.key}"),
        ("view", "cycles"),
        ("like_for_like", False),
        ("compare", compare[-1:]),
        ("compare", compare),
        ("like_for_like", True),
        ("view", "cases"),
        ("sort_by", "share"),
        ("descending", True),
        ("sort_by", agencies[-1]),
        ("view", "case"),
        ("view", "disagreements"),
        ("agency", agencies[1 % len(agencies)]),
        ("scope", "all"),
        ("agency", ""),
        ("view", "summary"),
        ("cycle", compare[-1] if compare else cycle),
        ("cycle", cycle),
        ("compare", compare),
        *change_steps(ex),
    ]


def change_steps(ex) -> list[tuple[str, object]]:
    """The change view: against each earlier cycle, by agency and by theme, sorted,
    filtered to clear changes, a cell opened, a filter set and cleared."""
    before = [c for c in ex.cycles if c < ex.state.cycle]
    first = before[0] if before else ""
    return [
        ("view", "changes"),
        ("against", first),
        ("clear_only", True),
        ("cell", FIRST_CELL),
        ("order", "best"),
        ("priority", "neglect"),
        ("priority", ""),
        ("by", "priority"),
        ("cell", FIRST_CELL),
        ("agency", ex.current.agencies[0]),
        ("agency", ""),
        ("by", "agency"),
        ("order", "worst"),
        ("clear_only", False),
        ("against", before[-1] if before else ""),
        ("view", "summary"),
    ]


def walk(ex, rounds: int) -> tuple[list[float], list[float]]:
    """Every redraw's seconds, and those of the change view's among them."""
    samples, in_changes = [], []
    for _ in range(rounds):
        for name, value in changes(ex):
            control = ex.controls[name]
            if value is FIRST_CELL:
                cells = [v for _, v in control.options if v]
                if not cells:
                    continue
                value = cells[0]
            if control.value == value:
                continue
            start = time.perf_counter()
            control.value = value
            took = time.perf_counter() - start
            samples.append(took)
            if ex.state.view == "changes":
                in_changes.append(took)
    return samples, in_changes


def national_cycles_data(partnerships: int = 150, cycles: int = 3):
    from audit_analysis.io.dataset import CycleData

    from .inputs import national_ratings

    ratings, cases, chosen = national_ratings(partnerships=partnerships, cycles=cycles)
    out = {}
    for cycle, framework in chosen:
        part = ratings[(ratings["cycle"] == cycle).to_numpy()].reset_index(drop=True)
        cohort = cases[(cases["cycle"] == cycle).to_numpy()]
        cohort = cohort[["case_ref", "priority", "age"]].reset_index(drop=True)
        out[cycle] = CycleData(cycle, framework, part, cohort, None, None, None)
    return out, len(ratings)


def main(which: str = "demo", rounds: int = 3) -> dict:
    start = time.perf_counter()
    from audit_analysis import explore

    imported = time.perf_counter() - start
    rows = None
    if which == "national":
        data, rows = national_cycles_data()
        start = time.perf_counter()
        ex = explore.Explorer(data, max(data), export_dir=EXPORTS, chart_cache=0)
    else:
        start = time.perf_counter()
        ex = explore.explorer(ROOT / "data" / "demo", "2018-19", export_dir=EXPORTS, chart_cache=0)
    first = time.perf_counter() - start
    samples, in_changes = walk(ex, rounds)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "which": which,
        "rows": rows
        if rows is not None
        else sum(len(ex.cycle_data(c).data.ratings) for c in ex.cycles),
        "import_seconds": round(imported, 3),
        "first_render_seconds": round(first, 3),
        "redraw_median_seconds": round(statistics.median(samples), 4),
        "redraw_worst_seconds": round(max(samples), 4),
        "redraws": len(samples),
        "change_redraw_median_seconds": round(statistics.median(in_changes), 4),
        "change_redraw_worst_seconds": round(max(in_changes), 4),
        "change_redraws": len(in_changes),
        "samples": [round(s, 4) for s in samples],
        "peak_rss_mb": round(peak, 1),
    }


def measure(out: dict, samples: dict, rounds: int = 3) -> None:
    """Both scenarios, each in a fresh process; their figures into ``out`` (keys
    ``explore.*``) and their redraw times into ``samples``."""
    import subprocess

    for which in ("demo", "national"):
        done = subprocess.run(
            [sys.executable, "-m", "bench.explore", which, str(rounds)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        for key in ("import_seconds", "first_render_seconds", "redraw_median_seconds"):
            out[f"explore.{which}_{key}"] = result[key]
        out[f"explore.{which}_redraw_worst_seconds"] = result["redraw_worst_seconds"]
        out[f"explore.{which}_redraws"] = result["redraws"]
        for key in ("median", "worst"):  # the change view's redraws among them
            out[f"explore.{which}_change_redraw_{key}_seconds"] = result[
                f"change_redraw_{key}_seconds"
            ]
        if which == "national":
            out["explore.national_rows"] = result["rows"]
            out["explore.national_peak_rss_mb"] = result["peak_rss_mb"]
        samples[f"explore.{which}"] = result["samples"]


if __name__ == "__main__":
    args = sys.argv[1:]
    print(json.dumps(main(args[0] if args else "demo", int(args[1]) if len(args) > 1 else 3)))
