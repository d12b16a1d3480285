"""``python -m bench`` (``make bench``): speed, memory and scale, each measured in the
same run as its floor or its obvious alternative, medians of repeats after a warm-up.

Prints a table (key, value, target, pass or miss), writes ``outputs/bench/results.json``
and, from it, ``docs/performance.md`` (:mod:`bench.page`). Inputs are written to a
temporary folder and removed; nothing under ``data/`` is touched. Targets live here,
never in timed tests.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from . import annual, calibration, hostile, lab, measure
from . import explore as explore_bench
from .inputs import write_cycle
from .page import shown as _shown
from .page import write as write_page

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "outputs" / "bench" / "results.json"

# key: (comparison, target). Each is a promise to the partnerships, measured here only.
TARGETS = {
    "load.ratio_to_floor": ("<=", 1.5),
    "load.speedup_vs_naive": (">=", 5.0),
    "agreement.speedup_vs_naive": (">=", 1.0),
    "run.ratio_to_floor": ("<=", 2.0),
    "run.speedup_vs_naive": (">=", 1.5),
    "scale.seconds": ("<", 60.0),
    "scale.peak_rss_mb": ("<", 3072.0),
    # calibration (bench/calibration.py): nominal 5% false verdicts, 95% coverage
    "calibration.false_standard": ("<=", 0.07),
    "calibration.false_kloe": ("<=", 0.07),
    "calibration.false_overall": ("<=", 0.07),
    "calibration.coverage_standard": (">=", 0.93),
    "calibration.coverage_kloe": (">=", 0.93),
    "calibration.coverage_overall": (">=", 0.93),
    "calibration.detect_kloe": (">=", 0.75),  # power at +1 logit on the base design
    # the harder designs of issue 20 (bench/calibration.py HARDER): the same targets
    **{
        f"calibration.{name}.{what}_{level}": target
        for name in ("few_cases", "high_share", "unbalanced", "case_mix")
        for level in ("standard", "kloe", "overall")
        for what, target in (("false", ("<=", 0.07)), ("coverage", (">=", 0.93)))
    },
    # calibration.shared_drift.*: reported with no target; no method on these data can
    # tell every auditor growing more lenient from better practice
    # planning (analysis/planning.py): detection at the stated minimum detectable change
    "calibration.mdc_detected_worst": (">=", 0.72),
    **hostile.targets(),
    **explore_bench.TARGETS,  # the explorer's redraws (bench/explore.py)
    **lab.TARGETS,  # its cold first render in JupyterLab (bench/lab.py)
}


def _machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = round(pages / 1024**3, 1)
    except (ValueError, OSError):
        pass
    versions = {}
    for name in ("pandas", "numpy", "python-calamine", "openpyxl", "matplotlib", "papermill"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": memory,
        "load_average_at_start": list(os.getloadavg()),
        "versions": versions,
    }


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def measure_calibration(args: argparse.Namespace, out: dict) -> None:
    """False verdicts, coverage and detection on simulated pairs of cycles, and what
    the case-level inference costs the annual run's analyses."""
    pairs = args.calibration_pairs
    _say(f"calibration: {pairs} simulated pairs of cycles x 3 base scenarios ...")
    null = calibration.run(calibration.NULL, pairs)
    drift = calibration.run(calibration.DRIFT, pairs)
    better = calibration.run(calibration.IMPROVED, pairs)
    out["calibration.pairs"] = pairs
    for level in ("standard", "kloe", "overall"):
        out[f"calibration.false_{level}"] = null[f"false_{level}"]
    out["calibration.false_standard_unadjusted"] = null["false_standard_unadjusted"]
    for level in ("standard", "kloe", "overall"):
        out[f"calibration.false_{level}_ratings_as_units"] = null[f"false_{level}_ratings_as_units"]
    for level in ("standard", "kloe", "overall"):
        out[f"calibration.drift_false_{level}"] = drift[f"false_{level}"]
    for level in ("standard", "kloe", "overall"):
        out[f"calibration.coverage_{level}"] = null[f"coverage_{level}"]
    for level in ("standard", "kloe", "overall"):
        out[f"calibration.detect_{level}"] = better[f"detect_{level}"]
    hard_pairs = args.calibration_hard_pairs
    _say(f"calibration: {hard_pairs} pairs x {len(calibration.HARDER)} harder designs x 2 ...")
    for name, scenario in calibration.HARDER.items():
        null_hard = calibration.run(scenario, hard_pairs)
        changed = calibration.run(dataclasses.replace(scenario, change=1.0), hard_pairs)
        out[f"calibration.{name}.pairs"] = hard_pairs
        for level in ("standard", "kloe", "overall"):
            out[f"calibration.{name}.false_{level}"] = null_hard[f"false_{level}"]
            out[f"calibration.{name}.false_{level}_crude"] = null_hard[f"false_{level}_crude"]
            out[f"calibration.{name}.coverage_{level}"] = null_hard[f"coverage_{level}"]
            out[f"calibration.{name}.detect_{level}"] = changed[f"detect_{level}"]
    shared = calibration.run(calibration.SHARED_DRIFT, hard_pairs)
    out["calibration.shared_drift.pairs"] = hard_pairs
    for level in ("standard", "kloe", "overall"):
        out[f"calibration.shared_drift.false_{level}"] = shared[f"false_{level}"]
        out[f"calibration.shared_drift.coverage_{level}"] = shared[f"coverage_{level}"]
    detected = []
    for i, design in enumerate(calibration.MDC_DESIGNS):
        got = calibration.mdc_detection(*design, pairs=2000, seed=100 + i)
        cases, ratings, share, rho = design
        key = f"calibration.mdc_detected.{cases}cases_{ratings}ratings_{share:g}_{rho:g}"
        out[key] = got["detected"]
        detected.append(got["detected"])
    out["calibration.mdc_detected_worst"] = min(detected)
    cost = calibration.inference_seconds(ROOT / "data" / "demo", "2018-19", ["2016-17", "2017-18"])
    out["calibration.inference_seconds"] = cost["inference_seconds"]
    out["calibration.analyses_seconds"] = cost["analyses_seconds"]


def measure_explore(args: argparse.Namespace, out: dict, samples: dict) -> None:
    """The explorer: first render and redraws after each control change, on the demo
    and on a national-size cycle, each in a fresh process."""
    _say(f"explorer: demo and national, {args.explore_rounds} rounds of control changes ...")
    explore_bench.measure(out, samples, args.explore_rounds)
    _say("explorer: cold first render in JupyterLab, in Chromium ...")
    done = subprocess.run(
        [sys.executable, "-m", "bench.lab", str(args.lab_rounds)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    cold = json.loads(done.stdout.strip().splitlines()[-1])
    if "skipped" in cold:  # no JupyterLab or Chromium here: said, not counted
        _say(f"  skipped: {cold['skipped']}")
        return
    out["explore.cold_first_render_seconds"] = cold["cold_first_render_seconds"]
    samples["explore.cold_first_render"] = cold["rounds"]


def measure_load(args: argparse.Namespace, out: dict, samples: dict, written) -> None:
    """Loading the benchmark's cycle against the calamine floor, interleaved in this
    process, and against the naive loop."""
    files = len(written.workbooks) + 1
    _say(f"loading: suite and floor x{args.repeats}, naive x{args.naive_repeats} ...")
    timing = measure.interleaved(
        {
            "suite": measure.load_suite(written),
            "floor": measure.load_floor(written),
        },
        args.repeats,
    )
    naive = measure.timed(measure.load_naive(written), args.naive_repeats)
    load, floor, slow = (measure.median(s) for s in (*timing.values(), naive))
    samples.update({"load": timing["suite"], "load.floor": timing["floor"]})
    samples["load.naive"] = naive
    out.update(
        {
            "load.files": files,
            "load.ratings": written.ratings,
            "load.seconds": load,
            "load.ms_per_file": load * 1000 / files,
            "load.floor_ms_per_file": floor * 1000 / files,
            "load.ratio_to_floor": load / floor,
            "load.naive_ms_per_file": slow * 1000 / files,
            "load.speedup_vs_naive": slow / load,
        }
    )


def run(args: argparse.Namespace) -> dict:
    out: dict[str, object] = {}
    samples: dict[str, list[float]] = {}
    if args.only_calibration:
        measure_calibration(args, out)
        return {"metrics": out, "samples": samples}
    if args.only_explore:
        measure_explore(args, out, samples)
        return {"metrics": out, "samples": samples}
    with tempfile.TemporaryDirectory(prefix="audit-bench-") as tmp:
        tmp_path = Path(tmp)
        _say("writing 288 toolkit workbooks and a bulk table of the same size ...")
        written = write_cycle(tmp_path / "data")

        measure_load(args, out, samples, written)
        if args.only_load:
            return {"metrics": out, "samples": samples}

        _say(f"agreement: suite x{args.repeats}, naive x{args.naive_repeats} ...")
        ratings, framework = measure.agreement_inputs(written)
        ours = measure.timed(measure.agreement_suite(ratings, framework), args.repeats)
        theirs = measure.timed(measure.agreement_naive(ratings), args.naive_repeats)
        samples.update({"agreement": ours, "agreement.naive": theirs})
        out.update(
            {
                "agreement.standards": len(framework.standards),
                "agreement.seconds": measure.median(ours),
                "agreement.naive_seconds": measure.median(theirs),
                "agreement.speedup_vs_naive": measure.median(theirs) / measure.median(ours),
            }
        )

        _say(
            f"annual run on the demo: warm-up, then floor, run and naive x{args.run_repeats}, "
            "interleaved (about a minute and a half a round) ..."
        )
        annual.time_run(tmp_path / "warm")  # warms what all three use: files, kernels
        rounds: dict[str, list[float]] = {
            "run": [],
            "run.floor": [],
            "run.naive": [],
            "run.unforked": [],
        }
        for i in range(args.run_repeats):
            rounds["run.floor"].append(annual.time_floor())
            rounds["run"].append(annual.time_run(tmp_path / "run"))
            rounds["run.naive"].append(annual.time_naive(tmp_path / "naive"))
            rounds["run.unforked"].append(annual.time_run(tmp_path / "unforked", fork=False))
            _say(f"  round {i + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in rounds.items()))
        samples.update(rounds)
        seconds, floor, slow, unforked = (measure.median(rounds[k]) for k in rounds)
        out.update(
            {
                "run.workers": annual.workers(),
                "run.seconds": seconds,
                "run.floor_seconds": floor,
                "run.ratio_to_floor": seconds / floor,
                "run.naive_seconds": slow,
                "run.speedup_vs_naive": slow / seconds,
                "run.unforked_seconds": unforked,
                "run.unforked_ratio_to_floor": unforked / floor,
            }
        )

    _say(f"national scale: {args.partnerships} partnerships x {args.cycles} cycles ...")
    done = subprocess.run(
        [sys.executable, "-m", "bench.scale", str(args.partnerships), str(args.cycles)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    scale = json.loads(done.stdout.strip().splitlines()[-1])
    out.update(
        {
            "scale.partnerships": scale["partnerships"],
            "scale.cycles": scale["cycles"],
            "scale.rows": scale["rows"],
            "scale.seconds": scale["seconds"],
            "scale.peak_rss_mb": scale["peak_rss_mb"],
        }
    )
    _say("workbook bombs: each rejected beside a good return, in a fresh process ...")
    out.update(hostile.measure(say=_say))
    measure_calibration(args, out)
    measure_explore(args, out, samples)
    return {"metrics": out, "samples": samples}


def _passes(value: float, op: str, target: float) -> bool:
    return {"<=": value <= target, ">=": value >= target, "<": value < target}[op]


def table(metrics: dict, verdicts: dict) -> str:
    rows = [("key", "value", "target", "")]
    for key, value in metrics.items():
        op, target = TARGETS.get(key, ("", None))
        goal = "" if target is None else f"{op} {target:g}"
        verdict = "" if key not in verdicts else ("pass" if verdicts[key] else "MISS")
        rows.append((key, _shown(key, value), goal, verdict))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for i, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--repeats", type=int, default=7, help="loading, agreement (7)")
    parser.add_argument("--naive-repeats", type=int, default=3, help="their baselines (3)")
    parser.add_argument("--run-repeats", type=int, default=3, help="annual run rounds (3)")
    parser.add_argument("--partnerships", type=int, default=150)
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--calibration-pairs", type=int, default=400)
    parser.add_argument(
        "--calibration-hard-pairs",
        type=int,
        default=200,
        help="pairs per harder calibration design (200)",
    )
    parser.add_argument(
        "--only-calibration", action="store_true", help="run the calibration section alone"
    )
    parser.add_argument("--only-load", action="store_true", help="run the loading section alone")
    parser.add_argument("--explore-rounds", type=int, default=3, help="explorer walks (3)")
    parser.add_argument(
        "--lab-rounds", type=int, default=5, help="cold first renders in JupyterLab (5)"
    )
    parser.add_argument(
        "--only-explore", action="store_true", help="run the explorer section alone"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    machine = _machine()
    measured = run(args)
    metrics = measured["metrics"]
    verdicts = {
        key: _passes(metrics[key], op, target)
        for key, (op, target) in TARGETS.items()
        if key in metrics
    }
    machine["load_average_at_end"] = list(os.getloadavg())
    result = {
        **metrics,
        "targets": {key: {"op": op, "value": value} for key, (op, value) in TARGETS.items()},
        "pass": verdicts,
        "date": when,
        "machine": machine,
        "repeats": {
            "loading_and_agreement": args.repeats,
            "naive_loading_and_agreement": args.naive_repeats,
            "annual_run_rounds": args.run_repeats,
        },
        "samples_seconds": {k: [round(v, 4) for v in s] for k, s in measured["samples"].items()},
        "bench_seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(table(metrics, verdicts))
    if args.out == RESULTS and not (args.only_calibration or args.only_explore or args.only_load):
        # docs/performance.md shows a full run's figures, never a partial one
        print(f"docs page written to {write_page(result)}")
    missed = [key for key, ok in verdicts.items() if not ok]
    print(
        f"\n{len(verdicts) - len(missed)} of {len(verdicts)} targets met"
        + (f"; missed: {', '.join(missed)}" if missed else "")
        + f". {result['bench_seconds']:.0f} s in all. Written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
