"""Rejecting workbook bombs (issue 13): seconds and peak memory to load a cycle holding
one bomb beside one good return, each in a fresh process, so that its peak resident
memory (its own and its children's, the workbook reader's included) is that load's.

The bombs are issue 13's, built here in a temporary folder (never committed):

* ``strings``: a string table declaring two billion strings (the reader would reserve
  48 GB);
* ``xfd``: cells at A1 and XFD1048576 (549 GB), with the sheet's true ``<dimension>``;
* ``xfd_undeclared``, ``cv_undeclared``, ``z_undeclared``: cells at A1 and XFD1048576,
  CV1048576 (4.3 GB) or Z1000000 (1.2 GB) with no ``<dimension>``: only reading finds
  them, in the child process, under its memory budget;
* ``rows``: a zip of 3 MB holding 10 million rows (about 1.1 GB of XML);
* ``rejected_rows`` (issue 22): a bulk CSV of one million rows, every one rejected (an
  unknown rating): the rejection log keeps the first rows of each file and code and
  counts the rest, so memory stays bounded.

``hostile.baseline_*`` is the same cycle with the good return alone: what loading costs
in a fresh process (pandera's first call, the workbook reader starting) without a bomb.

``python -m bench.hostile`` prints the figures; ``make bench`` adds them to its results.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BOMBS = (
    "strings",
    "xfd",
    "xfd_undeclared",
    "cv_undeclared",
    "z_undeclared",
    "rows",
    "rejected_rows",
)
REJECTED_ROWS = 1_000_000
# A bomb must be refused well within the memory the tests allow (1 GB).
TARGET_PEAK_MB = 1024.0
REPEATS = 3  # fresh processes per bomb: the median of their seconds, the most memory


def _test_builders() -> None:
    """Make the bomb and cycle builders the tests use importable, when first needed."""
    if str(ROOT / "tests") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests"))


def build(name: str, path: Path) -> Path:
    _test_builders()
    from bombs import far_cells, rows_bomb, strings_bomb

    if name == "strings":
        return strings_bomb(path)
    if name == "rows":
        return rows_bomb(path)
    if name == "rejected_rows":
        path = path.with_suffix(".csv")
        with path.open("w", encoding="utf-8") as fh:
            fh.write("agency,case_id,standard,rating,evidence\n")
            for i in range(REJECTED_ROWS):
                fh.write(f"WMP,C02,{i % 24 + 1},TBC{i % 7},evidence of row {i}\n")
        return path
    corner = {"xfd": "XFD1048576", "cv": "CV1048576", "z": "Z1000000"}[name.split("_")[0]]
    return far_cells(path, corner, declare=not name.endswith("_undeclared"))


def _cycle(root: Path, name: str) -> Path:
    _test_builders()
    from conftest import write_cases, write_toolkit

    folder = root / name / "2018-19"
    write_cases(folder)
    write_toolkit(folder / "returns" / "good.xlsx", [(1, "met", "seen"), (2, "unmet", None)])
    if name != "baseline":
        build(name, folder / "returns" / "bomb.xlsx")
    return folder


def _one(folder: str) -> None:
    """In a fresh process: load the cycle, print seconds, peak MiB and the bomb's reason."""
    from audit_analysis import load_cycle

    start = time.perf_counter()
    data = load_cycle(Path(folder).parent, "2018-19")
    seconds = time.perf_counter() - start
    peak_kb = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    bomb = data.rejections["source_file"].str.startswith("returns/bomb.")
    reasons = data.rejections.loc[bomb, "reason"]
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_mb": peak_kb / 1024,
                "ratings": len(data.ratings),
                "reason": reasons.iloc[0] if len(reasons) else None,
            }
        )
    )


def measure(names: tuple[str, ...] = BOMBS, say=print) -> dict[str, object]:
    """``hostile.<bomb>_seconds`` and ``hostile.<bomb>_peak_rss_mb`` for each bomb, and
    the same for the cycle without a bomb (``baseline``)."""
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="audit-bombs-") as tmp:
        for name in ("baseline", *names):
            say(
                f"  building and rejecting the {name} bomb ..."
                if name != "baseline"
                else "  loading the good return alone ..."
            )
            folder = _cycle(Path(tmp), name)
            bomb = next((folder / "returns").glob("bomb.*"), None)
            size = bomb.stat().st_size if bomb is not None else 0
            runs = []
            for _ in range(REPEATS):
                done = subprocess.run(
                    [sys.executable, "-m", "bench.hostile", "one", str(folder)],
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                    check=False,
                )
                if done.returncode != 0:
                    raise RuntimeError(f"loading the {name} bomb failed:\n{done.stderr}")
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            got = {
                **runs[0],
                "seconds": statistics.median(r["seconds"] for r in runs),
                "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            }
            if got["ratings"] != 2 or (name != "baseline") != bool(got["reason"]):
                raise RuntimeError(f"the {name} bomb was not rejected beside a good return")
            if name == "baseline":
                out["hostile.baseline_seconds"] = got["seconds"]
                out["hostile.baseline_peak_rss_mb"] = got["peak_rss_mb"]
                continue
            out[f"hostile.{name}_bytes"] = size
            out[f"hostile.{name}_seconds"] = got["seconds"]
            out[f"hostile.{name}_peak_rss_mb"] = got["peak_rss_mb"]
            say(f"    {size:,} bytes: {got['reason']}")
    return out


def targets(names: tuple[str, ...] = BOMBS) -> dict[str, tuple[str, float]]:
    return {f"hostile.{name}_peak_rss_mb": ("<", TARGET_PEAK_MB) for name in names}


if __name__ == "__main__":
    if sys.argv[1:2] == ["one"]:
        _one(sys.argv[2])
    else:
        chosen = tuple(sys.argv[1:]) or BOMBS
        figures = measure(chosen, say=lambda text: print(text, file=sys.stderr))
        print(json.dumps(figures, indent=2))
