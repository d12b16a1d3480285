"""The annual run against its floor and its obvious alternative, each a fresh process.

* ``run``: ``audit-analysis run`` on the demo cycle, as a user types it. Its kernels are
  forked from workers that imported the notebooks' modules once
  (:mod:`audit_analysis.pipeline.kernels`); ``run.unforked`` is the same run with each
  kernel started as a new process, as the floor starts them.
* ``floor``: the same run's fixed costs and nothing else: one kernel per notebook, started
  the way papermill starts it (jupyter_client), running only the notebook's own import
  statements, then shut down; as many at a time as ``audit-analysis run`` uses workers
  (``min(notebooks, cores)``). No data is loaded, no cell of analysis runs, no file is
  written. Run as ``python -m bench.annual floor`` so it pays interpreter start-up as
  the command does, and imports nothing of the suite itself: the notebooks' import
  statements come on its standard input.
* ``naive``: what an analyst would script: for each notebook, the ``papermill`` command
  line, then ``jupyter nbconvert --to html``, one after another.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

BIN = Path(sys.executable).parent
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO = PROJECT_ROOT / "data" / "demo"
CYCLE = "2018-19"
COMPARE = ("2016-17", "2017-18")


def notebooks() -> list[Path]:
    """The annual run's notebooks, in its order."""
    from audit_analysis.pipeline.runner import NOTEBOOK_DIR, NOTEBOOKS

    return [NOTEBOOK_DIR / f"{spec.stem}.ipynb" for spec in NOTEBOOKS]


def workers() -> int:
    """What ``audit-analysis run`` uses by default."""
    return min(len(notebooks()), os.cpu_count() or 1)


def notebook_imports(path: Path) -> str:
    """Every ``import`` statement of a notebook's code cells, in order, as one cell
    (what the run's workers import before forking its kernels)."""
    from audit_analysis.pipeline.kernels import notebook_imports as imports

    return "\n".join(imports(path))


def _kernel_imports(code: str) -> None:
    """In a worker: start a kernel, run ``code`` in it, stop it."""
    from jupyter_client.manager import start_new_kernel

    os.environ.setdefault("MPLBACKEND", "Agg")
    km, kc = start_new_kernel(kernel_name="python3", stderr=subprocess.DEVNULL)
    try:
        reply = kc.execute_interactive(code, timeout=600, output_hook=lambda msg: None)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"the floor's imports failed: {reply['content']}")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def floor(codes: list[str], parallel: int) -> None:
    with ProcessPoolExecutor(max_workers=parallel) as pool:
        list(pool.map(_kernel_imports, codes))


def _timed(
    command: list[str],
    cwd: Path | None = None,
    ok: tuple[int, ...] = (0,),
    env: dict[str, str] | None = None,
) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, check=False, cwd=cwd, capture_output=True, env=env)
    if done.returncode not in ok:
        raise subprocess.CalledProcessError(done.returncode, command, done.stdout, done.stderr)
    return time.perf_counter() - start


def time_floor() -> float:
    codes = json.dumps([notebook_imports(path) for path in notebooks()])
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bench.annual", "floor", str(workers())],
        check=True,
        cwd=PROJECT_ROOT,
        input=codes,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - start


def time_run(out: Path, fork: bool = True) -> float:
    """``audit-analysis run`` as a user types it; with ``fork=False``, each kernel started
    as a new process (``AUDIT_ANALYSIS_FORK_KERNELS=0``), the way the floor starts them."""
    from audit_analysis.pipeline.kernels import FORK_ENV

    shutil.rmtree(out, ignore_errors=True)
    command = [str(BIN / "audit-analysis"), "run", "--data", str(DEMO), "--cycle", CYCLE]
    env = None if fork else {**os.environ, FORK_ENV: "0"}
    # the demo's 2018-19 has rejections on purpose: exit status 3, outputs written
    return _timed([*command, "--out", str(out), "--quiet"], ok=(0, 3), env=env)


def time_naive(out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    start = time.perf_counter()
    for source in notebooks():
        target = out / source.name
        subprocess.run(
            [
                str(BIN / "papermill"),
                str(source),
                str(target),
                "-p",
                "data_dir",
                str(DEMO),
                "-p",
                "cycle",
                CYCLE,
                "-p",
                "output_dir",
                str(out),
                "-y",
                f"compare_cycles: [{', '.join(COMPARE)}]",
                "-p",
                "min_cell_count",
                "5",
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [str(BIN / "jupyter"), "nbconvert", "--to", "html", str(target)],
            check=True,
            capture_output=True,
        )
    return time.perf_counter() - start


if __name__ == "__main__" and sys.argv[1:2] == ["floor"]:
    floor(json.loads(sys.stdin.read()), int(sys.argv[2]))
